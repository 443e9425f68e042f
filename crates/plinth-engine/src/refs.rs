//! What a configuration node refers to: the declarations named by the references in its
//! `${...}` templates. The declaration graph, provider settings and `--target` all read
//! references through this one function.

use plinth_config::{Loc, Node};

use crate::addr::AddrKind;

/// Declarations a node refers to.
pub fn node_refs(node: &Node) -> Vec<((AddrKind, String), Loc)> {
    use plinth_expr::RefStep;
    let mut out = Vec::new();
    for f in node.references() {
        let r = f.reference;
        match r.root.as_str() {
            "var" | "env" | "each" => {}
            "data" => {
                if let Some(RefStep::Attr { name, .. }) = r.steps.first() {
                    out.push(((AddrKind::Data, name.clone()), f.loc.clone()));
                }
            }
            name => out.push(((AddrKind::Managed, name.to_string()), f.loc.clone())),
        }
    }
    out
}
