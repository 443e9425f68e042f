//! How expression errors become diagnostics: a parse error's own help replaces the general
//! paragraph about the syntax, and an error inside a template file is quoted in that file.

use plinth_config::{Config, DeclKind, Sources, load_dir, load_sources};
use plinth_expr::{Context, EvalError, Reference, ResolvedStep};
use plinth_value::Value;

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

/// What the engine's scope gives a configuration's expressions: no names, and the files the
/// configuration read, with where they are among its sources when `sources` is true.
struct Files<'a> {
    config: &'a Config,
    sources: bool,
}

impl Context for Files<'_> {
    fn lookup(&self, r: &Reference, _: &[ResolvedStep]) -> Result<Value, EvalError> {
        Err(EvalError::new("no names here", r.span.clone()))
    }

    fn read_file(&self, path: &str) -> Result<Option<String>, String> {
        Ok(self.config.files.get(path).and_then(|f| f.text.clone()))
    }

    fn file_source(&self, path: &str) -> Option<usize> {
        self.config.files.get(path)?.source.filter(|_| self.sources)
    }
}

fn template_error(sources: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "queues.tpl",
        "# queues\n%{ for q in queues ~}\nqueue ${q}\n%{ endfor ~}\n",
    );
    write(
        "main.toml",
        &resource(r#""${templatefile('queues.tpl', { queue = ['a'] })}""#),
    );
    let config = load_dir(dir.path()).unwrap_or_else(|(s, d)| panic!("{}", d.render(&s, false)));
    let input = config
        .resource(DeclKind::Resource, "a")
        .unwrap()
        .inputs
        .entry("input")
        .unwrap();
    let d = input
        .eval(&Files {
            config: &config,
            sources,
        })
        .expect_err("queues is not a name of the template");
    d.render(&config.sources, false)
}

#[test]
fn an_error_inside_a_template_file_is_quoted_there_with_the_call_beside_it() {
    let out = template_error(true);
    assert!(out.contains("unknown name `queues`"), "{out}");
    assert!(!out.contains("line 2, column 13: "), "{out}");
    assert!(out.contains("queues.tpl:2:13"), "{out}");
    assert!(out.contains("2 │ %{ for q in queues ~}"), "{out}");
    assert!(out.contains("did you mean `queue`?"), "{out}");
    assert!(out.contains("queues.tpl is rendered here"), "{out}");
    assert!(out.contains("main.toml:3:12"), "{out}");
}

#[test]
fn without_the_sources_the_place_in_the_template_file_is_in_the_message() {
    let out = template_error(false);
    assert!(
        out.contains("in queues.tpl line 2, column 13: unknown name `queues`"),
        "{out}"
    );
    assert!(out.contains("main.toml:3:12"), "{out}");
}
