//! The lists of a run: `expect_failures`, `[[run.drift]]` and `[[run.assert]]`.

use toml::de::DeValue;

use super::refs::declared;
use super::{DriftChange, ExpectedFailure, TestDrift};
use crate::decl::{Condition, Config};
use crate::decode::Decoder;
use crate::diag::Diagnostic;
use crate::node::NodeKind;
use crate::source::Loc;

impl Decoder<'_> {
    pub(super) fn expect_failures(
        &mut self,
        v: &toml::Spanned<DeValue<'_>>,
        config: &Config,
    ) -> Option<Vec<ExpectedFailure>> {
        let DeValue::Array(items) = v.get_ref() else {
            self.err(
                Diagnostic::at("`expect_failures` must be a list of addresses", self.loc(v.span()))
                    .help("write e.g. expect_failures = [\"module.workload.fic_workload\", \"check.ready\"]"),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            let loc = self.loc(item.span());
            let Some(address) = self.string_value(item, "an `expect_failures` entry") else {
                ok = false;
                continue;
            };
            if let Err(why) = declared(config, &address) {
                self.err(
                    Diagnostic::at(format!("`expect_failures` names `{address}`: {why}"), loc.clone())
                        .label("not declared")
                        .help("name a resource, data source, output or check the configuration declares (module.NAME.x inside a module)"),
                );
                ok = false;
                continue;
            }
            out.push(ExpectedFailure { address, loc });
        }
        ok.then_some(out)
    }

    pub(super) fn drift(
        &mut self,
        v: &toml::Spanned<DeValue<'_>>,
        kloc: &Loc,
        config: &Config,
    ) -> Option<Vec<TestDrift>> {
        let DeValue::Array(items) = v.get_ref() else {
            self.err(
                Diagnostic::at("`drift` must be a list of tables", kloc.clone())
                    .help("write each change as a [[run.drift]] table with address and patch (or delete = true)"),
            );
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            let loc = self.loc(item.span());
            let t = self.expect_table(item, "a drift", &loc)?;
            let (mut address, mut change) = (None, None);
            for (k, v) in t {
                let kloc = self.loc(k.span());
                match k.get_ref().as_ref() {
                    "address" => {
                        let a = self.string_value(v, "a drift's `address`")?;
                        let vloc = self.loc(v.span());
                        match declared(config, &a) {
                            Ok(()) if !a.contains("check.") && !a.contains("output.") => {
                                address = Some(a)
                            }
                            Ok(()) => {
                                self.err(Diagnostic::at(format!("`{a}` is not an object in the cloud"), vloc)
                                    .help("name a resource, e.g. address = \"module.workload.fic_keda\""));
                                return None;
                            }
                            Err(why) => {
                                self.err(
                                    Diagnostic::at(format!("a drift names `{a}`: {why}"), vloc)
                                        .help("name a resource the configuration declares"),
                                );
                                return None;
                            }
                        }
                    }
                    "patch" => {
                        let node = self.node(v);
                        match (&node.kind, node.static_value()) {
                            (NodeKind::Table(_), Some(val)) => {
                                change = Some(DriftChange::Patch(val.to_json()))
                            }
                            _ => {
                                self.err(Diagnostic::at("a drift's `patch` must be a table of fixed values", node.loc.clone())
                                    .help("write the fields to change as they are in the cloud, e.g. patch = { properties = { subject = \"...\" } }"));
                                return None;
                            }
                        }
                    }
                    "delete" => {
                        if self.bool_value(v, "a drift's `delete`")? {
                            change = Some(DriftChange::Delete);
                        }
                    }
                    other => {
                        self.unknown_key(other, kloc, &["address", "patch", "delete"], "a drift");
                        return None;
                    }
                }
            }
            let (Some(address), Some(change)) = (address, change) else {
                self.err(
                    Diagnostic::at(
                        "a drift needs an `address` and either `patch` or `delete = true`",
                        loc,
                    )
                    .help("e.g. address = \"rg\" and patch = { tags = { owner = \"someone\" } }"),
                );
                return None;
            };
            out.push(TestDrift {
                address,
                loc,
                change,
            });
        }
        Some(out)
    }

    pub(super) fn asserts(
        &mut self,
        v: &toml::Spanned<DeValue<'_>>,
        kloc: &Loc,
    ) -> Option<Vec<Condition>> {
        let DeValue::Array(items) = v.get_ref() else {
            self.err(
                Diagnostic::at("`assert` must be a list of tables", kloc.clone()).help(
                    "write each assertion as a [[run.assert]] table with condition and message",
                ),
            );
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            let loc = self.loc(item.span());
            let t = self.expect_table(item, "an assertion", &loc)?;
            let (mut condition, mut message) = (None, None);
            for (k, v) in t {
                match k.get_ref().as_ref() {
                    "condition" => condition = Some(self.node(v)),
                    "message" => message = Some(self.node(v)),
                    other => {
                        self.unknown_key(
                            other,
                            self.loc(k.span()),
                            &["condition", "message"],
                            "an assertion",
                        );
                        return None;
                    }
                }
            }
            let (Some(condition), Some(message)) = (condition, message) else {
                self.err(
                    Diagnostic::at("an assertion needs both `condition` and `message`", loc)
                        .help("write condition = \"${...}\" (true when the run is right) and message = \"what is wrong otherwise\""),
                );
                return None;
            };
            let not_bool = match &condition.kind {
                NodeKind::Lit(v) => {
                    (!matches!(v, plinth_value::Value::Bool(_))).then(|| v.type_name())
                }
                NodeKind::Template(t) if t.single_expr().is_none() => Some("string"),
                NodeKind::Template(_) => None,
                NodeKind::List(_) => Some("list"),
                NodeKind::Table(_) => Some("table"),
            };
            if let Some(found) = not_bool {
                self.err(
                    Diagnostic::at(format!("an assertion's condition must be a bool, found a {found}"), condition.loc.clone())
                        .label("expected true or false")
                        .help("write one expression that is true or false, e.g. condition = \"${output.name != \\\"\\\"}\""),
                );
                return None;
            }
            out.push(Condition {
                loc,
                condition,
                message,
            });
        }
        Some(out)
    }
}
