//! Judging a run: what failed (conditions, checks, anything else) against what the run's
//! `expect_failures` names, and its assertions.
//!
//! Expectable failures are a precondition or postcondition of an object (a plan diagnostic
//! whose `subject` is the object's address; an apply failure with action `precondition` or
//! `postcondition`) and a failed check. Anything else that failed fails the run. A failed
//! check nobody expected is a warning, as Terraform's check blocks are.

use plinth_config::{Diagnostics, Sources, TestRun};
use plinth_engine::Failure;
use plinth_plan::{CheckResult, CheckStatus};
use plinth_value::Map;

use super::report::Status;

/// What failed in a run, rendered.
pub(super) struct Failed<'s> {
    sources: &'s Sources,
    /// `(address, why)` of failed conditions.
    conditions: Vec<(String, String)>,
    /// `(address, why)` of failed checks.
    checks: Vec<(String, String)>,
    /// Failures that belong to no condition or check.
    errors: Vec<String>,
}

impl<'s> Failed<'s> {
    pub(super) fn new(sources: &'s Sources) -> Self {
        Failed {
            sources,
            conditions: Vec::new(),
            checks: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// True when nothing failed (failed checks aside: they never stop a run).
    pub(super) fn is_empty(&self) -> bool {
        self.conditions.is_empty() && self.errors.is_empty()
    }

    /// The problems of a plan that failed.
    pub(super) fn diagnostics(&mut self, diags: &Diagnostics) {
        for d in &diags.0 {
            let line = d.one_line(self.sources);
            match d.subject_address() {
                Some(s) => self.conditions.push((s.to_string(), line)),
                None => self.errors.push(line),
            }
        }
    }

    /// The failed operations of an apply.
    pub(super) fn apply(&mut self, failures: &[Failure]) {
        for f in failures {
            let line = format!("{} ({}): {}", f.address, f.action, f.message);
            match f.action.as_str() {
                "precondition" | "postcondition" => self.conditions.push((f.address.clone(), line)),
                _ => self.errors.push(line),
            }
        }
    }

    /// The checks that failed.
    pub(super) fn checks(&mut self, checks: &[CheckResult]) {
        for c in checks.iter().filter(|c| c.status == CheckStatus::Fail) {
            let why = format!("check `{}` failed: {}", c.address, c.messages.join("; "));
            self.checks.push((c.address.clone(), why));
        }
    }
}

/// The run's status, its failure reasons and warnings, from what failed and its assertions'
/// failures; `outputs` passed through for later runs.
pub(super) fn judge(
    run: &TestRun,
    failed: Failed<'_>,
    assertions: Vec<String>,
    outputs: Option<Map>,
) -> (Status, Vec<String>, Vec<String>, Option<Map>) {
    let expected = |address: &str| {
        run.expect_failures
            .iter()
            .any(|e| matches(&e.address, address))
    };
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();
    for e in &run.expect_failures {
        let hit = failed
            .conditions
            .iter()
            .chain(&failed.checks)
            .any(|(a, _)| matches(&e.address, a));
        if !hit {
            reasons.push(format!(
                "{}: expected `{}` to fail, but it did not",
                failed.sources.describe(&e.loc),
                e.address
            ));
        }
    }
    for (address, why) in &failed.conditions {
        if !expected(address) {
            reasons.push(why.clone());
        }
    }
    for (address, why) in &failed.checks {
        if !expected(address) {
            warnings.push(why.clone());
        }
    }
    reasons.extend(failed.errors);
    reasons.extend(assertions);
    reasons.dedup();
    let status = if reasons.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    (status, reasons, warnings, outputs)
}

/// Whether a failure at `actual` is one `expected` names: the same address, the address
/// without its instance keys (`fic` names `fic["a"]`), or something inside the module
/// instance or call `expected` names (`module.app` names `module.app["a"].mi`).
fn matches(expected: &str, actual: &str) -> bool {
    actual == expected
        || without_keys(actual) == expected
        || [".", "["]
            .iter()
            .any(|sep| actual.starts_with(&format!("{expected}{sep}")))
}

/// `module.app["a"].fic[0]` → `module.app.fic`: instance keys left out (quoted keys may hold
/// brackets).
fn without_keys(address: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for ch in address.chars() {
        if depth > 0 {
            match ch {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                '[' if !quoted => depth += 1,
                ']' if !quoted => depth -= 1,
                _ => {}
            }
            continue;
        }
        if ch == '[' {
            depth = 1;
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expected_address_names_its_instances_and_what_a_module_holds() {
        assert!(matches("fic", "fic"));
        assert!(matches("fic", "fic[\"a]\"]"));
        assert!(matches("module.app.mi", "module.app[\"x\"].mi"));
        assert!(matches("module.app", "module.app[0].mi"));
        assert!(matches("check.ready", "check.ready"));
        assert!(!matches("fic", "fic_keda"));
        assert!(!matches("module.app.mi", "module.app.mi2"));
        assert_eq!(without_keys("module.a[\"[x]\"].b[0]"), "module.a.b");
    }
}
