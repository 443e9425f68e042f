//! How expression errors become diagnostics: a parse error's own help replaces the general
//! paragraph about the syntax.

use plinth_config::{Config, Sources, load_sources};

fn load(files: &[(&str, &str)]) -> Result<Config, String> {
    let mut sources = Sources::new();
    for (name, text) in files {
        sources.add((*name).into(), (*name).into(), text.to_string());
    }
    load_sources(sources).map_err(|(s, d)| d.render(&s, false))
}

fn resource(input: &str) -> String {
    format!("[resource.a]\ntype = \"core:data\"\ninput = {input}\n")
}

const GENERAL: &str = "expressions are written ${reference}";

#[test]
fn a_parse_error_with_advice_of_its_own_shows_it_instead_of_the_general_help() {
    let src = resource(r#"{ r = "${[for k, v in var.apps : k => v]}" }"#);
    let out = load(&[("main.toml", &src)]).expect_err("=> in a list");
    assert!(
        out.contains("invalid expression: unexpected `=>` in the for-expression: `=>` builds a map, and `[for ...]` builds a list"),
        "{out}"
    );
    assert!(out.contains("main.toml:3:44"), "{out}");
    assert!(out.contains("expected `if` or `]`"), "{out}");
    assert!(
        out.contains(
            "to build a map, write the for-expression in braces: `{for k, v in var.apps : k => v}`"
        ),
        "{out}"
    );
    assert!(!out.contains(GENERAL), "{out}");
}

#[test]
fn a_parse_error_without_advice_keeps_the_general_help() {
    let src = resource(r#"{ r = "${var.a +}" }"#);
    let out = load(&[("main.toml", &src)]).expect_err("a trailing operator");
    assert!(out.contains("invalid expression"), "{out}");
    assert!(out.contains(GENERAL), "{out}");
}

#[test]
fn stray_directives_say_where_they_belong() {
    let src = resource(r#""a %{ else } b""#);
    let out = load(&[("main.toml", &src)]).expect_err("else without if");
    assert!(
        out.contains("`%{ else }` without an `%{ if }` before it"),
        "{out}"
    );
    assert!(
        out.contains("`%{ else }` belongs in `%{ if cond }...%{ else }...%{ endif }`; for a literal `%{` in the text, write `%%{`"),
        "{out}"
    );
    let src = resource(r#""%{ if var.on }x%{ endfor }""#);
    let out = load(&[("main.toml", &src)]).expect_err("endfor closing an if");
    assert!(
        out.contains("directives nest: close the `%{ if }` with `%{ endif }` before `%{ endfor }`"),
        "{out}"
    );
}
