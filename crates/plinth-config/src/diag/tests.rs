use super::*;
use crate::source::Quote;

fn sources(text: &str) -> Sources {
    let mut s = Sources::new();
    s.add("main.toml".into(), "main.toml".into(), text.to_string());
    s
}

#[test]
fn an_error_past_column_65535_renders_a_window_of_its_line() {
    let text = format!("a = \"{}${{nope}}\"\n", "x".repeat(70_000));
    let s = sources(&text);
    let at = text.find("${nope}").unwrap();
    let d = Diagnostic::at("unknown reference `nope`", Loc::new(0, at + 2..at + 6))
        .label("not declared");
    let out = d.render(&s, false);
    assert!(out.contains("main.toml:1:70008"), "{out}");
    assert!(out.contains("…xxxx"), "{out}");
    assert!(out.contains("${nope}"), "{out}");
    assert!(out.contains("not declared"), "{out}");
    assert!(out.len() < 2_000, "{} bytes:\n{out}", out.len());
}

#[test]
fn line_numbers_are_the_files() {
    let text = "a = 1\nb = 2\nc = 3\nd = 4\n";
    let s = sources(text);
    let at = text.find("c =").unwrap();
    let out = Diagnostic::at("bad", Loc::new(0, at..at + 1))
        .label("here")
        .render(&s, false);
    assert!(out.contains("main.toml:3:1"), "{out}");
    assert!(out.contains("2 │ b = 2"), "{out}");
    assert!(out.contains("3 │ c = 3"), "{out}");
    assert!(out.contains("4 │ d = 4"), "{out}");
    assert!(!out.contains("a = 1"), "{out}");
}

#[test]
fn control_and_bidi_characters_are_escaped_everywhere() {
    let text = "name = \"ev\u{202e}il\0x\u{1b}[2J\"\n";
    let s = sources(text);
    let d = Diagnostic::at("bad name `ev\u{202e}il\0`", Loc::new(0, 7..text.len() - 1))
        .label("label \u{202e}")
        .help("help \u{7}")
        .related(Loc::new(0, 0..4), "other \u{2066}");
    let out = d.render(&s, false);
    for bad in ['\u{202e}', '\0', '\u{1b}', '\u{7}', '\u{2066}'] {
        assert!(!out.contains(bad), "{bad:?} printed raw:\n{out}");
    }
    assert!(out.contains("ev\\u{202e}il\\0x\\u{1b}[2J"), "{out}");
    assert!(out.contains("bad name `ev\\u{202e}il\\0`"), "{out}");
    assert!(!d.one_line(&s).contains('\u{202e}'));
    assert!(!d.display_message().contains('\0'));
}

#[test]
fn a_file_that_failed_to_parse_is_quoted_at_the_offending_line_only() {
    let mut s = Sources::new();
    let text = "SECRET_A=1\nbroken: [\nSECRET_B=2\n";
    let f = s.add_quoted(
        "x.yaml".into(),
        "x.yaml".into(),
        text.into(),
        Quote::LinesOnly,
    );
    let out = Diagnostic::at("invalid YAML", Loc::new(f, 11..17)).render(&s, false);
    assert!(out.contains("broken"), "{out}");
    assert!(!out.contains("SECRET"), "{out}");
}

#[test]
fn a_secret_line_is_named_never_quoted() {
    let text = "a = 1\npw = 12345\nb = \"x\"\n";
    let mut s = sources(text);
    s.mark_secret(0, 11..16);
    let out = Diagnostic::at("variable `pw` is a string", Loc::new(0, 11..16))
        .label("expected a string")
        .render(&s, false);
    assert!(
        out.contains("main.toml:2:6: variable `pw` is a string"),
        "{out}"
    );
    assert!(!out.contains("12345"), "{out}");
    // Nor as the context of another line's problem.
    let out = Diagnostic::at("bad", Loc::new(0, 17..18)).render(&s, false);
    assert!(out.contains("main.toml:3:1: bad"), "{out}");
    assert!(!out.contains("12345"), "{out}");
    let out = Diagnostic::at("bad", Loc::new(0, 0..1)).render(&s, false);
    assert!(!out.contains("12345"), "{out}");
}

#[test]
fn many_diagnostics_of_one_kind_are_counted_not_printed() {
    let text = format!("for_each = [{}]\n", vec!["\"a\""; 10_000].join(","));
    let s = sources(&text);
    let mut ds = Diagnostics::default();
    for i in 0..10_000 {
        let at = 12 + i * 4;
        ds.push(
            Diagnostic::at(
                format!("key \"k{i}\" is set twice"),
                Loc::new(0, at..at + 3),
            )
            .label("duplicate"),
        );
    }
    ds.push(Diagnostic::new("something else"));
    let out = ds.render(&s, false);
    assert_eq!(
        out.matches("is set twice").count(),
        MAX_SAME_KIND + 1,
        "{out}"
    );
    assert!(
        out.contains("… and 9,990 more like this: main.toml:1:"),
        "{out}"
    );
    assert!(out.contains("something else"), "{out}");
    assert!(out.len() < 20_000, "{} bytes", out.len());
}

#[test]
fn the_total_is_capped_across_kinds() {
    let s = Sources::new();
    let ds = Diagnostics(
        (0..500)
            .map(|i| Diagnostic::new(format!("problem {}", "x".repeat(i % 97 + 1))))
            .collect(),
    );
    let out = ds.render(&s, false);
    assert!(
        out.matches("problem").count() <= MAX_RENDERED + MAX_SAME_KIND + 1,
        "{out}"
    );
    assert!(out.contains("more problems of other kinds"), "{out}");
}

#[test]
fn a_related_place_far_along_a_long_line_becomes_a_note() {
    let text = format!("k = [\"a\",{}\"a\"]\n", "\"b\",".repeat(5_000));
    let s = sources(&text);
    let second = text.rfind("\"a\"").unwrap();
    let out = Diagnostic::at("`a` twice", Loc::new(0, second..second + 3))
        .label("duplicate")
        .related(Loc::new(0, 5..8), "first here")
        .render(&s, false);
    assert!(out.contains("duplicate"), "{out}");
    assert!(out.contains("note: first here: main.toml:1:6"), "{out}");
    assert!(out.len() < 2_000, "{out}");
}

#[test]
fn thousands_separators() {
    assert_eq!(thousands(7), "7");
    assert_eq!(thousands(9990), "9,990");
    assert_eq!(thousands(1_234_567), "1,234,567");
}
