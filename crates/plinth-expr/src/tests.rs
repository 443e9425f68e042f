use std::cell::Cell;
use std::ops::Range;

use plinth_value::{Map, Value};
use serde_json::json;

use crate::*;

// ---- helpers -----------------------------------------------------------------------------

fn parse(src: &str) -> Template {
    parse_template(src).unwrap_or_else(|e| panic!("parse {src:?}: {e} at {:?}", e.span))
}

fn parse_err(src: &str) -> ParseError {
    match parse_template(src) {
        Ok(t) => panic!("expected a parse error for {src:?}, got {t:?}"),
        Err(e) => e,
    }
}

fn single(src: &str) -> Expr {
    parse(src)
        .single_expr()
        .cloned()
        .unwrap_or_else(|| panic!("{src:?} is not a single expression"))
}

fn ctx() -> Map {
    let mut m = Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        m.insert(k.to_string(), Value::from(v));
    };
    put(
        "rg",
        json!({"id": "/subscriptions/s/resourceGroups/demo-rg", "name": "demo-rg"}),
    );
    put(
        "var",
        json!({"location": "eastus", "prefix": "demo", "count": 3, "ratio": 1.5, "flag": true,
               "names": ["a", "b", "c"], "tags": {"env": "dev", "app": "x"}, "nothing": null,
               "encoded": "aGVsbG8=", "idx": 1}),
    );
    put(
        "app",
        json!({"blue": {"id": "blue-id"}, "green": {"id": "green-id"}}),
    );
    put("x", json!({"list": [10, 20, 30]}));
    put("each", json!({"key": "k1", "value": "v1"}));
    let mut v = m["var"].clone();
    v.set(
        &"secret".parse().unwrap(),
        Value::sensitive(Value::from("s3cr3t")),
    );
    v.set(
        &"secret_list".parse().unwrap(),
        Value::List(vec![Value::from("a"), Value::sensitive(Value::from("b"))]),
    );
    v.set(&"later".parse().unwrap(), Value::Unknown);
    v.set(
        &"half_known".parse().unwrap(),
        Value::List(vec![Value::from("a"), Value::Unknown]),
    );
    m.insert("var".into(), v);
    let mut aks = Value::from(json!({"properties": {"oidcIssuerProfile": {"enabled": true}}}));
    aks.set(
        &"properties.oidcIssuerProfile.issuerURL".parse().unwrap(),
        Value::Unknown,
    );
    m.insert("aks".into(), aks);
    m
}

fn eval(src: &str) -> Value {
    eval_template(&parse(src), &ctx())
        .unwrap_or_else(|e| panic!("eval {src:?}: {e} ({:?})", e.help))
}

fn eval_err(src: &str) -> EvalError {
    match eval_template(&parse(src), &ctx()) {
        Ok(v) => panic!("expected an error for {src:?}, got {v:?}"),
        Err(e) => e,
    }
}

fn s(v: &str) -> Value {
    Value::from(v)
}

fn slice(src: &str, span: &Range<usize>) -> String {
    src[span.clone()].to_string()
}

// ---- parsing -----------------------------------------------------------------------------

#[test]
fn plain_text_and_escaped_dollar() {
    let t = parse("just text");
    assert!(t.is_literal());
    assert_eq!(t.parts, vec![Part::Lit("just text".into())]);
    assert!(t.single_expr().is_none());

    let t = parse("");
    assert!(t.parts.is_empty() && t.is_literal());
    assert_eq!(eval(""), s(""));

    let t = parse("cost: $${not.an.expr} and $5 and $$");
    assert!(t.is_literal());
    assert_eq!(
        t.literal_text().unwrap(),
        "cost: ${not.an.expr} and $5 and $$"
    );
    assert!(t.references().is_empty());
}

#[test]
fn single_reference_with_spans() {
    let src = "${rg.id}";
    let t = parse(src);
    let e = t.single_expr().unwrap();
    assert_eq!(slice(src, &e.span), "rg.id");
    let ExprKind::Ref(r) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(r.root, "rg");
    assert_eq!(slice(src, &r.root_span), "rg");
    assert_eq!(slice(src, &r.span), "rg.id");
    let [RefStep::Attr { name, span }] = r.steps.as_slice() else {
        panic!()
    };
    assert_eq!(name, "id");
    assert_eq!(slice(src, span), "id");
}

#[test]
fn reference_span_inside_call_inside_text() {
    let src = "x-${lower(foo.bar)}";
    let t = parse(src);
    assert_eq!(t.parts.len(), 2);
    assert_eq!(t.parts[0], Part::Lit("x-".into()));
    let refs = t.references();
    assert_eq!(refs.len(), 1);
    assert_eq!(slice(src, &refs[0].span), "foo.bar");
    assert_eq!(refs[0].span, 10..17);
    let Part::Interp(e) = &t.parts[1] else {
        panic!()
    };
    assert_eq!(slice(src, &e.span), "lower(foo.bar)");
    let ExprKind::Call {
        name,
        name_span,
        args,
    } = &e.kind
    else {
        panic!()
    };
    assert_eq!(name, "lower");
    assert_eq!(slice(src, name_span), "lower");
    assert_eq!(args.len(), 1);
}

#[test]
fn whitespace_between_tokens() {
    let src = "${  rg . id  }";
    let e = single(src);
    assert_eq!(slice(src, &e.span), "rg . id");
    let src = "${ format ( \"%s\" ,\n var.prefix , ) }";
    let e = single(src);
    let ExprKind::Call {
        name,
        args,
        name_span,
    } = &e.kind
    else {
        panic!()
    };
    assert_eq!(name, "format");
    assert_eq!(slice(src, name_span), "format");
    assert_eq!(args.len(), 2);
    assert_eq!(slice(src, &args[1].span), "var.prefix");
}

#[test]
fn all_reference_forms() {
    for (src, root, shown) in [
        (
            "${aks.properties.oidcIssuerProfile.issuerURL}",
            "aks",
            "aks.properties.oidcIssuerProfile.issuerURL",
        ),
        ("${var.location}", "var", "var.location"),
        ("${env.HOME}", "env", "env.HOME"),
        ("${each.key}", "each", "each.key"),
        ("${app[\"blue\"].id}", "app", "app[\"blue\"].id"),
        ("${data.sub.id}", "data", "data.sub.id"),
        ("${x.list[0]}", "x", "x.list[0]"),
        ("${my-res_2.id}", "my-res_2", "my-res_2.id"),
        ("${_x}", "_x", "_x"),
    ] {
        let e = single(src);
        let ExprKind::Ref(r) = &e.kind else {
            panic!("{src}: {e:?}")
        };
        assert_eq!(r.root, root, "{src}");
        assert_eq!(r.to_string(), shown, "{src}");
        assert_eq!(slice(src, &r.span), shown, "{src}");
    }
}

#[test]
fn index_steps_carry_expressions() {
    let src = "${app[\"blue\"].id}";
    let e = single(src);
    let ExprKind::Ref(r) = &e.kind else { panic!() };
    let RefStep::Index(ix) = &r.steps[0] else {
        panic!()
    };
    assert_eq!(ix.kind, ExprKind::Literal(s("blue")));
    assert_eq!(slice(src, &ix.span), "\"blue\"");
    assert_eq!(slice(src, &r.step_span(1)), "id");
    assert_eq!(r.prefix(1), "app[\"blue\"]");

    let src = "${x.list[ var.idx ]}";
    let t = parse(src);
    let refs = t.references();
    assert_eq!(
        refs.iter().map(|r| slice(src, &r.span)).collect::<Vec<_>>(),
        ["x.list[ var.idx ]", "var.idx"]
    );
}

#[test]
fn function_calls() {
    let src = "${azure.role_definition_id(\"Azure Service Bus Data Owner\")}";
    let e = single(src);
    let ExprKind::Call {
        name,
        name_span,
        args,
    } = &e.kind
    else {
        panic!()
    };
    assert_eq!(name, "azure.role_definition_id");
    assert_eq!(slice(src, name_span), "azure.role_definition_id");
    assert_eq!(
        args[0].kind,
        ExprKind::Literal(s("Azure Service Bus Data Owner"))
    );
    assert_eq!(e.span, 2..src.len() - 1);

    let e = single("${guid(a, b)}");
    let ExprKind::Call { args, .. } = &e.kind else {
        panic!()
    };
    assert_eq!(args.len(), 2);
    let e = single("${f()}");
    let ExprKind::Call { args, .. } = &e.kind else {
        panic!()
    };
    assert!(args.is_empty());
}

#[test]
fn literals() {
    let lit = |src: &str| match single(src).kind {
        ExprKind::Literal(v) => v,
        k => panic!("{src}: {k:?}"),
    };
    assert_eq!(lit("${null}"), Value::Null);
    assert_eq!(lit("${true}"), Value::Bool(true));
    assert_eq!(lit("${false}"), Value::Bool(false));
    assert_eq!(lit("${42}"), Value::from(42));
    assert_eq!(lit("${-7}"), Value::from(-7));
    assert_eq!(lit("${3.25}"), Value::from(json!(3.25)));
    assert_eq!(lit("${-0.5}"), Value::from(json!(-0.5)));
    assert_eq!(lit("${1e3}"), Value::from(json!(1000.0)));
    assert_eq!(
        lit("${18446744073709551615}"),
        Value::from(json!(18446744073709551615u64))
    );
    assert_eq!(lit("${\"\"}"), s(""));
    assert_eq!(lit("${\"a b\"}"), s("a b"));
}

#[test]
fn string_escapes() {
    let e = single(r#"${"q\" b\\ s\/ \n\t\r\b\f \u00e9 \ud83d\ude00 $${x} }"}"#);
    assert_eq!(
        e.kind,
        ExprKind::Literal(s("q\" b\\ s/ \n\t\r\u{8}\u{c} é 😀 ${x} }"))
    );
}

#[test]
fn lists() {
    let src = "${[1, \"a\", [true], var.x,]}";
    let e = single(src);
    let ExprKind::List(items) = &e.kind else {
        panic!()
    };
    assert_eq!(items.len(), 4);
    assert_eq!(slice(src, &e.span), "[1, \"a\", [true], var.x,]");
    assert_eq!(slice(src, &items[2].span), "[true]");
    let ExprKind::List(items) = single("${[ ]}").kind else {
        panic!()
    };
    assert!(items.is_empty());
}

#[test]
fn nested_templates_and_their_spans() {
    let src = "a-${lower(\"X-${var.prefix}-${join(\",\", [\"${each.key}\"])}\")}-b";
    let t = parse(src);
    let shown: Vec<String> = t.references().iter().map(|r| slice(src, &r.span)).collect();
    assert_eq!(shown, ["var.prefix", "each.key"]);
    let Part::Interp(e) = &t.parts[1] else {
        panic!()
    };
    let ExprKind::Call { args, .. } = &e.kind else {
        panic!()
    };
    let ExprKind::Template(inner) = &args[0].kind else {
        panic!("{:?}", args[0])
    };
    assert_eq!(inner.parts[0], Part::Lit("X-".into()));
    assert_eq!(eval(src), s("a-x-demo-k1-b"));
}

#[test]
fn parentheses_group() {
    let src = "${ ( rg.id ) }";
    let e = single(src);
    assert_eq!(slice(src, &e.span), "rg.id");
    assert_eq!(eval("${((var.count))}"), Value::from(3));
}

#[test]
fn references_are_collected_everywhere() {
    let src = "${f(a.b, [c.d], \"${e.f}\", g[h.i], (j))} and ${k}";
    let roots: Vec<String> = parse(src)
        .references()
        .iter()
        .map(|r| r.root.clone())
        .collect();
    assert_eq!(roots, ["a", "c", "e", "g", "h", "j", "k"]);
}

#[test]
fn display_round_trips() {
    for src in [
        "${rg.id}",
        "x-${lower(foo.bar)}-y",
        "${app[\"blue\"].id}",
        "${format(\"%s-%d\", var.prefix, 3)}",
        "${[1, -2.5, true, null, \"a\\\"b\"]}",
        "${lower(\"x-${var.name}-$${lit}\")}",
        "$${kept} ${x.list[0]}",
    ] {
        let t = parse(src);
        assert_eq!(t.to_string(), src);
        let again = parse(&t.to_string());
        assert_eq!(again.to_string(), src);
    }
    assert_eq!(parse("${  rg . id }").to_string(), "${rg.id}");
}

// ---- parse errors ------------------------------------------------------------------------

#[test]
fn unclosed_interpolation() {
    let e = parse_err("abc ${foo");
    assert_eq!(e.message, "`${` at column 5 is never closed: expected `}`");
    assert_eq!(e.span, 4..6);
    assert_eq!(e.expected.as_deref(), Some("`}`"));
    let e = parse_err("${");
    assert!(e.message.contains("never closed"), "{e}");
    let e = parse_err("line one\nx ${ rg.id");
    assert_eq!(
        e.message,
        "`${` at line 2, column 3 is never closed: expected `}`"
    );
}

#[test]
fn empty_interpolation() {
    for src in ["${}", "a ${  } b"] {
        let e = parse_err(src);
        assert!(e.message.starts_with("empty `${}`"), "{e}");
        assert_eq!(e.expected.as_deref(), Some("an expression"));
    }
    assert_eq!(parse_err("a ${  } b").span, 2..7);
}

#[test]
fn trailing_tokens() {
    let src = "${foo bar}";
    let e = parse_err(src);
    assert_eq!(
        e.message,
        "unexpected `bar` after the expression: expected `}` to close `${` at column 1"
    );
    assert_eq!(slice(src, &e.span), "bar");
    let e = parse_err("${a + b}");
    assert!(e.message.contains("no operators"), "{e}");
    assert_eq!(e.span, 4..5);
    let e = parse_err("${lower(x) upper(y)}");
    assert!(e.message.starts_with("unexpected `upper`"), "{e}");
}

#[test]
fn unterminated_string() {
    let src = "${lower(\"abc}";
    let e = parse_err(src);
    assert_eq!(
        e.message,
        "string starting at column 9 is never closed: expected `\"`"
    );
    assert_eq!(slice(src, &e.span), "\"");
    let e = parse_err("${\"abc\\");
    assert!(e.message.contains("never closed"), "{e}");
}

#[test]
fn unclosed_brackets_name_the_opener() {
    let e = parse_err("${foo(a}");
    assert_eq!(
        e.message,
        "`(` at column 6 is never closed: expected `)` before `}`"
    );
    assert_eq!(e.span, 7..8);
    let e = parse_err("${foo(}");
    assert_eq!(
        e.message,
        "`(` at column 6 is never closed: expected `)` before `}`"
    );
    let e = parse_err("${[1, 2");
    assert_eq!(e.message, "`[` at column 3 is never closed: expected `]`");
    let e = parse_err("${x[0}");
    assert!(
        e.message.starts_with("`[` at column 4 is never closed"),
        "{e}"
    );
    let e = parse_err("${f(1 2)}");
    assert_eq!(
        e.message,
        "unexpected `2` after a function argument: expected `,` or `)`"
    );
}

#[test]
fn unexpected_characters() {
    let e = parse_err("${@}");
    assert_eq!(e.message, "expected an expression, found `@`");
    assert_eq!(e.span, 2..3);
    let e = parse_err("${[,]}");
    assert_eq!(e.message, "expected an expression, found `,`");
    let e = parse_err("${x.}");
    assert!(e.message.contains("after `.`"), "{e}");
    let e = parse_err("${x.0}");
    assert_eq!(
        e.message,
        "`.0` is not an attribute name: index a list with `[0]`"
    );
    let e = parse_err("${()}");
    assert_eq!(e.message, "empty parentheses `()`");
}

#[test]
fn bad_escapes_and_numbers() {
    let e = parse_err(r#"${"a\qb"}"#);
    assert_eq!(e.message, "invalid escape `\\q` in a string");
    assert_eq!(e.span, 4..6);
    assert!(
        parse_err(r#"${"\u12"}"#)
            .message
            .contains("4 hexadecimal digits")
    );
    assert!(
        parse_err(r#"${"\ud800x"}"#)
            .message
            .contains("low surrogate")
    );
    assert_eq!(parse_err("${1abc}").message, "invalid number `1abc`");
    assert_eq!(
        parse_err("${1.}").message,
        "invalid number `1.`: expected a digit after `.`"
    );
    assert!(
        parse_err("${-x}")
            .message
            .contains("`-` must be followed by a number")
    );
    assert!(parse_err("${1-2}").message.contains("no operators"));
}

#[test]
fn calls_on_indexes_and_results_are_rejected() {
    let e = parse_err("${x[0](1)}");
    assert!(e.message.contains("cannot be called"), "{e}");
    let e = parse_err("${f(x).y}");
    assert_eq!(
        e.message,
        "the result of `f(...)` cannot be indexed with `.`"
    );
    let e = parse_err("${true.x}");
    assert!(e.message.contains("keyword"), "{e}");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let src = format!("${{{}}}", "[".repeat(10_000));
    assert!(parse_err(&src).message.contains("nested too deeply"));
    let src = format!("${{{}1{}}}", "(".repeat(500), ")".repeat(500));
    assert!(parse_err(&src).message.contains("nested too deeply"));
    let src = "${f(\"".repeat(200);
    assert!(parse_template(&src).is_err());
    // 30 levels are fine.
    let src = format!("${{{}1{}}}", "[".repeat(30), "]".repeat(30));
    assert!(parse_template(&src).is_ok());
}

// ---- evaluation ----------------------------------------------------------------------------

#[test]
fn single_interpolation_keeps_type() {
    assert_eq!(eval("${var.count}"), Value::from(3));
    assert_eq!(eval("${var.flag}"), Value::Bool(true));
    assert_eq!(eval("${var.names}"), Value::from(json!(["a", "b", "c"])));
    assert_eq!(
        eval("${var.tags}"),
        Value::from(json!({"env": "dev", "app": "x"}))
    );
    assert_eq!(eval("${var.nothing}"), Value::Null);
    assert_eq!(eval("${[var.count, \"x\"]}"), Value::from(json!([3, "x"])));
    // A quoted string is a string, even if it is one interpolation.
    assert_eq!(eval("${\"${var.count}\"}"), s("3"));
}

#[test]
fn concatenation() {
    assert_eq!(eval("${var.prefix}-rg"), s("demo-rg"));
    assert_eq!(
        eval("n=${var.count} r=${var.ratio} f=${var.flag} ${1.0} ${-2}"),
        s("n=3 r=1.5 f=true 1 -2")
    );
    assert_eq!(eval("${var.prefix}${var.location}"), s("demoeastus"));
    assert_eq!(eval("$${var.prefix}"), s("${var.prefix}"));
    assert_eq!(
        eval("${app[\"blue\"].id}/${x.list[1]}/${x.list[var.idx]}"),
        s("blue-id/20/20")
    );
    assert_eq!(eval("${each.key}=${each.value}"), s("k1=v1"));
}

#[test]
fn interpolating_collections_and_null_is_an_error() {
    let src = "names: ${var.names}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "cannot interpolate a list into a string; use join(...) or make the whole string one `${...}`"
    );
    assert_eq!(slice(src, &e.span), "var.names");
    let e = eval_err("t: ${var.tags}");
    assert!(
        e.message
            .starts_with("cannot interpolate a map into a string"),
        "{e}"
    );
    let e = eval_err("n: ${var.nothing}");
    assert_eq!(e.message, "cannot interpolate null into a string");
}

#[test]
fn unknown_propagates() {
    assert_eq!(
        eval("${aks.properties.oidcIssuerProfile.issuerURL}"),
        Value::Unknown
    );
    assert_eq!(
        eval("issuer=${aks.properties.oidcIssuerProfile.issuerURL}"),
        Value::Unknown
    );
    // walking through an unknown value stays unknown
    assert_eq!(eval("${var.later.deeper[0]}"), Value::Unknown);
    assert_eq!(eval("${lower(var.later)}"), Value::Unknown);
    assert_eq!(eval("${guid(rg.id, var.later)}"), Value::Unknown);
    assert_eq!(eval("${join(\",\", var.half_known)}"), Value::Unknown);
    assert_eq!(eval("${\"x-${var.later}\"}"), Value::Unknown);
    // functions that only need the shape stay known
    assert_eq!(eval("${length(var.half_known)}"), Value::from(2));
    assert_eq!(
        eval("${concat(var.half_known, [\"z\"])}"),
        Value::List(vec![s("a"), Value::Unknown, s("z")])
    );
    assert_eq!(eval("${length(var.later)}"), Value::Unknown);
    // an unknown index gives an unknown value
    assert_eq!(eval("${x.list[var.later]}"), Value::Unknown);
}

#[test]
fn sensitive_propagates() {
    let v = eval("pw=${var.secret}");
    assert_eq!(v, Value::sensitive(s("pw=s3cr3t")));
    assert_eq!(v.to_string(), "(sensitive)");
    assert_eq!(eval("${var.secret}"), Value::sensitive(s("s3cr3t")));
    assert_eq!(eval("${upper(var.secret)}"), Value::sensitive(s("S3CR3T")));
    assert_eq!(
        eval("${base64encode(var.secret)}"),
        Value::sensitive(s("czNjcjN0"))
    );
    assert_eq!(
        eval("${join(\"-\", var.secret_list)}"),
        Value::sensitive(s("a-b"))
    );
    // unknown and sensitive together
    assert_eq!(
        eval("${var.secret}${var.later}"),
        Value::sensitive(Value::Unknown)
    );
    assert_eq!(
        eval("${guid(var.secret, var.later)}"),
        Value::sensitive(Value::Unknown)
    );
    // a list keeps the marks of its elements; length() of it is not secret
    assert_eq!(eval("${length(var.secret_list)}"), Value::from(2));
    assert_eq!(
        eval("${length(var.secret)}"),
        Value::sensitive(Value::from(6))
    );
    // a sensitive index marks the result
    let mut c = ctx();
    c.insert("k".into(), Value::sensitive(s("blue")));
    let v = eval_template(&parse("${app[k].id}"), &c).unwrap();
    assert_eq!(v, Value::sensitive(s("blue-id")));
}

#[test]
fn reference_errors_point_at_the_step_and_suggest() {
    let src = "${rg.idd}";
    let e = eval_err(src);
    assert_eq!(e.message, "`rg` has no attribute `idd`");
    assert_eq!(e.help.as_deref(), Some("did you mean `id`?"));
    assert_eq!(slice(src, &e.span), "idd");

    let src = "x ${rgg.id}";
    let e = eval_err(src);
    assert_eq!(e.message, "unknown name `rgg`");
    assert_eq!(e.help.as_deref(), Some("did you mean `rg`?"));
    assert_eq!(slice(src, &e.span), "rgg");

    let e = eval_err("${aks.properties.oidcIssuerprofile.enabled}");
    assert_eq!(e.help.as_deref(), Some("did you mean `oidcIssuerProfile`?"));

    let src = "${x.list[7]}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "index 7 is out of range: `x.list` has 3 elements"
    );
    assert_eq!(slice(src, &e.span), "7");
    let e = eval_err("${x.list[\"a\"]}");
    assert_eq!(
        e.message,
        "`x.list` is a list, so its index must be a number, not a string"
    );
    let e = eval_err("${x.list.first}");
    assert_eq!(
        e.message,
        "`x.list` is a list, so it has no attribute `first`"
    );
    let e = eval_err("${app[\"bleu\"].id}");
    assert_eq!(e.message, "`app` has no key \"bleu\"");
    assert_eq!(e.help.as_deref(), Some("did you mean \"blue\"?"));
    let e = eval_err("${var.nothing.x}");
    assert_eq!(
        e.message,
        "`var.nothing` is null, so it has no attribute `x`"
    );
    let e = eval_err("${var.count[0]}");
    assert_eq!(
        e.message,
        "`var.count` is a number, so it cannot be indexed"
    );
}

// ---- functions -----------------------------------------------------------------------------

#[test]
fn guid_matches_bicep_baseline() {
    // From Azure/bicep src/Bicep.Core.Samples/Files/baselines_bicepparam/Expressions:
    // `guid('asdf')` evaluates to this value in Microsoft's own evaluator.
    assert_eq!(
        eval("${guid(\"asdf\")}"),
        s("228d27cc-6fdb-5934-b7ac-1efccebade04")
    );
    assert_eq!(guid(&["asdf"]), "228d27cc-6fdb-5934-b7ac-1efccebade04");
    // Multiple arguments are joined with `-` (UUIDv5 of "hello-world"); order matters.
    assert_eq!(
        guid(&["hello", "world"]),
        "a5b868f8-11fe-567a-ace0-e77cc87f104e"
    );
    assert_eq!(guid(&["hello-world"]), guid(&["hello", "world"]));
    assert_ne!(guid(&["hello", "world"]), guid(&["world", "hello"]));
}

#[test]
fn guid_is_deterministic_and_well_formed() {
    let a = eval("${guid(rg.id, \"Azure Service Bus Data Owner\", var.prefix)}");
    let b = eval("${guid(rg.id, \"Azure Service Bus Data Owner\", var.prefix)}");
    assert_eq!(a, b);
    let text = a.as_str().unwrap();
    assert_eq!(text.len(), 36);
    let groups: Vec<&str> = text.split('-').collect();
    assert_eq!(
        groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert!(
        text.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-')
    );
    assert_eq!(&text[14..15], "5", "version 5");
    assert!(
        matches!(&text[19..20], "8" | "9" | "a" | "b"),
        "RFC 4122 variant"
    );
    assert_ne!(a, eval("${guid(rg.id)}"));
}

#[test]
fn guid_argument_errors() {
    let e = eval_err("${guid()}");
    assert_eq!(
        e.message,
        "guid() expects at least 1 argument (strings to hash), got 0"
    );
    assert!(e.help.unwrap().contains("guid("));
    let src = "${guid(\"a\", var.count)}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "guid() expects argument 2 to be a string, got a number"
    );
    assert_eq!(slice(src, &e.span), "var.count");
}

#[test]
fn string_functions() {
    assert_eq!(eval("${lower(\"AbC\")}"), s("abc"));
    assert_eq!(eval("${upper(var.prefix)}"), s("DEMO"));
    assert_eq!(eval("${join(\",\", var.names)}"), s("a,b,c"));
    assert_eq!(eval("${join(\"\", [])}"), s(""));
    assert_eq!(eval("${join(\"-\", [\"a\", 1, true])}"), s("a-1-true"));
    assert_eq!(eval("${base64encode(\"hello\")}"), s("aGVsbG8="));
    assert_eq!(eval("${base64encode(\"é\")}"), s("w6k="));
    assert_eq!(eval("${base64decode(var.encoded)}"), s("hello"));
    assert_eq!(
        eval("${base64decode(base64encode(\"round ✓ trip\"))}"),
        s("round ✓ trip")
    );
    assert_eq!(eval("${tostring(var.count)}"), s("3"));
    assert_eq!(eval("${tostring(\"x\")}"), s("x"));
    assert_eq!(eval("${tostring(false)}"), s("false"));
    assert_eq!(eval("${tostring(null)}"), Value::Null);
    assert_eq!(eval("${length(\"héllo\")}"), Value::from(5));
    assert_eq!(eval("${length(var.tags)}"), Value::from(2));
    assert_eq!(eval("${length([])}"), Value::from(0));
    assert_eq!(
        eval("${concat([1], [], [2, 3])}"),
        Value::from(json!([1, 2, 3]))
    );
}

#[test]
fn jsonencode_is_deterministic() {
    assert_eq!(
        eval("${jsonencode(var.tags)}"),
        s(r#"{"app":"x","env":"dev"}"#)
    );
    assert_eq!(
        eval("${jsonencode([1, \"a\", null, true])}"),
        s(r#"[1,"a",null,true]"#)
    );
    assert_eq!(eval("${jsonencode(\"q\\\"\")}"), s(r#""q\"""#));
}

#[test]
fn format_function() {
    assert_eq!(
        eval("${format(\"%s-%d-%v-%%\", var.prefix, var.count, var.flag)}"),
        s("demo-3-true-%")
    );
    assert_eq!(
        eval("${format(\"%v|%v|%v\", var.names, null, 2.5)}"),
        s(r#"["a","b","c"]|null|2.5"#)
    );
    assert_eq!(eval("${format(\"plain\")}"), s("plain"));
    assert_eq!(eval("${format(\"%s\", 7)}"), s("7"));
    let e = eval_err("${format(\"%s-%s\", \"a\")}");
    assert_eq!(
        e.message,
        "format(): the format string has 2 verbs but 1 value was given"
    );
    let e = eval_err("${format(\"%s\", \"a\", \"b\")}");
    assert_eq!(
        e.message,
        "format(): the format string has 1 verb but 2 values were given"
    );
    let e = eval_err("${format(\"%x\", 1)}");
    assert!(
        e.message.starts_with("format(): unsupported verb `%x`"),
        "{e}"
    );
    let e = eval_err("${format(\"100%\")}");
    assert!(e.message.contains("lone `%`"), "{e}");
    let src = "${format(\"%d\", \"abc\")}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "format(): %d expects a whole number, got a string (value 1)"
    );
    assert_eq!(slice(src, &e.span), "\"abc\"");
    let e = eval_err("${format(\"%d\", 1.5)}");
    assert!(e.message.contains("whole number"), "{e}");
    let e = eval_err("${format(\"%s\", var.names)}");
    assert!(e.message.contains("%s cannot format a list"), "{e}");
    let e = eval_err("${format()}");
    assert!(
        e.message
            .starts_with("format() expects at least 1 argument"),
        "{e}"
    );
}

#[test]
fn function_type_and_arity_errors() {
    let e = eval_err("${lower(\"a\", \"b\")}");
    assert_eq!(e.message, "lower() expects 1 argument (a string), got 2");
    assert_eq!(e.span, 2..17);
    let src = "${lower(var.names)}";
    let e = eval_err(src);
    assert_eq!(e.message, "lower() expects a string, got a list");
    assert_eq!(slice(src, &e.span), "var.names");
    let e = eval_err("${join(\",\")}");
    assert_eq!(
        e.message,
        "join() expects 2 arguments (a separator string and a list of strings), got 1"
    );
    let e = eval_err("${join(\",\", \"abc\")}");
    assert_eq!(
        e.message,
        "join() expects argument 2 to be a list, got a string"
    );
    let e = eval_err("${join(\",\", [[1]])}");
    assert_eq!(
        e.message,
        "join() needs a list of strings, but element 0 is a list"
    );
    let e = eval_err("${base64decode(\"not base64!\")}");
    assert_eq!(
        e.message,
        "base64decode(): the argument is not valid base64"
    );
    let e = eval_err("${base64decode(\"/w==\")}");
    assert_eq!(
        e.message,
        "base64decode(): the decoded bytes are not UTF-8 text"
    );
    let e = eval_err("${tostring(var.tags)}");
    assert!(
        e.message.starts_with("tostring() cannot convert a map"),
        "{e}"
    );
    let e = eval_err("${length(1)}");
    assert_eq!(
        e.message,
        "length() expects a list, map or string, got a number"
    );
    let e = eval_err("${concat([1], 2)}");
    assert_eq!(
        e.message,
        "concat() expects argument 2 to be a list, got a number"
    );
}

#[test]
fn unknown_function_suggests() {
    let src = "${lowr(var.prefix)}";
    let e = eval_err(src);
    assert_eq!(e.message, "unknown function `lowr`");
    assert_eq!(e.help.as_deref(), Some("did you mean `lower`?"));
    assert_eq!(slice(src, &e.span), "lowr");
    let e = eval_err("${frobnicate(1)}");
    assert!(
        e.help.unwrap().contains("guid, lower, upper"),
        "lists the functions"
    );
}

/// A context with a provider function, counting its calls.
struct Provider {
    values: Map,
    calls: Cell<usize>,
}

impl Context for Provider {
    fn lookup(&self, r: &Reference, steps: &[ResolvedStep]) -> Result<Value, EvalError> {
        self.values.lookup(r, steps)
    }

    fn call_external(
        &self,
        name: &str,
        args: &[Value],
        span: Range<usize>,
    ) -> Option<Result<Value, EvalError>> {
        if name != "azure.role_definition_id" {
            return None;
        }
        self.calls.set(self.calls.get() + 1);
        Some(match args {
            [Value::String(n)] if n == "Azure Service Bus Data Owner" => Ok(s(
                "/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419",
            )),
            [Value::String(n)] => Err(EvalError::new(
                format!("no built-in role named {n:?}"),
                span,
            )),
            _ => Err(EvalError::new(
                "azure.role_definition_id() expects 1 argument (a role name)",
                span,
            )),
        })
    }

    fn external_functions(&self) -> Vec<String> {
        vec!["azure.role_definition_id".into()]
    }
}

#[test]
fn external_functions() {
    let p = Provider {
        values: ctx(),
        calls: Cell::new(0),
    };
    let run = |src: &str| eval_template(&parse(src), &p);
    assert_eq!(
        run("${azure.role_definition_id(\"Azure Service Bus Data Owner\")}").unwrap(),
        s(
            "/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419"
        )
    );
    assert_eq!(p.calls.get(), 1);
    // nested in a builtin
    let v =
        run("${guid(rg.id, azure.role_definition_id(\"Azure Service Bus Data Owner\"))}").unwrap();
    assert_eq!(v.as_str().unwrap().len(), 36);
    // unknown argument: not called, result unknown
    assert_eq!(
        run("${azure.role_definition_id(var.later)}").unwrap(),
        Value::Unknown
    );
    assert_eq!(p.calls.get(), 2);
    // sensitive argument: called with the plain value, result marked
    assert!(run("${azure.role_definition_id(var.secret)}").is_err());
    let mut c = ctx();
    c.insert(
        "role".into(),
        Value::sensitive(s("Azure Service Bus Data Owner")),
    );
    let p2 = Provider {
        values: c,
        calls: Cell::new(0),
    };
    let v = eval_template(&parse("${azure.role_definition_id(role)}"), &p2).unwrap();
    assert!(v.is_sensitive());
    // the provider's own error comes through with its span
    let src = "${azure.role_definition_id(\"Nope\")}";
    let e = run(src).unwrap_err();
    assert_eq!(e.message, "no built-in role named \"Nope\"");
    assert_eq!(slice(src, &e.span), &src[2..src.len() - 1]);
    // misspelt external function
    let src = "${azure.role_definition(\"x\")}";
    let e = run(src).unwrap_err();
    assert_eq!(e.message, "unknown function `azure.role_definition`");
    assert_eq!(
        e.help.as_deref(),
        Some("did you mean `azure.role_definition_id`?")
    );
    let e = run("${role_definition_id(\"x\")}").unwrap_err();
    assert_eq!(
        e.help.as_deref(),
        Some("did you mean `azure.role_definition_id`?")
    );
}

#[test]
fn did_you_mean_thresholds() {
    let names = ["location", "prefix", "count"];
    assert_eq!(did_you_mean("locaton", names).as_deref(), Some("location"));
    assert_eq!(did_you_mean("LOCATION", names).as_deref(), Some("location"));
    assert_eq!(did_you_mean("zzzzzz", names), None);
    assert_eq!(did_you_mean("x", ["y"]).as_deref(), Some("y"));
    assert_eq!(did_you_mean("a", Vec::<&str>::new()), None);
}

#[test]
fn the_flagship_expressions() {
    let mut c = ctx();
    c.insert(
        "mi".into(),
        Value::from(json!({"properties": {"principalId": "11111111-2222-3333-4444-555555555555", "clientId": "c"}})),
    );
    c.insert("sb".into(), Value::from(json!({"id": "/subscriptions/s/resourceGroups/demo-rg/providers/Microsoft.ServiceBus/namespaces/demo-sb"})));
    let run = |src: &str| eval_template(&parse(src), &c).unwrap();
    assert_eq!(run("${var.prefix}-mi"), s("demo-mi"));
    assert_eq!(
        run("system:serviceaccount:default:${var.prefix}-mi"),
        s("system:serviceaccount:default:demo-mi")
    );
    let g =
        run("${guid(sb.id, mi.properties.principalId, \"090c5cfd-751d-490a-894a-3ce6f1109419\")}");
    assert_eq!(
        g.as_str().unwrap(),
        guid(&[
            "/subscriptions/s/resourceGroups/demo-rg/providers/Microsoft.ServiceBus/namespaces/demo-sb",
            "11111111-2222-3333-4444-555555555555",
            "090c5cfd-751d-490a-894a-3ce6f1109419",
        ])
    );
}

mod properties {
    use proptest::prelude::*;

    use crate::*;

    fn check_spans(src: &str, t: &Template) {
        for r in t.references() {
            for span in [&r.span, &r.root_span] {
                assert!(
                    span.start <= span.end && span.end <= src.len(),
                    "{span:?} in {src:?}"
                );
                assert!(src.is_char_boundary(span.start) && src.is_char_boundary(span.end));
            }
            assert_eq!(&src[r.root_span.clone()], r.root);
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(src in any::<String>()) {
            match parse_template(&src) {
                Ok(t) => check_spans(&src, &t),
                Err(e) => prop_assert!(e.span.end <= src.len() && e.span.start <= e.span.end),
            }
        }

        #[test]
        fn parse_never_panics_on_expression_like_text(src in r#"([$]{0,2}\{|[\[\]\(\)\{\}.,"\\ a-z0-9_\-é+]|u00){0,40}"#) {
            match parse_template(&src) {
                Ok(t) => {
                    check_spans(&src, &t);
                    // What we print parses back to the same text.
                    let shown = t.to_string();
                    let again = parse_template(&shown).map(|t| t.to_string());
                    prop_assert_eq!(again, Ok(shown));
                }
                Err(e) => {
                    prop_assert!(e.span.end <= src.len() && e.span.start <= e.span.end);
                    prop_assert!(src.is_char_boundary(e.span.start) && src.is_char_boundary(e.span.end));
                }
            }
        }
    }
}

#[test]
fn a_whole_number_too_large_is_refused_as_written_not_rounded() {
    // Issue 12, item 18: `x.list[99999999999999999999999]` was reported as index
    // 100000000000000000000000 (the literal rounded through a float).
    let src = "${x.list[99999999999999999999999]}";
    let e = parse_err(src);
    assert_eq!(
        e.message,
        "number `99999999999999999999999` is too large: whole numbers go up to 18446744073709551615"
    );
    assert_eq!(slice(src, &e.span), "99999999999999999999999");
    // Fractions and exponents are still floats; the largest whole number is still a number.
    parse("${1.5e300}");
    parse("${18446744073709551615}");
}
