//! Strings as templates: `%{...}` directives make a string a template like `${...}` does, and
//! spans inside basic strings with escapes still map to exact columns.

use plinth_config::{Config, DeclKind, NodeKind, load_sources};
use plinth_config::{SourceFile, Sources};

fn load(text: &str) -> Result<Config, String> {
    let mut sources = Sources::new();
    sources.add("main.toml".into(), "main.toml".into(), text.to_string());
    load_sources(sources).map_err(|(s, d)| d.render(&s, false))
}

/// The text the first reference of resource `a`'s `input` points at, and its line:column.
fn first_ref(text: &str) -> (String, String) {
    let config = load(text).unwrap_or_else(|e| panic!("{e}"));
    let r = config.resource(DeclKind::Resource, "a").unwrap();
    let input = r.inputs.entry("input").unwrap();
    let refs = input.references();
    let loc = &refs[0].loc;
    let file: &SourceFile = config.sources.get(loc.file);
    (
        file.text[loc.span.clone()].to_string(),
        config.sources.describe(loc),
    )
}

/// `main.toml:LINE:COL` of the first `needle` in `src` (ASCII), counted independently.
fn at(src: &str, needle: &str) -> String {
    let i = src.find(needle).unwrap();
    let line = src[..i].matches('\n').count() + 1;
    let col = i - src[..i].rfind('\n').map_or(0, |n| n + 1) + 1;
    format!("main.toml:{line}:{col}")
}

fn resource(input: &str) -> String {
    format!("[resource.a]\ntype = \"core:data\"\ninput = {input}\n")
}

#[test]
fn a_reference_after_escapes_is_located_exactly() {
    let src = resource(r#""say \"hi\" to ${var.name}""#);
    let (text, loc) = first_ref(&src);
    assert_eq!(text, "var.name");
    assert_eq!(loc, at(&src, "var.name"));
    assert_eq!(loc, "main.toml:3:26");
    // Multi-byte escapes, a backslash, a tab.
    let src = resource(r#""caf\u00e9 \\ \t ${var.x} \U0001F600 ${var.y}""#);
    let (text, loc) = first_ref(&src);
    assert_eq!(text, "var.x");
    assert_eq!(loc, at(&src, "var.x"));
    let config = load(&src).unwrap();
    let input = config.resources[0].inputs.entry("input").unwrap();
    let y = &input.references()[1].loc;
    assert_eq!(&config.sources.get(y.file).text[y.span.clone()], "var.y");
}

#[test]
fn a_multi_line_basic_string_with_a_line_ending_backslash_maps_too() {
    let src = resource("\"\"\"\nfirst \\\n    ${var.x} and \\\"${var.y}\\\"\"\"\"");
    let (text, loc) = first_ref(&src);
    assert_eq!(text, "var.x");
    assert_eq!(loc, at(&src, "var.x"));
    assert_eq!(loc, "main.toml:5:7");
}

#[test]
fn a_syntax_error_after_an_escape_points_at_its_column() {
    let src = resource(r#""a \"quoted\" ${var.x} then ${ @ }""#);
    let e = load(&src).unwrap_err();
    assert!(e.contains(&at(&src, "@")), "{e}");
    assert!(e.contains("%%{ for a literal %{"), "{e}");
}

#[test]
fn strings_without_escapes_and_literal_strings_keep_exact_columns() {
    for src in [resource("'its ${var.x}'"), resource("\"plain ${var.x}\"")] {
        let (text, loc) = first_ref(&src);
        assert_eq!(text, "var.x");
        assert_eq!(loc, at(&src, "var.x"));
    }
}

#[test]
fn a_string_with_a_directive_is_a_template() {
    let config = load(&resource(r#""%{ if var.on }${var.x}%{ endif }""#)).unwrap();
    let input = config.resources[0].inputs.entry("input").unwrap();
    assert!(matches!(input.kind, NodeKind::Template(_)), "{input:?}");
    let roots: Vec<String> = input
        .references()
        .iter()
        .map(|r| r.reference.to_string())
        .collect();
    assert!(roots.contains(&"var.x".to_string()), "{roots:?}");
}
