//! The body of a `[module.NAME]` table: its meta-arguments (`source`, `for_each`, `count`,
//! `depends_on`, `providers`); every other key is one of the module's input variables.
//!
//! Only the call is decoded here; `load` reads the module it names (and fills in
//! [`ModuleCall::module`] and [`ModuleCall::dir`]), then checks the inputs against the
//! module's variables.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Decoder, is_identifier, sanitize};
use crate::decl::*;
use crate::diag::Diagnostic;
use crate::node::Node;
use crate::source::Loc;
use crate::syntax::{interpolated_key, is_template_text};
impl Decoder<'_> {
    pub(super) fn module_call(
        &mut self,
        name: String,
        loc: Loc,
        t: &DeTable<'_>,
    ) -> Option<ModuleCall> {
        let mut source: Option<(String, Loc)> = None;
        let mut source_given = false;
        let mut for_each: Option<(Node, Loc)> = None;
        let mut count: Option<(Node, Loc)> = None;
        let mut depends_on = Vec::new();
        let mut providers = Vec::new();
        let mut inputs = Vec::new();
        let mut ok = true;
        for (k, v) in t {
            let kloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "source" => {
                    source_given = true;
                    source = self.module_source(&name, v);
                }
                "for_each" => for_each = Some((self.node(v), kloc)),
                "count" => count = Some((self.node(v), kloc)),
                "depends_on" => match self.addr_list(v, "`depends_on`") {
                    Some(list) => depends_on = list,
                    None => ok = false,
                },
                "providers" => match self.module_providers(&name, v, &kloc) {
                    Some(p) => providers = p,
                    None => ok = false,
                },
                key => {
                    if let Some(d) = interpolated_key(key, &kloc) {
                        self.err(d);
                        ok = false;
                        continue;
                    }
                    let node = self.node(v);
                    inputs.push((key.to_string(), kloc, node));
                }
            }
        }
        ok &= self.count_or_for_each(
            &format!("module `{name}`"),
            "a module call",
            "module.NAME",
            &count,
            &for_each,
        );
        let Some((source, source_loc)) = source else {
            if !source_given {
                self.err(
                    Diagnostic::at(format!("module `{name}` has no `source`"), loc)
                        .label("missing `source`")
                        .help(format!(
                            "add the module's directory, e.g. `source = \"./modules/{}\"` (a path relative to this file's directory), or a git source such as `source = \"git::https://host/org/repo.git//path?ref=v1.0.0\"`",
                            sanitize(&name)
                        )),
                );
            }
            return None;
        };
        ok.then(|| ModuleCall {
            name,
            loc,
            source,
            source_loc,
            inputs,
            for_each: for_each.map(|(n, _)| n),
            count: count.map(|(n, _)| n),
            depends_on,
            providers,
            module: Default::default(),
            dir: Default::default(),
        })
    }

    /// `source = "..."`: a literal, non-empty string (modules are loaded before anything is
    /// evaluated).
    fn module_source(&mut self, name: &str, v: &Spanned<DeValue<'_>>) -> Option<(String, Loc)> {
        let vloc = self.loc(v.span());
        let s = self.string_value(v, &format!("the `source` of module `{name}`"))?;
        if s.trim().is_empty() {
            self.err(
                Diagnostic::at(format!("the `source` of module `{name}` is empty"), vloc)
                    .label("expected a path or a git source")
                    .help("write the module's directory relative to this file's directory, e.g. source = \"./modules/app\""),
            );
            return None;
        }
        if is_template_text(&s) {
            self.err(
                Diagnostic::at(
                    format!("the `source` of module `{name}` cannot contain `${{...}}`"),
                    vloc,
                )
                .label("expected a literal path")
                .help("modules are read before anything is evaluated: write the path itself, e.g. source = \"./modules/app\"; to vary what a module does, give it input variables"),
            );
            return None;
        }
        Some((s, vloc))
    }

    /// `providers = { NAME = { ... } }` (usually written `[module.CALL.providers.NAME]`):
    /// each entry a provider's settings table.
    fn module_providers(
        &mut self,
        call: &str,
        v: &Spanned<DeValue<'_>>,
        kloc: &Loc,
    ) -> Option<Vec<ProviderDecl>> {
        let t = self.expect_table(v, &format!("[module.{call}.providers]"), kloc)?;
        let mut out = Vec::new();
        let mut ok = true;
        for (pname, body) in t {
            let ploc = self.loc(pname.span());
            let n = pname.get_ref().as_ref().to_string();
            if !is_identifier(&n) {
                self.err(
                    Diagnostic::at(format!("`{n}` is not a valid provider name"), ploc)
                        .label("expected a name of letters, digits, `_` and `-`, starting with a letter")
                        .help("name a provider's settings table as the root's [provider.NAME] does, e.g. [module.app.providers.kubernetes]"),
                );
                ok = false;
                continue;
            }
            let what = format!("[module.{call}.providers.{n}]");
            let Some(body) = self.expect_table(body, &what, &ploc) else {
                ok = false;
                continue;
            };
            let config = self.table_node(body, ploc.clone());
            out.push(ProviderDecl {
                name: n,
                loc: ploc,
                config,
            });
        }
        ok.then_some(out)
    }
}
