//! What a configuration node refers to: the declarations named by the references in its
//! `${...}` templates. The declaration graph, provider settings and `--target` all read
//! references through this one function.

use plinth_config::{Loc, Node};

use crate::addr::DeclKind;

/// Declarations a node refers to.
pub fn node_refs(node: &Node) -> Vec<((DeclKind, String), Loc)> {
    use plinth_expr::RefStep;
    let mut out = Vec::new();
    for f in node.references() {
        let r = f.reference;
        match r.root.as_str() {
            "var" | "env" | "each" => {}
            "data" => {
                if let Some(RefStep::Attr { name, .. }) = r.steps.first() {
                    out.push(((DeclKind::Data, name.clone()), f.loc.clone()));
                }
            }
            name => out.push(((DeclKind::Resource, name.to_string()), f.loc.clone())),
        }
    }
    out
}
