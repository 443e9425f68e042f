//! Parsing: templates, references and their spans, calls, literals; and properties of the
//! parser over arbitrary text.

use super::*;

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
        ..
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
        ..
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
        ..
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
