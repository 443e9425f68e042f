//! The results of a configuration's `[check.NAME]` blocks, as the text rendering shows them
//! after the summary line: warnings, never errors (checks do not block).

use std::fmt::Write;

use plinth_plan::{CheckResult, CheckStatus};

use super::{Style, TextOptions};

/// The checks block: one `Warning:` line per failed assertion and one line per check that
/// can only be evaluated after apply, then the passing checks counted in one line. When
/// every check passed, only that line (`Checks: 3 passed.`); empty without checks.
pub fn checks_text(checks: &[CheckResult], opts: &TextOptions) -> String {
    render(checks, opts, Phase::Plan)
}

/// [`checks_text`] for the results an apply ends with: a check still unknown then could not
/// be evaluated (what it depends on failed or did not run), rather than "will be known".
pub fn applied_checks_text(checks: &[CheckResult], opts: &TextOptions) -> String {
    render(checks, opts, Phase::Applied)
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Plan,
    Applied,
}

fn render(checks: &[CheckResult], opts: &TextOptions, phase: Phase) -> String {
    let st = Style { color: opts.color };
    let mut out = String::new();
    let passed = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Pass)
        .count();
    if checks.is_empty() {
        return out;
    }
    if passed == checks.len() {
        let _ = writeln!(out, "{} {passed} passed.", st.bold("Checks:"));
        return out;
    }
    let _ = writeln!(out, "{}", st.bold("Checks:"));
    for c in checks {
        match c.status {
            CheckStatus::Pass => {}
            CheckStatus::Fail => {
                let warning = st.paint("33", "Warning:");
                if c.messages.is_empty() {
                    let _ = writeln!(out, "  {warning} {} failed.", c.address);
                }
                for m in &c.messages {
                    let _ = writeln!(out, "  {warning} {} failed: {m}", c.address);
                }
            }
            CheckStatus::Unknown => {
                let _ = if phase == Phase::Plan {
                    writeln!(out, "  {} will be known after apply", c.address)
                } else {
                    writeln!(
                        out,
                        "  {} could not be evaluated: it depends on values that are still unknown",
                        c.address
                    )
                };
                for m in &c.messages {
                    let _ = writeln!(out, "    {m}");
                }
            }
        }
    }
    match passed {
        0 => {}
        1 => {
            let _ = writeln!(out, "  1 check passed.");
        }
        n => {
            let _ = writeln!(out, "  {n} checks passed.");
        }
    }
    out
}
