//! References in a test file's expressions (`run.NAME`, `output.x`, `var.x`, `plan`) and
//! addresses it names, checked against the runs before and the configuration.

use std::collections::BTreeMap;

use plinth_addr::{Address, DeclKind};
use plinth_expr::did_you_mean;

use crate::decl::Config;
use crate::decode::Decoder;
use crate::diag::Diagnostic;
use crate::node::Node;
use crate::source::Loc;

impl Decoder<'_> {
    /// Reports references to runs, outputs and variables that do not exist: `run.NAME` must
    /// be a run before this one (`current` names this run, which is not done yet when its own
    /// values are evaluated); `plan` only in assertions. True when all are fine.
    pub(super) fn check_refs(
        &mut self,
        node: &Node,
        config: &Config,
        earlier: &BTreeMap<String, Loc>,
        current: &[&str],
        all: &[String],
        in_assert: bool,
    ) -> bool {
        let mut ok = true;
        for found in node.references() {
            let r = found.reference;
            let attr = |i: usize| match r.steps.get(i) {
                Some(plinth_expr::RefStep::Attr { name, .. }) => Some(name.as_str()),
                _ => None,
            };
            let problem = match r.root.as_str() {
                "run" => match attr(0) {
                    None => Some((
                        "`run` needs a run's name after it: run.NAME.output.x".to_string(),
                        None,
                    )),
                    Some(n) if current.contains(&n) => Some((
                        format!("`run.{n}` is this run: its outputs are `output.NAME`"),
                        Some(format!("write output.{}", attr(2).unwrap_or("NAME"))),
                    )),
                    Some(n) if !earlier.contains_key(n) && all.iter().any(|a| a == n) => Some((
                        format!(
                            "run `{n}` comes later in the file: a run sees only the runs before it"
                        ),
                        Some(format!(
                            "move run `{n}` before this one, or refer to an earlier run"
                        )),
                    )),
                    Some(n) if !earlier.contains_key(n) => Some((
                        format!("there is no run `{n}` before this one"),
                        Some(match did_you_mean(n, earlier.keys().map(String::as_str)) {
                            Some(s) => format!(
                                "did you mean `run.{s}`? Runs see only the runs before them"
                            ),
                            None => {
                                "runs see only the runs before them in the same file".to_string()
                            }
                        }),
                    )),
                    Some(n) if attr(1) != Some("output") => Some((
                        format!("`run.{n}` has only outputs: write run.{n}.output.NAME"),
                        None,
                    )),
                    Some(_) => attr(2).and_then(|o| unknown_output(config, o)),
                },
                "output" => attr(0).and_then(|o| unknown_output(config, o)),
                "plan" if !in_assert => Some((
                    "`plan` is only known in assertions".to_string(),
                    Some("variables and data are evaluated before the run's plan".to_string()),
                )),
                "var" => attr(0).filter(|v| config.variable(v).is_none()).map(|v| {
                    (
                        format!("the configuration declares no variable `{v}`"),
                        None,
                    )
                }),
                _ => None,
            };
            if let Some((message, help)) = problem {
                self.err(Diagnostic::at(message, found.loc.clone()).maybe_help(help));
                ok = false;
            }
        }
        ok
    }
}

fn unknown_output(config: &Config, name: &str) -> Option<(String, Option<String>)> {
    if config.outputs.iter().any(|o| o.name == name) {
        return None;
    }
    let help = did_you_mean(name, config.outputs.iter().map(|o| o.name.as_str()))
        .map(|s| format!("did you mean `{s}`?"));
    Some((
        format!("the configuration declares no output `{name}`"),
        help,
    ))
}

/// Whether `address` names something `config` declares: a resource, data source, output,
/// check or module call, in the module its `module.NAME` steps lead to (instance keys are
/// not checked: they depend on values).
pub(super) fn declared(config: &Config, address: &str) -> Result<(), String> {
    // `check.NAME` is not a state address: parse it as an output's and look among checks.
    let (text, is_check) = match address.rfind("check.") {
        Some(i) if i == 0 || address[..i].ends_with('.') => (
            format!("{}output.{}", &address[..i], &address[i + 6..]),
            true,
        ),
        _ => (address.to_string(), false),
    };
    let addr: Address = text.parse().map_err(|e| format!("{e}"))?;
    let mut module = config;
    for step in &addr.module {
        let call = module.module_calls.iter().find(|c| c.name == step.name);
        module = &call
            .ok_or_else(|| format!("there is no module call `{}`", step.name))?
            .module;
    }
    let found = match (is_check, addr.kind) {
        (true, _) => module.checks.iter().any(|c| c.name == addr.name),
        (false, DeclKind::Resource | DeclKind::Data) => module
            .resources
            .iter()
            .any(|r| r.mode == addr.kind && r.name == addr.name),
        (false, DeclKind::Output) => module.outputs.iter().any(|o| o.name == addr.name),
        (false, DeclKind::Action) => module.actions.iter().any(|a| a.name == addr.name),
        _ => return Err("expected a resource, data source, output or check".into()),
    };
    if found || (addr.is_module() && !addr.module.is_empty()) {
        Ok(())
    } else {
        Err("the configuration declares no such object".into())
    }
}
