//! `--junit FILE`: the results as JUnit XML, the shape CI test reporters read (GitHub's
//! test-reporter actions, GitLab's `artifacts:reports:junit`, Jenkins): `<testsuites>`, a
//! `<testsuite>` per test file, a `<testcase>` per run with `<failure>` or `<skipped/>`, and
//! times in seconds. A failed clean-up is an `<error>` of a `destroy` test case.

use super::report::{FileResult, Status};

/// The XML document for `files`.
pub(super) fn junit_xml(files: &[FileResult]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let all = files.iter().flat_map(|f| &f.runs);
    let count = |s: Status| all.clone().filter(|r| r.status == s).count();
    let errors = files.iter().filter(|f| f.cleanup.is_some()).count();
    let tests = all.clone().count() + errors;
    let time: f64 = files.iter().map(|f| f.seconds).sum();
    out.push_str(&format!(
        "<testsuites name=\"plinth test\" tests=\"{tests}\" failures=\"{}\" errors=\"{errors}\" skipped=\"{}\" time=\"{time:.3}\">\n",
        count(Status::Fail),
        count(Status::Skip),
    ));
    for f in files {
        let path = esc(&f.path());
        let fails = f.runs.iter().filter(|r| r.status == Status::Fail).count();
        let skips = f.runs.iter().filter(|r| r.status == Status::Skip).count();
        let errs = usize::from(f.cleanup.is_some());
        out.push_str(&format!(
            "  <testsuite name=\"{path}\" tests=\"{}\" failures=\"{fails}\" errors=\"{errs}\" skipped=\"{skips}\" time=\"{:.3}\">\n",
            f.runs.len() + errs,
            f.seconds
        ));
        for r in &f.runs {
            let open = format!(
                "    <testcase name=\"{}\" classname=\"{path}\" time=\"{:.3}\"",
                esc(&r.name),
                r.seconds
            );
            match r.status {
                Status::Pass if r.warnings.is_empty() => out.push_str(&format!("{open}/>\n")),
                Status::Pass => {
                    out.push_str(&format!("{open}>\n"));
                    out.push_str(&format!(
                        "      <system-out>{}</system-out>\n",
                        esc(&warnings_text(&r.warnings))
                    ));
                    out.push_str("    </testcase>\n");
                }
                Status::Fail => {
                    out.push_str(&format!("{open}>\n"));
                    let first = r.reasons.first().map(String::as_str).unwrap_or("failed");
                    out.push_str(&format!(
                        "      <failure message=\"{}\" type=\"failure\">{}</failure>\n",
                        esc(first),
                        esc(&r.reasons.join("\n"))
                    ));
                    if !r.warnings.is_empty() {
                        out.push_str(&format!(
                            "      <system-out>{}</system-out>\n",
                            esc(&warnings_text(&r.warnings))
                        ));
                    }
                    out.push_str("    </testcase>\n");
                }
                Status::Skip => {
                    out.push_str(&format!("{open}>\n"));
                    out.push_str(
                        "      <skipped message=\"an earlier run of the file failed\"/>\n",
                    );
                    out.push_str("    </testcase>\n");
                }
            }
        }
        if let Some(why) = &f.cleanup {
            out.push_str(&format!(
                "    <testcase name=\"destroy\" classname=\"{path}\" time=\"0.000\">\n      <error message=\"{}\" type=\"destroy\">{}</error>\n    </testcase>\n",
                esc(why),
                esc(why)
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn warnings_text(warnings: &[String]) -> String {
    warnings
        .iter()
        .map(|w| format!("warning: {w}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Text for XML content or a quoted attribute: markup characters as entities, characters
/// XML 1.0 cannot hold (most control characters) as U+FFFD.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test::report::RunResult;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(
            esc("a<b>&\"c'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}"
        );
    }

    #[test]
    fn a_suite_per_file_and_a_case_per_run() {
        let f = FileResult {
            name: "a.test.toml".into(),
            runs: vec![
                RunResult {
                    name: "one".into(),
                    status: Status::Fail,
                    reasons: vec!["x < y".into()],
                    warnings: vec![],
                    seconds: 0.5,
                },
                RunResult::skipped("two"),
            ],
            cleanup: None,
            seconds: 1.0,
        };
        let xml = junit_xml(&[f]);
        assert!(xml.contains("<testsuite name=\"tests/a.test.toml\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"1\""), "{xml}");
        assert!(xml.contains("<failure message=\"x &lt; y\""), "{xml}");
        assert!(xml.contains("<skipped message="), "{xml}");
    }
}
