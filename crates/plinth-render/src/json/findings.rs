//! What reviews of the plan found (`Plan::findings`) in plinth's plan JSON: one entry per
//! finding, in the plan's order, plain text only.

use plinth_plan::{Finding, Severity};
use serde_json::{Value as J, json};

use super::module_address;

/// `findings`: `{source, rule, severity, address?, module_address?, message, fix?,
/// location?}` per finding.
pub(super) fn findings_json(findings: &[Finding]) -> J {
    J::Array(
        findings
            .iter()
            .map(|f| {
                let mut j = json!({
                    "source": f.source.as_str(),
                    "rule": f.rule,
                    "severity": match f.severity {
                        Severity::Deny => "deny",
                        Severity::Warn => "warn",
                    },
                    "message": f.message,
                });
                if let Some(a) = &f.address {
                    j["address"] = J::String(a.clone());
                    if let Some(m) = module_address(a) {
                        j["module_address"] = J::String(m);
                    }
                }
                if let Some(fix) = &f.fix {
                    j["fix"] = J::String(fix.clone());
                }
                if let Some(at) = &f.location {
                    j["location"] = J::String(at.clone());
                }
                j
            })
            .collect(),
    )
}
