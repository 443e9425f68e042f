//! Conditions and checks: `precondition = [...]` / `postcondition = [...]` lists (in a
//! resource's or data source's `lifecycle`, and `precondition` in an output's), each item a
//! `{ condition, message }` table, and `[check.NAME]` blocks (`assert = [...]` and scoped
//! `[check.NAME.data.READ]` data sources).

use plinth_addr::DeclKind;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Decoder, is_identifier};
use crate::decl::*;
use crate::diag::Diagnostic;
use crate::node::NodeKind;
use crate::source::Loc;

/// The keys of one condition.
const CONDITION_KEYS: &[&str] = &["condition", "message"];

impl Decoder<'_> {
    /// A list of `{ condition, message }` tables: `what` names it in messages
    /// (`precondition`, `assert`). `None` after reporting a problem.
    pub(super) fn conditions(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        what: &str,
    ) -> Option<Vec<Condition>> {
        let example = format!(
            "{what} = [{{ condition = \"${{var.replicas > 0}}\", message = \"at least one replica\" }}]"
        );
        let DeValue::Array(items) = v.get_ref() else {
            self.err(
                Diagnostic::at(
                    format!(
                        "`{what}` must be a list of {{ condition, message }} tables, found {}",
                        v.get_ref().type_str()
                    ),
                    self.loc(v.span()),
                )
                .label("expected a list")
                .help(format!("write {example}")),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match self.condition(item, what, &example) {
                Some(c) => out.push(c),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn condition(
        &mut self,
        item: &Spanned<DeValue<'_>>,
        what: &str,
        example: &str,
    ) -> Option<Condition> {
        let loc = self.loc(item.span());
        let DeValue::Table(t) = item.get_ref() else {
            self.err(
                Diagnostic::at(
                    format!(
                        "each `{what}` item must be a {{ condition, message }} table, found {}",
                        item.get_ref().type_str()
                    ),
                    loc,
                )
                .label("expected { condition = ..., message = ... }")
                .help(format!("write {example}")),
            );
            return None;
        };
        let mut condition = None;
        let mut message = None;
        let mut ok = true;
        for (k, val) in t {
            let kloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "condition" => condition = Some(self.node(val)),
                "message" => message = Some(self.node(val)),
                "error_message" => {
                    self.err(
                        Diagnostic::at(format!("unknown key `error_message` in a `{what}` item"), kloc)
                            .label("not allowed here")
                            .help("write `message = \"...\"`: plinth's name for Terraform's error_message"),
                    );
                    return None;
                }
                other => {
                    self.unknown_key(other, kloc, CONDITION_KEYS, &format!("a `{what}` item"));
                    ok = false;
                }
            }
        }
        let Some(condition) = condition else {
            self.err(
                Diagnostic::at(format!("this `{what}` item has no `condition`"), loc)
                    .label("missing `condition`")
                    .help(format!(
                        "add condition = \"${{...}}\", an expression that is true when all is well, e.g. {example}"
                    )),
            );
            return None;
        };
        if let Some(v) = condition.static_value()
            && !matches!(v, plinth_value::Value::Bool(_))
        {
            self.err(
                Diagnostic::at(
                    format!(
                        "a condition must be true or false, but this one is always a {}",
                        v.type_name()
                    ),
                    condition.loc.clone(),
                )
                .label("expected a bool")
                .help("write an expression that gives true or false, e.g. condition = \"${var.replicas > 0}\""),
            );
            ok = false;
        }
        let Some(message) = message else {
            self.err(
                Diagnostic::at(format!("this `{what}` item has no `message`"), loc)
                    .label("missing `message`")
                    .help("add message = \"...\": the sentence shown when the condition is false"),
            );
            return None;
        };
        match &message.kind {
            NodeKind::Template(_) => {}
            NodeKind::Lit(plinth_value::Value::String(s)) if !s.trim().is_empty() => {}
            NodeKind::Lit(plinth_value::Value::String(_)) => {
                self.err(
                    Diagnostic::at(format!("the `message` of this `{what}` is empty"), message.loc.clone())
                        .label("empty message")
                        .help("say what is wrong and how to fix it: it is what the user sees when the condition is false"),
                );
                ok = false;
            }
            _ => {
                self.err(
                    Diagnostic::at(
                        format!(
                            "the `message` of this `{what}` must be a string, found {}",
                            message.shape()
                        ),
                        message.loc.clone(),
                    )
                    .label("expected a string")
                    .help("write message = \"...\"; it may name values with ${...}"),
                );
                ok = false;
            }
        }
        ok.then_some(Condition {
            loc,
            condition,
            message,
        })
    }

    /// The `lifecycle` of a data source: only `precondition` and `postcondition`.
    pub(super) fn data_lifecycle(&mut self, v: &Spanned<DeValue<'_>>) -> Option<Lifecycle> {
        let DeValue::Table(t) = v.get_ref() else {
            self.err(
                Diagnostic::at("`lifecycle` must be a table", self.loc(v.span()))
                    .label("expected { precondition = [...] }")
                    .help("write lifecycle = { precondition = [{ condition = \"${...}\", message = \"...\" }] }"),
            );
            return None;
        };
        let mut l = Lifecycle::default();
        let mut ok = true;
        for (k, val) in t {
            let kloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "precondition" => match self.conditions(val, "precondition") {
                    Some(c) => l.preconditions = c,
                    None => ok = false,
                },
                "postcondition" => match self.conditions(val, "postcondition") {
                    Some(c) => l.postconditions = c,
                    None => ok = false,
                },
                other => {
                    self.unknown_key(
                        other,
                        kloc,
                        &["precondition", "postcondition"],
                        "a data source's `lifecycle` (it is read, not managed)",
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(l)
    }

    /// The `lifecycle` of an output: only `precondition`.
    pub(super) fn output_lifecycle(&mut self, v: &Spanned<DeValue<'_>>) -> Option<Vec<Condition>> {
        let DeValue::Table(t) = v.get_ref() else {
            self.err(
                Diagnostic::at("`lifecycle` must be a table", self.loc(v.span()))
                    .label("expected { precondition = [...] }")
                    .help("write lifecycle = { precondition = [{ condition = \"${...}\", message = \"...\" }] }"),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (k, val) in t {
            let kloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "precondition" => match self.conditions(val, "precondition") {
                    Some(c) => out = c,
                    None => ok = false,
                },
                "postcondition" => {
                    self.err(
                        Diagnostic::at("an output has no `postcondition`", kloc)
                            .label("not allowed in an output's lifecycle")
                            .help("write it as a `precondition`: an output's conditions are checked before its value is recorded"),
                    );
                    ok = false;
                }
                other => {
                    self.unknown_key(other, kloc, &["precondition"], "an output's `lifecycle`");
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// The body of `[check.NAME]`: `assert = [...]` (at least one) and `data.READ` tables.
    pub(super) fn check(&mut self, name: String, loc: Loc, t: &DeTable<'_>) -> Option<CheckDecl> {
        let mut asserts = None;
        let mut data = Vec::new();
        let mut ok = true;
        for (k, v) in t {
            let kloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "assert" => match self.conditions(v, "assert") {
                    Some(c) => asserts = Some((c, kloc)),
                    None => ok = false,
                },
                "data" => {
                    let Some(reads) = self.expect_table(v, &format!("[check.{name}.data]"), &kloc)
                    else {
                        ok = false;
                        continue;
                    };
                    for (read, body) in reads {
                        let rloc = self.loc(read.span());
                        let r = read.get_ref().as_ref().to_string();
                        if !is_identifier(&r) {
                            self.err(
                                Diagnostic::at(format!("`{r}` is not a valid data source name"), rloc)
                                    .label("expected a name of letters, digits, `_` and `-`, starting with a letter"),
                            );
                            ok = false;
                            continue;
                        }
                        let what = format!("[check.{name}.data.{r}]");
                        let Some(body) = self.expect_table(body, &what, &rloc) else {
                            ok = false;
                            continue;
                        };
                        match self.resource(DeclKind::Data, r, rloc, body) {
                            Some(d) => data.push(d),
                            None => ok = false,
                        }
                    }
                }
                other => {
                    self.unknown_key(other, kloc, &["assert", "data"], &format!("[check.{name}]"));
                    ok = false;
                }
            }
        }
        match asserts {
            Some((a, _)) if !a.is_empty() => ok.then_some(CheckDecl {
                name,
                loc,
                asserts: a,
                data,
            }),
            Some((_, kloc)) => {
                self.err(
                    Diagnostic::at(format!("check `{name}` has an empty `assert` list"), kloc)
                        .label("no assertions")
                        .help("add at least one { condition = \"${...}\", message = \"...\" }"),
                );
                None
            }
            None if !ok => None,
            None => {
                self.err(
                    Diagnostic::at(format!("check `{name}` has no `assert`"), loc)
                        .label("nothing to check")
                        .help(format!(
                            "add assert = [{{ condition = \"${{...}}\", message = \"...\" }}] to [check.{name}]"
                        )),
                );
                None
            }
        }
    }
}
