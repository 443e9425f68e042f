//! What reviews of the plan found (`Plan::findings`: policy results, the identity-chain
//! check), as the text rendering shows them after the checks: per address (in plan order,
//! findings about the plan as a whole last), denials before warnings, each with the rule
//! that found it, where in the configuration, and the fix.

use std::fmt::Write;

use plinth_plan::{Finding, Plan, Severity};

use super::{Style, TextOptions};

/// The findings block; empty without findings.
pub fn findings_text(plan: &Plan, opts: &TextOptions) -> String {
    let st = Style { color: opts.color };
    let mut out = String::new();
    if plan.findings.is_empty() {
        return out;
    }
    let n = |s: Severity| plan.findings.iter().filter(|f| f.severity == s).count();
    let mut counts = Vec::new();
    match n(Severity::Deny) {
        0 => {}
        k => counts.push(format!("{k} denied")),
    }
    match n(Severity::Warn) {
        0 => {}
        1 => counts.push("1 warning".into()),
        k => counts.push(format!("{k} warnings")),
    }
    let _ = writeln!(out, "{} {}", st.bold("Findings:"), counts.join(", "));
    for (address, findings) in by_address(plan) {
        let _ = writeln!(
            out,
            "  {}",
            st.bold(address.unwrap_or("the plan as a whole"))
        );
        for f in findings {
            let label = match f.severity {
                Severity::Deny => st.paint("31", "Denied:"),
                Severity::Warn => st.paint("33", "Warning:"),
            };
            let rule = st.paint("2", &format!("[{} {}]", f.source.as_str(), f.rule));
            let _ = writeln!(out, "    {label} {} {rule}", f.message);
            if let Some(at) = &f.location {
                let _ = writeln!(out, "      at {at}");
            }
            if let Some(fix) = &f.fix {
                let _ = writeln!(out, "      fix: {fix}");
            }
        }
    }
    out
}

/// The findings by address: addresses in plan order (then those the plan does not hold,
/// by name), the plan-wide ones (`None`) last; in each, denials first, else as found.
fn by_address(plan: &Plan) -> Vec<(Option<&str>, Vec<&Finding>)> {
    fn rank<'a>(plan: &Plan, a: Option<&'a str>) -> (u8, usize, &'a str) {
        match a {
            None => (2, usize::MAX, ""),
            Some(a) => match plan.changes.iter().position(|c| c.address == a) {
                Some(i) => (0, i, ""),
                None => (1, 0, a),
            },
        }
    }
    let mut groups: Vec<(Option<&str>, Vec<&Finding>)> = Vec::new();
    for f in &plan.findings {
        let a = f.address.as_deref();
        match groups.iter_mut().find(|(g, _)| *g == a) {
            Some((_, list)) => list.push(f),
            None => groups.push((a, vec![f])),
        }
    }
    groups.sort_by_key(|(a, _)| rank(plan, *a));
    for (_, list) in &mut groups {
        list.sort_by_key(|f| f.severity);
    }
    groups
}
