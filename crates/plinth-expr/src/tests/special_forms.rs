//! The evaluator's special forms: try, can, file, fileexists and templatefile (through a
//! test context that holds the configuration's files).

use std::collections::BTreeMap;

use super::*;

/// The usual test names plus files, as a configuration's context would give them.
struct Files {
    names: Map,
    files: BTreeMap<&'static str, Option<&'static str>>,
}

impl Context for Files {
    fn lookup(&self, r: &Reference, steps: &[ResolvedStep]) -> Result<Value, EvalError> {
        self.names.lookup(r, steps)
    }

    fn read_file(&self, path: &str) -> Result<Option<String>, String> {
        match self.files.get(path) {
            Some(text) => Ok(text.map(str::to_string)),
            None if path.starts_with('/') => {
                Err(format!("{path} was not read with the configuration"))
            }
            None => Ok(None),
        }
    }
}

fn files() -> Files {
    let mut files = BTreeMap::new();
    files.insert("init.sh", Some("#!/bin/sh\necho hi\n"));
    files.insert(
        "app.tftpl",
        Some("name=${name}\n%{ for p in ports ~}\nport ${p}\n%{ endfor ~}\n%{ if debug }debug%{ else }quiet%{ endif }"),
    );
    files.insert("secret.tftpl", Some("pw=${pw}"));
    files.insert("broken.tftpl", Some("line one\n${ name"));
    files.insert("bad_ref.tftpl", Some("a\nb ${var.prefix}"));
    files.insert(
        "nested.tftpl",
        Some("${templatefile(\"secret.tftpl\", {pw = 1})}"),
    );
    files.insert("reads.tftpl", Some("${file(\"init.sh\")}"));
    files.insert("gone.txt", None);
    // A template whose path is a sensitive value (var.secret).
    files.insert("s3cr3t", Some("a\n${oops}"));
    Files {
        names: ctx(),
        files,
    }
}

fn ev(src: &str) -> Value {
    eval_template(&parse(src), &files()).unwrap_or_else(|e| panic!("{src}: {e} ({:?})", e.help))
}

fn ev_err(src: &str) -> EvalError {
    match eval_template(&parse(src), &files()) {
        Ok(v) => panic!("expected an error for {src:?}, got {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn try_takes_the_first_argument_that_works() {
    assert_eq!(
        ev("${try(var.missing, var.tags.nope, 'fallback')}"),
        s("fallback")
    );
    assert_eq!(ev("${try(var.count, 1)}"), Value::from(3));
    assert_eq!(ev("${try(x.list[9], null)}"), Value::Null);
    // A value that is not wholly known is unknown (it might have failed once known).
    assert_eq!(ev("${try(var.half_known, [])}"), Value::Unknown);
    assert_eq!(ev("${try(var.secret, 'x')}"), Value::sensitive(s("s3cr3t")));
    let src = "${try(var.missing, x.list[9])}";
    let e = ev_err(src);
    assert!(
        e.message
            .starts_with("every argument of try() failed; the first: "),
        "{e}"
    );
    assert_eq!(slice(src, &e.span), "missing");
    assert!(
        ev_err("${try()}")
            .message
            .contains("try() expects at least 1 argument")
    );
}

#[test]
fn can_says_whether_an_expression_works() {
    assert_eq!(ev("${can(var.tags.env)}"), Value::Bool(true));
    assert_eq!(ev("${can(var.tags.nope)}"), Value::Bool(false));
    assert_eq!(ev("${can(1 / 0)}"), Value::Bool(false));
    assert_eq!(ev("${can(var.later)}"), Value::Unknown);
    assert_eq!(ev("${can(var.names[0]) ? 'yes' : 'no'}"), s("yes"));
    assert!(
        ev_err("${can(1, 2)}")
            .message
            .contains("can() expects 1 argument, got 2")
    );
}

#[test]
fn file_and_fileexists_read_through_the_context() {
    assert_eq!(ev("${file('init.sh')}"), s("#!/bin/sh\necho hi\n"));
    assert_eq!(ev("${fileexists('init.sh')}"), Value::Bool(true));
    assert_eq!(ev("${fileexists('gone.txt')}"), Value::Bool(false));
    assert_eq!(ev("${file(var.later)}"), Value::Unknown);
    let src = "${file('gone.txt')}";
    let e = ev_err(src);
    assert_eq!(e.message, "there is no file \"gone.txt\"");
    assert_eq!(slice(src, &e.span), "'gone.txt'");
    let e = ev_err("${file('/etc/x')}");
    assert_eq!(e.message, "/etc/x was not read with the configuration");
    // The context's message quotes the path, so a secret path gets one of its own (the
    // console's read_file quoted var.secret's value).
    for src in [
        "${file('/${var.secret}')}",
        "${fileexists('/${var.secret}')}",
        "${templatefile('/${var.secret}', {})}",
    ] {
        let e = ev_err(src);
        assert!(!e.message.contains("s3cr3t"), "{src}: {e}");
        assert!(e.message.contains("the path is sensitive"), "{src}: {e}");
    }
    assert_eq!(
        ev_err("${file(1)}").message,
        "file() expects a path string, got a number"
    );
    // The default context reads no files.
    let e = eval_template(&parse("${file('init.sh')}"), &ctx()).unwrap_err();
    assert_eq!(e.message, "files cannot be read here");
}

#[test]
fn templatefile_renders_with_only_its_variables() {
    assert_eq!(
        ev("${templatefile('app.tftpl', { name = var.prefix, ports = [80, 443], debug = false })}"),
        s("name=demo\nport 80\nport 443\nquiet")
    );
    assert_eq!(
        ev("${templatefile('reads.tftpl', {})}"),
        s("#!/bin/sh\necho hi\n")
    );
    // Marks are kept.
    assert_eq!(
        ev("${templatefile('secret.tftpl', { pw = var.secret })}"),
        Value::sensitive(s("pw=s3cr3t"))
    );
    assert_eq!(
        ev("${templatefile('secret.tftpl', { pw = var.later })}"),
        Value::Unknown
    );
    // The configuration's names are not visible inside.
    let src = "${templatefile('bad_ref.tftpl', { name = 1 })}";
    let e = ev_err(src);
    // The error is located in the template file; its span is the call that read it.
    assert_eq!(e.message, "unknown name `var`");
    assert_eq!(slice(src, &e.span), &src[2..src.len() - 1]);
    let file = e.file.clone().expect("located in the template file");
    assert_eq!(
        (file.path.as_str(), file.line, file.column),
        ("bad_ref.tftpl", 2, 5)
    );
    assert_eq!(
        e.located_message(),
        "in bad_ref.tftpl line 2, column 5: unknown name `var`"
    );
    assert_eq!(e.to_string(), e.located_message());
    let e = ev_err("${templatefile('broken.tftpl', {})}");
    assert_eq!(
        e.located_message(),
        "in broken.tftpl line 2, column 1: `${` at line 2, column 1 is never closed: expected `}`"
    );
    assert_eq!(e.help.as_deref(), Some("expected `}`"));
    assert!(
        ev_err("${templatefile('nested.tftpl', {})}")
            .message
            .contains("cannot be called inside a template file")
    );
    assert!(
        ev_err("${templatefile('app.tftpl', [])}")
            .message
            .contains("expects a map")
    );
    assert_eq!(
        ev_err("${templatefile('nope.tftpl', {})}").message,
        "there is no template file \"nope.tftpl\""
    );
}

#[test]
fn unknown_function_suggestions_include_the_special_forms() {
    let e = ev_err("${tyr(1)}");
    assert_eq!(e.help.as_deref(), Some("did you mean `try`?"));
    let e = ev_err("${templatefil('a', {})}");
    assert_eq!(e.help.as_deref(), Some("did you mean `templatefile`?"));
}

#[test]
fn an_error_in_a_template_at_a_secret_path_is_described_not_named() {
    let src = "${templatefile(var.secret, {})}";
    let e = ev_err(src);
    assert_eq!(e.file, None);
    assert_eq!(
        e.message,
        "in the template file line 2, column 3: unknown name `oops`"
    );
    assert_eq!(slice(src, &e.span), &src[2..src.len() - 1]);
    assert!(!format!("{e} {:?}", e.help).contains("s3cr3t"));
}
