//! What reviews of the plan found (`Plan::findings`): policy results (`plan --policy DIR`)
//! and the identity-chain check, in one alert block — a caution when anything is denied
//! (the document then shows it first, before the destroy caution: a reviewer must not miss
//! it), a warning otherwise. Per source (policy first), denied findings first, then per
//! address in plan order; each with its rule, what is wrong, the fix and the location.
//!
//! Findings are plain text (never Markdown), so they are escaped as text.

use plinth_plan::{Finding, FindingSource, Plan, Severity};

use super::syntax::{code, md_text};
use super::words::thousands;

/// The findings block: its introduction, one list line per finding (the first of each
/// source with its heading), and whether any is denied. `None` without findings.
pub(super) struct FindingsBlock {
    pub(super) intro: String,
    pub(super) lines: Vec<String>,
    pub(super) denied: bool,
}

/// The title of a source's part of the block.
fn source_title(s: FindingSource) -> &'static str {
    match s {
        FindingSource::Policy => "Policy",
        FindingSource::IdentityChain => "Identity chain",
    }
}

/// `1 denied, 2 warnings` of one source.
fn counts(findings: &[&Finding]) -> String {
    let denied = findings
        .iter()
        .filter(|f| f.severity == Severity::Deny)
        .count();
    let warned = findings.len() - denied;
    let mut parts = Vec::new();
    if denied > 0 {
        parts.push(format!("{} denied", thousands(denied)));
    }
    if warned > 0 {
        parts.push(format!(
            "{} warning{}",
            thousands(warned),
            if warned == 1 { "" } else { "s" }
        ));
    }
    parts.join(", ")
}

/// The findings block of `plan`.
pub(super) fn findings_block(plan: &Plan) -> Option<FindingsBlock> {
    if plan.findings.is_empty() {
        return None;
    }
    // Addresses in plan order; a finding about no address (or one the plan does not
    // hold) after those about one.
    let rank = |f: &Finding| -> usize {
        f.address
            .as_deref()
            .and_then(|a| plan.changes.iter().position(|c| c.address == a))
            .unwrap_or(usize::MAX)
    };
    let denied = plan.findings.iter().any(|f| f.severity == Severity::Deny);
    let mut heads = Vec::new();
    let mut lines = Vec::new();
    for source in [FindingSource::Policy, FindingSource::IdentityChain] {
        let mut of: Vec<&Finding> = plan
            .findings
            .iter()
            .filter(|f| f.source == source)
            .collect();
        if of.is_empty() {
            continue;
        }
        // Stable: findings of one address keep the order the finder gave.
        of.sort_by_key(|f| (f.severity, rank(f), f.address.clone()));
        heads.push(format!("{}: {}", source_title(source), counts(&of)));
        for (i, f) in of.iter().enumerate() {
            let line = finding_line(f);
            if i == 0 {
                // A blank line first after another source's list, which would otherwise
                // take the heading in as its last item's continuation.
                let gap = if lines.is_empty() { "" } else { ">\n" };
                lines.push(format!("{gap}> **{}**\n>\n{line}", source_title(source)));
            } else {
                lines.push(line);
            }
        }
    }
    let (kind, after) = if denied {
        (
            "CAUTION",
            "A denied finding must be fixed before this plan is applied.",
        )
    } else {
        (
            "WARNING",
            "Warnings do not stop apply; read them before you approve.",
        )
    };
    let intro = format!(
        "> [!{kind}]\n> **Findings — {}.** {after}\n>",
        heads.join(" · ")
    );
    Some(FindingsBlock {
        intro,
        lines,
        denied,
    })
}

/// `> - **deny** `sb` — `servicebus.deny`: what is wrong. **Fix:** how. (`main.toml:3:1`)`
fn finding_line(f: &Finding) -> String {
    let severity = match f.severity {
        Severity::Deny => "deny",
        Severity::Warn => "warn",
    };
    let mut line = format!("> - **{severity}**");
    if let Some(a) = &f.address {
        line.push(' ');
        line.push_str(&code(a));
    }
    line.push_str(&format!(
        " — {}: {}",
        code(&f.rule),
        sentence(&md_text(&f.message))
    ));
    if let Some(fix) = &f.fix {
        line.push_str(&format!(" **Fix:** {}", sentence(&md_text(fix))));
    }
    if let Some(at) = &f.location {
        line.push_str(&format!(" ({})", code(&location_text(at))));
    }
    line
}

/// A location as a reviewer knows it: `main.toml:12:1` as it is; an absolute file
/// (`/home/alice/policies/servicebus.rego:9:1`) by its last two components, so that no
/// home directory or machine layout reaches the comment.
fn location_text(at: &str) -> String {
    let absolute = at.starts_with('/')
        || at.starts_with('\\')
        || at.as_bytes().get(1) == Some(&b':')
            && at
                .as_bytes()
                .get(2)
                .is_some_and(|b| matches!(b, b'/' | b'\\'));
    if !absolute {
        return at.to_string();
    }
    // The `:line:col` after the file, if any (a Windows drive's colon is not one).
    let file_end = at
        .char_indices()
        .skip(2)
        .find(|&(i, ch)| {
            ch == ':'
                && at[i + 1..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit())
        })
        .map_or(at.len(), |(i, _)| i);
    let (file, rest) = at.split_at(file_end);
    let parts: Vec<&str> = file.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    format!("{}{rest}", parts[parts.len().saturating_sub(2)..].join("/"))
}

/// `s` ending with a full stop (unless it ends with other punctuation).
fn sentence(s: &str) -> String {
    let t = s.trim_end();
    if t.ends_with(['.', '!', '?', ')']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plinth_plan::{Action, DeclKind, PLAN_FORMAT, PlanMode, ResourceChange};

    fn finding(
        source: FindingSource,
        severity: Severity,
        address: Option<&str>,
        rule: &str,
    ) -> Finding {
        Finding {
            source,
            rule: rule.into(),
            severity,
            address: address.map(str::to_string),
            message: format!("{rule} is *not* met"),
            fix: None,
            location: None,
        }
    }

    fn plan(findings: Vec<Finding>) -> Plan {
        Plan {
            format: PLAN_FORMAT.into(),
            mode: PlanMode::Normal,
            created_at: String::new(),
            lineage: String::new(),
            serial: 0,
            config_digest: String::new(),
            config_dir: String::new(),
            variables: Default::default(),
            changes: ["rg", "sb", "aks"]
                .iter()
                .map(|a| ResourceChange::new(a, "azure:x", DeclKind::Resource, Action::Create))
                .collect(),
            outputs: vec![],
            drift: vec![],
            warnings: vec![],
            targets: vec![],
            checks: vec![],
            findings,
        }
    }

    #[test]
    fn denied_first_then_per_address_in_plan_order_policy_before_the_identity_chain() {
        use FindingSource::*;
        use Severity::*;
        let mut fix = finding(Policy, Deny, Some("sb"), "servicebus.deny");
        fix.fix = Some("set properties.disableLocalAuth = true".into());
        fix.location = Some("servicebus.toml:4:1".into());
        let p = plan(vec![
            finding(IdentityChain, Warn, Some("aks"), "issuer"),
            finding(Policy, Warn, Some("rg"), "tags.warn"),
            finding(Policy, Warn, None, "global.warn"),
            finding(Policy, Warn, Some("aks"), "aks.warn"),
            fix,
        ]);
        let b = findings_block(&p).unwrap();
        assert!(b.denied);
        assert_eq!(
            b.intro,
            "> [!CAUTION]\n> **Findings — Policy: 1 denied, 3 warnings · Identity chain: 1 warning.** A denied finding must be fixed before this plan is applied.\n>"
        );
        assert_eq!(
            b.lines,
            vec![
                "> **Policy**\n>\n> - **deny** `sb` — `servicebus.deny`: servicebus.deny is \\*not\\* met. **Fix:** set properties.disableLocalAuth = true. (`servicebus.toml:4:1`)",
                "> - **warn** `rg` — `tags.warn`: tags.warn is \\*not\\* met.",
                "> - **warn** `aks` — `aks.warn`: aks.warn is \\*not\\* met.",
                "> - **warn** — `global.warn`: global.warn is \\*not\\* met.",
                ">\n> **Identity chain**\n>\n> - **warn** `aks` — `issuer`: issuer is \\*not\\* met.",
            ]
        );
    }

    #[test]
    fn absolute_locations_keep_their_last_two_components() {
        assert_eq!(location_text("main.toml:12:1"), "main.toml:12:1");
        assert_eq!(
            location_text("/home/alice/infra/policies/servicebus.rego:9:3"),
            "policies/servicebus.rego:9:3"
        );
        assert_eq!(
            location_text("/work/main/examples/policies/servicebus.rego"),
            "policies/servicebus.rego"
        );
        assert_eq!(
            location_text("C:\\Users\\bob\\policies\\aks.rego:4:1"),
            "policies/aks.rego:4:1"
        );
    }

    #[test]
    fn warnings_alone_are_a_warning_and_no_findings_no_block() {
        let p = plan(vec![finding(
            FindingSource::IdentityChain,
            Severity::Warn,
            Some("sb"),
            "audience",
        )]);
        let b = findings_block(&p).unwrap();
        assert!(!b.denied);
        assert!(
            b.intro
                .starts_with("> [!WARNING]\n> **Findings — Identity chain: 1 warning.**")
        );
        assert!(findings_block(&plan(vec![])).is_none());
    }
}
