//! Every built-in with an unknown argument, a sensitive argument and a sensitive argument it
//! rejects: the marks flow, and no message quotes a secret.

use super::*;

/// One call per function, with the argument under test written `arg.v` and its value.
/// The third field is true when the result is known even with that argument unknown.
const CASES: &[(&str, &str, bool)] = &[
    ("lower(arg.v)", "\"AbC\"", false),
    ("upper(arg.v)", "\"AbC\"", false),
    ("title(arg.v)", "\"a b\"", false),
    ("join(\"-\", arg.v)", "[\"a\", \"b\"]", false),
    ("split(\",\", arg.v)", "\"a,b\"", false),
    ("trimspace(arg.v)", "\" a \"", false),
    ("trim(arg.v, \"?\")", "\"?a?\"", false),
    ("trimprefix(arg.v, \"a\")", "\"ab\"", false),
    ("trimsuffix(arg.v, \"b\")", "\"ab\"", false),
    ("chomp(arg.v)", "\"a\\n\"", false),
    ("substr(arg.v, 0, 1)", "\"ab\"", false),
    ("startswith(arg.v, \"a\")", "\"ab\"", false),
    ("endswith(arg.v, \"b\")", "\"ab\"", false),
    ("strcontains(arg.v, \"b\")", "\"ab\"", false),
    ("strrev(arg.v)", "\"ab\"", false),
    ("indent(2, arg.v)", "\"a\\nb\"", false),
    ("replace(arg.v, \"a\", \"b\")", "\"aa\"", false),
    ("format(\"%s!\", arg.v)", "\"a\"", false),
    ("formatlist(\"%s!\", arg.v)", "[\"a\"]", false),
    ("regex(\"[a-z]+\", arg.v)", "\"12ab\"", false),
    ("regexall(\"[a-z]\", arg.v)", "\"ab\"", false),
    ("length(arg.v)", "[1, 2]", false),
    ("concat(arg.v, [3])", "[1, 2]", false),
    ("flatten(arg.v)", "[[1], [2]]", false),
    ("element(arg.v, 3)", "[1, 2]", false),
    ("slice(arg.v, 0, 1)", "[1, 2]", false),
    ("reverse(arg.v)", "[1, 2]", false),
    ("compact(arg.v)", "[\"a\", \"\"]", false),
    ("one(arg.v)", "[1]", false),
    ("index(arg.v, 2)", "[1, 2]", false),
    ("chunklist(arg.v, 1)", "[1, 2]", false),
    ("range(arg.v)", "3", false),
    ("coalesce(arg.v, \"b\")", "\"a\"", false),
    ("coalesce(\"a\", arg.v)", "\"b\"", true),
    ("coalescelist(arg.v, [2])", "[1]", false),
    ("alltrue(arg.v)", "[true]", false),
    ("anytrue(arg.v)", "[true]", false),
    ("keys(arg.v)", "var.tags", false),
    ("values(arg.v)", "var.tags", false),
    ("lookup(arg.v, \"env\")", "var.tags", false),
    ("lookup(var.tags, \"env\", arg.v)", "\"none\"", true),
    ("merge(arg.v, var.tags)", "var.tags", false),
    ("zipmap(arg.v, [1])", "[\"a\"]", false),
    (
        "transpose(arg.v)",
        "jsondecode(\"{\\\"a\\\": [\\\"1\\\"]}\")",
        false,
    ),
    ("distinct(arg.v)", "[1, 1]", false),
    ("contains(arg.v, 1)", "[1]", false),
    ("sort(arg.v)", "[\"b\", \"a\"]", false),
    ("setunion(arg.v, [\"c\"])", "[\"a\"]", false),
    ("setintersection(arg.v, [\"a\"])", "[\"a\"]", false),
    ("setsubtract(arg.v, [\"a\"])", "[\"a\", \"b\"]", false),
    ("tostring(arg.v)", "1", false),
    ("tonumber(arg.v)", "\"1\"", false),
    ("tobool(arg.v)", "\"true\"", false),
    ("tolist(arg.v)", "[1]", false),
    ("toset(arg.v)", "[1]", false),
    ("tomap(arg.v)", "var.tags", false),
    ("min(arg.v, 2)", "1", false),
    ("max(arg.v, 2)", "1", false),
    ("sum(arg.v)", "[1, 2]", false),
    ("abs(arg.v)", "-1", false),
    ("ceil(arg.v)", "1.5", false),
    ("floor(arg.v)", "1.5", false),
    ("signum(arg.v)", "-3", false),
    ("pow(arg.v, 2)", "3", false),
    ("log(arg.v, 2)", "8", false),
    ("parseint(arg.v, 16)", "\"ff\"", false),
    ("jsonencode(arg.v)", "var.tags", false),
    ("jsondecode(arg.v)", "\"[1]\"", false),
    ("yamlencode(arg.v)", "var.tags", false),
    ("yamldecode(arg.v)", "\"a: 1\"", false),
    ("base64encode(arg.v)", "\"a\"", false),
    ("base64decode(arg.v)", "\"YQ==\"", false),
    ("urlencode(arg.v)", "\"a b\"", false),
    ("guid(arg.v)", "\"a\"", false),
    ("uuidv5(\"dns\", arg.v)", "\"a\"", false),
    ("md5(arg.v)", "\"a\"", false),
    ("sha1(arg.v)", "\"a\"", false),
    ("sha256(arg.v)", "\"a\"", false),
    ("sha512(arg.v)", "\"a\"", false),
    ("base64sha256(arg.v)", "\"a\"", false),
    ("base64sha512(arg.v)", "\"a\"", false),
    ("cidrhost(arg.v, 1)", "\"10.0.0.0/24\"", false),
    ("cidrnetmask(arg.v)", "\"10.0.0.0/24\"", false),
    ("cidrsubnet(arg.v, 8, 1)", "\"10.0.0.0/16\"", false),
    ("cidrsubnets(arg.v, 8, 8)", "\"10.0.0.0/16\"", false),
];

/// Evaluates `call` with `arg.v` bound to `v`.
fn call_with(call: &str, v: Value) -> Result<Value, EvalError> {
    let mut c = ctx();
    let mut arg = Map::new();
    arg.insert("v".into(), v);
    c.insert("arg".into(), Value::Map(arg));
    eval_template(&parse(&format!("${{{call}}}")), &c)
}

#[test]
fn every_function_has_a_marks_case() {
    for name in builtin_function_names() {
        // The special forms have their own tests; sensitive and nonsensitive ARE the marks
        // (`the_marking_functions_set_and_clear_marks`).
        if [
            "try",
            "can",
            "file",
            "fileexists",
            "templatefile",
            "sensitive",
            "nonsensitive",
        ]
        .contains(&name)
        {
            continue;
        }
        assert!(
            CASES
                .iter()
                .any(|(c, _, _)| c.starts_with(&format!("{name}("))),
            "{name} has no marks case"
        );
    }
}

#[test]
fn an_unknown_argument_gives_an_unknown_result() {
    for (call, value, known_anyway) in CASES {
        let plain = call_with(call, eval(&format!("${{{value}}}")))
            .unwrap_or_else(|e| panic!("{call} with {value}: {e}"));
        assert!(plain.is_wholly_known(), "{call}");
        assert!(!plain.contains_sensitive(), "{call}");
        let v = call_with(call, Value::Unknown).unwrap_or_else(|e| panic!("{call}: {e}"));
        if *known_anyway {
            assert_eq!(v, plain, "{call} does not need the unknown argument");
        } else {
            assert_eq!(v, Value::Unknown, "{call} with an unknown argument");
        }
    }
}

#[test]
fn a_sensitive_argument_gives_a_sensitive_result() {
    for (call, value, known_anyway) in CASES {
        let plain = eval(&format!("${{{value}}}"));
        let v = call_with(call, Value::sensitive(plain.clone()))
            .unwrap_or_else(|e| panic!("{call}: {e}"));
        if *known_anyway {
            // The argument was not used: the result is not marked by it.
            assert!(!v.contains_sensitive(), "{call}");
        } else {
            assert!(v.is_sensitive(), "{call} with a sensitive argument: {v:?}");
            assert_eq!(
                v.unmark_all(),
                call_with(call, plain).unwrap().unmark_all(),
                "{call}: the same value, marked"
            );
        }
    }
}

#[test]
fn errors_never_quote_a_sensitive_argument() {
    let secret = "s3cr3t-value";
    let calls = [
        "tonumber(arg.v)",
        "tobool(arg.v)",
        "base64decode(arg.v)",
        "jsondecode(arg.v)",
        "yamldecode(\"[\")",
        "yamldecode(arg.v)",
        "regex(arg.v, \"x\")",
        "regex(\"^x\", arg.v)",
        "replace(\"a\", \"/(/\", arg.v)",
        "parseint(arg.v, 10)",
        "uuidv5(arg.v, \"a\")",
        "cidrhost(arg.v, 1)",
        "cidrsubnet(arg.v, 1, 1)",
        "lookup(var.tags, arg.v)",
        "format(arg.v, 1)",
        "substr(arg.v, -100, 1)",
    ];
    for call in calls {
        let mut failed = 0;
        for v in [
            secret.to_string(),
            format!("{secret}(["),
            format!("{{{secret}"),
        ] {
            if let Err(e) = call_with(call, Value::sensitive(s(&v))) {
                failed += 1;
                let all = format!("{} {:?}", e.message, e.help);
                assert!(!all.contains(secret), "{call}: {all}");
            }
        }
        assert!(failed > 0, "{call} never failed");
    }
}

#[test]
fn shape_functions_keep_inner_marks() {
    // length of a list with an unknown element is known; keys of a map with unknown values.
    assert_eq!(eval("${length(var.half_known)}"), Value::from(2));
    assert_eq!(eval("${length(var.secret_list)}"), Value::from(2));
    assert!(!eval("${length(var.secret_list)}").is_sensitive());
    let mut c = ctx();
    let mut half = Map::new();
    half.insert("a".into(), Value::Unknown);
    half.insert("b".into(), Value::sensitive(s("x")));
    c.insert("half".into(), Value::Map(half.clone()));
    let run = |src: &str| eval_template(&parse(src), &c).unwrap();
    assert_eq!(run("${keys(half)}"), Value::from(json!(["a", "b"])));
    assert_eq!(
        run("${values(half)}"),
        Value::List(vec![Value::Unknown, Value::sensitive(s("x"))])
    );
    assert_eq!(run("${merge(half, var.tags)}").as_map().unwrap().len(), 4);
    assert_eq!(run("${lookup(half, \"b\")}"), Value::sensitive(s("x")));
    assert_eq!(run("${lookup(half, \"a\", 1)}"), Value::Unknown);
    assert_eq!(run("${lookup(half, \"zz\", 1)}"), Value::from(1));
    // concat, reverse, slice, element keep each element's marks.
    assert_eq!(
        eval("${concat(var.secret_list, var.half_known)}"),
        Value::List(vec![
            s("a"),
            Value::sensitive(s("b")),
            s("a"),
            Value::Unknown
        ])
    );
    assert_eq!(
        eval("${reverse(var.secret_list)}"),
        Value::List(vec![Value::sensitive(s("b")), s("a")])
    );
    assert_eq!(eval("${element(var.secret_list, 0)}"), s("a"));
    assert_eq!(
        eval("${element(var.secret_list, 1)}"),
        Value::sensitive(s("b"))
    );
    assert_eq!(
        eval("${slice(var.half_known, 0, 1)}"),
        Value::from(json!(["a"]))
    );
    assert_eq!(eval("${one([var.later])}"), Value::Unknown);
    // flatten: an unknown element might be a list, so the result is unknown.
    assert_eq!(eval("${flatten([[1], var.later])}"), Value::Unknown);
    assert_eq!(
        eval("${flatten([var.secret_list, [\"c\"]])}"),
        Value::List(vec![s("a"), Value::sensitive(s("b")), s("c")])
    );
    // zipmap: known keys, values keep their marks; an unknown key makes the map unknown.
    let z = eval("${zipmap([\"x\", \"y\"], var.half_known)}");
    assert_eq!(z.as_map().unwrap()["y"], Value::Unknown);
    assert_eq!(eval("${zipmap(var.half_known, [1, 2])}"), Value::Unknown);
    assert!(eval("${zipmap(var.secret_list, [1, 2])}").is_sensitive());
    // compact must look at every element.
    assert_eq!(eval("${compact(var.half_known)}"), Value::Unknown);
    assert!(eval("${compact(var.secret_list)}").is_sensitive());
    // distinct, contains and sort compare elements: an unknown one makes them unknown.
    assert_eq!(eval("${distinct(var.half_known)}"), Value::Unknown);
    assert_eq!(eval("${contains(var.half_known, \"a\")}"), Value::Unknown);
    assert!(eval("${distinct(var.secret_list)}").is_sensitive());
}

#[test]
fn coalesce_needs_only_what_comes_before_its_choice() {
    assert_eq!(eval("${coalesce(null, \"\", \"b\", var.later)}"), s("b"));
    assert_eq!(eval("${coalesce(null, var.later, \"b\")}"), Value::Unknown);
    assert_eq!(
        eval("${coalesce(var.secret, \"b\")}"),
        Value::sensitive(s("s3cr3t"))
    );
    assert_eq!(eval("${coalesce(\"a\", var.secret)}"), s("a"));
    assert!(eval("${coalesce(var.nothing, var.secret)}").is_sensitive());
    assert_eq!(
        eval("${coalescelist([], var.names, var.later)}"),
        Value::from(json!(["a", "b", "c"]))
    );
}

#[test]
fn the_marking_functions_set_and_clear_marks() {
    // sensitive(): the value, marked; unknown stays unknown (and marked).
    let v = call_with("sensitive(arg.v)", s("x")).unwrap();
    assert_eq!(v, Value::sensitive(s("x")));
    let v = call_with("sensitive(arg.v)", Value::Unknown).unwrap();
    assert!(v.is_sensitive() && v.is_unknown());
    // A sensitive value through an operator stays sensitive until nonsensitive() says so.
    let secret = Value::sensitive(s("s3cr3t-value"));
    let v = call_with("length(arg.v) > 3", secret.clone()).unwrap();
    assert_eq!(v, Value::sensitive(Value::Bool(true)));
    let v = call_with("nonsensitive(length(arg.v) > 3)", secret.clone()).unwrap();
    assert_eq!(v, Value::Bool(true));
    // Inner marks are removed too; unknown parts stay unknown.
    let mut m = Map::new();
    m.insert("a".into(), secret);
    m.insert("b".into(), Value::Unknown);
    let v = call_with("nonsensitive(arg.v)", Value::Map(m)).unwrap();
    assert!(!v.contains_sensitive());
    assert_eq!(v.as_map().unwrap()["b"], Value::Unknown);
}
