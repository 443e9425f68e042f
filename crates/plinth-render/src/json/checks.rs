//! The results of the configuration's `[check.NAME]` blocks in both JSON renderings:
//! plinth's `checks` (one entry per check instance, as the plan holds them) and Terraform's
//! (one entry per check block in the configuration, its module instances under
//! `instances`, as `terraform show -json` writes them).

use std::collections::BTreeMap;

use plinth_addr::ModuleStep;
use plinth_plan::{CheckResult, CheckStatus};
use serde_json::{Map, Value as J, json};

use super::with_module;
use crate::address::{check_parts, module_text};

/// plinth's `checks`: `{address, module_address?, status, messages}` per check, in plan
/// order.
pub(super) fn checks_json(checks: &[CheckResult]) -> J {
    J::Array(
        checks
            .iter()
            .map(|c| {
                let j = json!({
                    "address": c.address,
                    "status": c.status.as_str(),
                    "messages": c.messages,
                });
                let (module, _) = check_parts(&c.address);
                if module.is_empty() {
                    j
                } else {
                    with_module(j, Some(module_text(&module)))
                }
            })
            .collect(),
    )
}

/// The module path of a configuration, without instance keys (`module.app`), as Terraform
/// names the module a check block is declared in.
fn static_module(path: &[ModuleStep]) -> String {
    let steps: Vec<ModuleStep> = path
        .iter()
        .map(|s| ModuleStep {
            name: s.name.clone(),
            key: None,
        })
        .collect();
    module_text(&steps)
}

/// Terraform's aggregate of the instances of one check block: failed when one failed,
/// else unknown when one is, else passed.
fn aggregate(statuses: &[CheckStatus]) -> CheckStatus {
    if statuses.contains(&CheckStatus::Fail) {
        CheckStatus::Fail
    } else if statuses.contains(&CheckStatus::Unknown) {
        CheckStatus::Unknown
    } else {
        CheckStatus::Pass
    }
}

/// Terraform's top-level `checks`: one entry per check block (`address` with `kind`
/// "check", `name`, `to_display` and, in a module, `module`), its aggregate `status`, and
/// its `instances` (one per module instance, `problems` holding the messages), sorted by
/// `to_display` as Terraform sorts them. `None` without checks (Terraform leaves it out).
pub(super) fn tf_checks(checks: &[CheckResult]) -> Option<J> {
    if checks.is_empty() {
        return None;
    }
    // Check blocks by their configuration address (`module.app.check.ready`).
    let mut blocks: BTreeMap<String, (String, String, Vec<&CheckResult>)> = BTreeMap::new();
    for c in checks {
        let (path, name) = check_parts(&c.address);
        let module = static_module(&path);
        let display = if module.is_empty() {
            format!("check.{name}")
        } else {
            format!("{module}.check.{name}")
        };
        blocks
            .entry(display)
            .or_insert_with(|| (module, name, Vec::new()))
            .2
            .push(c);
    }
    let entries = blocks
        .into_iter()
        .map(|(display, (module, name, mut instances))| {
            instances.sort_by(|a, b| a.address.cmp(&b.address));
            let statuses: Vec<CheckStatus> = instances.iter().map(|c| c.status).collect();
            let mut address = Map::new();
            address.insert("kind".into(), J::from("check"));
            address.insert("name".into(), J::from(name));
            address.insert("to_display".into(), J::from(display));
            if !module.is_empty() {
                address.insert("module".into(), J::from(module));
            }
            json!({
                "//": "EXPERIMENTAL: see docs for details",
                "address": address,
                "status": aggregate(&statuses).as_str(),
                "instances": instances.iter().map(|c| tf_instance(c)).collect::<Vec<_>>(),
            })
        })
        .collect();
    Some(J::Array(entries))
}

/// One module instance's result of a check block.
fn tf_instance(c: &CheckResult) -> J {
    let mut address = Map::new();
    address.insert("to_display".into(), J::from(c.address.as_str()));
    let (path, _) = check_parts(&c.address);
    if !path.is_empty() {
        address.insert("module".into(), J::from(module_text(&path)));
    }
    let mut j = Map::new();
    j.insert("address".into(), J::Object(address));
    j.insert("status".into(), J::from(c.status.as_str()));
    if !c.messages.is_empty() {
        let mut messages: Vec<&String> = c.messages.iter().collect();
        messages.sort();
        let problems: Vec<J> = messages
            .into_iter()
            .map(|m| json!({ "message": m }))
            .collect();
        j.insert("problems".into(), J::Array(problems));
    }
    J::Object(j)
}
