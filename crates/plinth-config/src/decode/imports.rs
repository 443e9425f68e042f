//! `[[import]]`: an array of tables, each adopting an existing object at a resource instance
//! address: `to` (with `for_each`, its key may be an expression: `app[each.key]`), `id` (a
//! template: it may use variables, locals and `each`), optional `type` (`PROVIDER:TYPE`, to
//! generate configuration for an undeclared `to`) and optional `for_each`.
//!
//! Only the shape is checked here (keys, kinds of values); what `to` names, whether `type`
//! matches and what the id evaluates to are the engine's `validate` and plan.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Decoder;
use crate::decl::*;
use crate::diag::Diagnostic;
use crate::source::Loc;

const IMPORT_KEYS: &[&str] = &["to", "id", "type", "for_each"];

const EXAMPLE: &str = "[[import]]\nto = \"rg\"\nid = \"/subscriptions/.../resourceGroups/NAME\"";

impl Decoder<'_> {
    /// The value of the top-level `import` key: an array of tables.
    pub(super) fn imports(&mut self, value: &Spanned<DeValue<'_>>, kloc: Loc, config: &mut Config) {
        let item_help = format!("write it as an [[import]] table, e.g.\n{EXAMPLE}");
        let tables = self.array_of_tables(value, &kloc, "import", ("import", EXAMPLE, &item_help));
        for (t, iloc) in tables {
            if let Some(i) = self.import(t, iloc) {
                config.imports.push(i);
            }
        }
    }

    fn import(&mut self, t: &DeTable<'_>, loc: Loc) -> Option<ImportDecl> {
        let mut to = None;
        let mut id = None;
        let mut type_name = None;
        let mut for_each = None;
        let mut ok = true;
        for (k, v) in t {
            let kloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "to" => match v.get_ref() {
                    DeValue::String(s) if !s.trim().is_empty() => {
                        to = Some(AddrRef {
                            text: s.to_string(),
                            loc: self.loc(v.span()),
                        })
                    }
                    other => {
                        self.err(
                            Diagnostic::at(
                                format!(
                                    "`to` of an [[import]] block must be a resource address, found {}",
                                    if matches!(other, DeValue::String(_)) {
                                        "an empty string"
                                    } else {
                                        other.type_str()
                                    }
                                ),
                                self.loc(v.span()),
                            )
                            .label("expected an address in quotes")
                            .help("name the resource instance to adopt the object as, e.g. to = \"rg\" or to = \"app[\\\"blue\\\"]\""),
                        );
                        ok = false;
                    }
                },
                "id" => {
                    let node = self.node(v);
                    if !matches!(v.get_ref(), DeValue::String(_)) {
                        self.err(
                            Diagnostic::at(
                                format!(
                                    "`id` of an [[import]] block must be a string, found {}",
                                    v.get_ref().type_str()
                                ),
                                node.loc.clone(),
                            )
                            .label("expected the object's id in quotes")
                            .help("give the provider id of the existing object, e.g. an ARM id \"/subscriptions/.../resourceGroups/NAME\" or a Kubernetes id \"v1/ServiceAccount/default/NAME\""),
                        );
                        ok = false;
                    }
                    id = Some(node);
                }
                "type" => match self.string_value(v, "`type` of an [[import]] block") {
                    Some(s) => type_name = Some((s, self.loc(v.span()))),
                    None => ok = false,
                },
                "for_each" => for_each = Some(self.node(v)),
                other => {
                    self.unknown_key(other, kloc, IMPORT_KEYS, "an [[import]] block");
                    ok = false;
                }
            }
        }
        let missing: Vec<&str> = [("to", !t.contains_key("to")), ("id", !t.contains_key("id"))]
            .into_iter()
            .filter(|(_, absent)| *absent)
            .map(|(key, _)| key)
            .collect();
        if !missing.is_empty() {
            let keys = missing
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" and ");
            self.err(
                Diagnostic::at(format!("an [[import]] block has no {keys}"), loc.clone())
                    .label(format!("missing {keys}"))
                    .help(format!(
                        "an import names the address to adopt the object as and the object's id, e.g.\n{EXAMPLE}"
                    )),
            );
            return None;
        }
        match (to, id) {
            (Some(to), Some(id)) if ok => Some(ImportDecl {
                loc,
                to,
                id,
                type_name,
                for_each,
            }),
            _ => None,
        }
    }
}
