//! The results of the configuration's `[check.NAME]` blocks: a warning block listing the
//! checks that failed or can only be evaluated after apply, passing checks counted; one
//! short line when every check passed. Checks never block, so this is a warning, not a
//! caution.

use plinth_plan::{CheckResult, CheckStatus};

use super::rich::Rich;
use super::syntax::code;
use super::words::thousands;

/// The checks block: its introduction (the counts), and one list line per check that did
/// not pass (none when every check passed). `None` without checks.
pub(super) fn checks_block(checks: &[CheckResult]) -> Option<(String, Vec<String>)> {
    if checks.is_empty() {
        return None;
    }
    let count = |s: CheckStatus| checks.iter().filter(|c| c.status == s).count();
    let (passed, failed, unknown) = (
        count(CheckStatus::Pass),
        count(CheckStatus::Fail),
        count(CheckStatus::Unknown),
    );
    let passed_text = match passed {
        1 => "1 check passed".to_string(),
        n => format!("{} checks passed", thousands(n)),
    };
    if passed == checks.len() {
        return Some((format!("**Checks:** {}.", passed_text), Vec::new()));
    }
    let mut counts = Vec::new();
    if failed > 0 {
        counts.push(format!("**{} failed**", thousands(failed)));
    }
    if unknown > 0 {
        counts.push(format!("{} will be known after apply", thousands(unknown)));
    }
    if passed > 0 {
        counts.push(format!("{} passed", thousands(passed)));
    }
    let intro = format!(
        "> [!WARNING]\n> **Checks:** {}. Checks warn; they do not stop apply.\n>",
        counts.join(", ")
    );
    // Failed ones first, then the ones known after apply, each in plan order.
    let lines = [CheckStatus::Fail, CheckStatus::Unknown]
        .iter()
        .flat_map(|s| checks.iter().filter(move |c| c.status == *s))
        .map(check_line)
        .collect();
    Some((intro, lines))
}

/// `> - **failed** `check.x`: message; message`.
fn check_line(c: &CheckResult) -> String {
    let what = match c.status {
        CheckStatus::Fail => "failed",
        _ => "known after apply",
    };
    let mut line = format!("> - **{what}** {}", code(&c.address));
    if !c.messages.is_empty() {
        let messages: Vec<String> = c.messages.iter().map(|m| Rich::parse(m).md()).collect();
        line.push_str(": ");
        line.push_str(&messages.join("; "));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(address: &str, status: CheckStatus, messages: &[&str]) -> CheckResult {
        CheckResult {
            address: address.into(),
            status,
            messages: messages.iter().map(|m| m.to_string()).collect(),
        }
    }

    #[test]
    fn passing_checks_are_counted_in_one_line() {
        let all = [
            check("check.a", CheckStatus::Pass, &[]),
            check("check.b", CheckStatus::Pass, &[]),
        ];
        assert_eq!(
            checks_block(&all),
            Some(("**Checks:** 2 checks passed.".to_string(), vec![]))
        );
        assert_eq!(checks_block(&[]), None);
    }

    #[test]
    fn failed_and_unknown_checks_are_listed_failed_first() {
        let all = [
            check("check.dns", CheckStatus::Unknown, &[]),
            check("check.a", CheckStatus::Pass, &[]),
            check(
                "check.scaledjob_ready",
                CheckStatus::Fail,
                &["The ScaledJob `jobs` has no *ready* replicas."],
            ),
        ];
        let (intro, lines) = checks_block(&all).unwrap();
        assert_eq!(
            intro,
            "> [!WARNING]\n> **Checks:** **1 failed**, 1 will be known after apply, 1 passed. Checks warn; they do not stop apply.\n>"
        );
        assert_eq!(
            lines,
            vec![
                "> - **failed** `check.scaledjob_ready`: The ScaledJob `jobs` has no \\*ready\\* replicas.",
                "> - **known after apply** `check.dns`",
            ]
        );
    }
}
