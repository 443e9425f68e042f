//! Parsing the full language: precedence and associativity, spans of the new nodes, objects,
//! for-expressions, splats, postfix steps, directives and strip markers, and their errors.

use super::*;

/// The expression as fully parenthesised text (the Display form).
fn shown(src: &str) -> String {
    single(src).to_string()
}

#[test]
fn precedence_and_associativity() {
    for (src, want) in [
        ("${1 + 2 * 3}", "1 + (2 * 3)"),
        ("${(1 + 2) * 3}", "(1 + 2) * 3"),
        ("${1 - 2 - 3}", "(1 - 2) - 3"),
        ("${8 / 4 / 2}", "(8 / 4) / 2"),
        ("${a || b && c}", "a || (b && c)"),
        ("${a == b || c != d}", "(a == b) || (c != d)"),
        ("${a < b == c >= d}", "(a < b) == (c >= d)"),
        ("${a + b < c % d}", "(a + b) < (c % d)"),
        ("${!a && -b > 1}", "(!a) && ((-b) > 1)"),
        ("${a ? b : c ? d : e}", "a ? b : (c ? d : e)"),
        ("${a || b ? 1 + 2 : 3}", "(a || b) ? (1 + 2) : 3"),
        ("${a - 1}", "a - 1"),
        ("${a-1}", "a-1"),
        ("${1-2}", "1 - 2"),
        ("${-1}", "-1"),
        ("${- 1}", "-(1)"),
        ("${!!x}", "!(!x)"),
    ] {
        assert_eq!(shown(src), want, "{src}");
    }
}

#[test]
fn operator_spans() {
    let src = "${ (a + b) * c }";
    let e = single(src);
    assert_eq!(slice(src, &e.span), "(a + b) * c");
    let ExprKind::Binary {
        op, op_span, lhs, ..
    } = &e.kind
    else {
        panic!("{e:?}")
    };
    assert_eq!(*op, BinaryOp::Mul);
    assert_eq!(slice(src, op_span), "*");
    // A parenthesised operand's own span is its inside.
    assert_eq!(slice(src, &lhs.span), "a + b");
    let src = "${x ? 'a' : \"b\"}";
    let e = single(src);
    assert_eq!(slice(src, &e.span), "x ? 'a' : \"b\"");
    let ExprKind::Conditional { then, .. } = &e.kind else {
        panic!()
    };
    assert_eq!(then.kind, ExprKind::Literal(s("a")));
    let src = "${!var.flag}";
    let ExprKind::Unary {
        op_span, operand, ..
    } = single(src).kind
    else {
        panic!()
    };
    assert_eq!(slice(src, &op_span), "!");
    assert_eq!(slice(src, &operand.span), "var.flag");
}

#[test]
fn single_quoted_strings() {
    assert_eq!(
        single(r"${'it\'s \u00e9'}").kind,
        ExprKind::Literal(s("it's é"))
    );
    assert_eq!(
        single(r#"${'say "hi"'}"#).kind,
        ExprKind::Literal(s("say \"hi\""))
    );
    let src = "${'x-${var.prefix}'}";
    let e = single(src);
    assert!(matches!(e.kind, ExprKind::Template(_)));
    assert_eq!(slice(src, &parse(src).references()[0].span), "var.prefix");
}

#[test]
fn objects() {
    let src = "${{ name = k, \"quoted key\" = 1, (local.key) : w,\n other = [1] }}";
    let e = single(src);
    let ExprKind::Object(items) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(items.len(), 4);
    assert_eq!(items[0].0.kind, ExprKind::Literal(s("name")));
    assert_eq!(slice(src, &items[0].0.span), "name");
    assert_eq!(items[1].0.kind, ExprKind::Literal(s("quoted key")));
    assert!(matches!(items[2].0.kind, ExprKind::Ref(_)));
    assert_eq!(slice(src, &items[3].1.span), "[1]");
    // Entries separated by line breaks alone.
    let ExprKind::Object(items) = single("${{\n a = 1\n b = 2\n}}").kind else {
        panic!()
    };
    assert_eq!(items.len(), 2);
    assert_eq!(shown("${{}}"), "{}");
}

#[test]
fn for_expressions() {
    let src = "${[for i, s in var.subnets : s.name if s.enabled]}";
    let e = single(src);
    let ExprKind::For(fe) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(fe.key_var.as_ref().map(|b| b.name.as_str()), Some("i"));
    assert_eq!(slice(src, &fe.value_var.span), "s");
    assert_eq!(slice(src, &fe.collection.span), "var.subnets");
    assert_eq!(slice(src, &fe.value.span), "s.name");
    assert_eq!(slice(src, &fe.cond.as_ref().unwrap().span), "s.enabled");
    assert!(fe.key.is_none() && !fe.group);
    assert_eq!(slice(src, &e.span), &src[2..src.len() - 1]);

    let src = "${{for s in l : s.k => s... if s.on}}";
    let ExprKind::For(fe) = single(src).kind else {
        panic!()
    };
    assert!(fe.group);
    assert_eq!(slice(src, &fe.key.as_ref().unwrap().span), "s.k");
    // The bound names are not references to the outside world; the collection is.
    let roots: Vec<String> = parse(src)
        .references()
        .iter()
        .map(|r| r.root.clone())
        .collect();
    assert_eq!(roots, ["l"]);
    // A name that merely starts with `for` is a reference.
    assert!(matches!(single("${[format]}").kind, ExprKind::List(_)));
}

#[test]
fn postfix_and_splat() {
    let src = "${merge(a, b).x[0]}";
    let e = single(src);
    let ExprKind::Postfix { target, steps } = &e.kind else {
        panic!("{e:?}")
    };
    assert!(matches!(target.kind, ExprKind::Call { .. }));
    assert_eq!(steps.len(), 2);
    assert_eq!(slice(src, &e.span), "merge(a, b).x[0]");
    assert!(matches!(
        single("${(local.m)[\"k\"]}").kind,
        ExprKind::Postfix { .. }
    ));
    assert!(matches!(
        single("${[1, 2][0]}").kind,
        ExprKind::Postfix { .. }
    ));

    let src = "${var.list[*].a.b}";
    let e = single(src);
    let ExprKind::Splat {
        target,
        star_span,
        steps,
    } = &e.kind
    else {
        panic!("{e:?}")
    };
    assert_eq!(slice(src, &target.span), "var.list");
    assert_eq!(slice(src, star_span), "[*]");
    assert_eq!(steps.len(), 2);
    assert_eq!(slice(src, &e.span), "var.list[*].a.b");
    assert_eq!(shown("${x[ * ].id}"), "x[*].id");
    assert_eq!(shown("${f(x)[*]}"), "f(x)[*]");
}

#[test]
fn calls_expand_the_last_argument() {
    let e = single("${merge(local.maps...)}");
    let ExprKind::Call {
        expand_last, args, ..
    } = &e.kind
    else {
        panic!()
    };
    assert!(*expand_last);
    assert_eq!(args.len(), 1);
    assert_eq!(e.to_string(), "merge(local.maps...)");
}

#[test]
fn directives_and_strip_markers() {
    let src = "a%{ if x }b%{ else }c%{ endif }d";
    let t = parse(src);
    let [
        Part::Lit(a),
        Part::If {
            cond,
            then,
            otherwise,
            span,
        },
        Part::Lit(d),
    ] = t.parts.as_slice()
    else {
        panic!("{t:?}")
    };
    assert_eq!((a.as_str(), d.as_str()), ("a", "d"));
    assert_eq!(slice(src, span), "%{ if x }");
    assert_eq!(slice(src, &cond.span), "x");
    assert_eq!(then.parts, vec![Part::Lit("b".into())]);
    assert_eq!(
        otherwise.as_ref().unwrap().parts,
        vec![Part::Lit("c".into())]
    );

    let src = "%{ for k, v in m }${k}=${v};%{ endfor }";
    let t = parse(src);
    let [
        Part::For {
            key_var,
            value_var,
            collection,
            body,
            ..
        },
    ] = t.parts.as_slice()
    else {
        panic!("{t:?}")
    };
    assert_eq!(key_var.as_ref().unwrap().name, "k");
    assert_eq!(value_var.name, "v");
    assert_eq!(slice(src, &collection.span), "m");
    assert_eq!(body.parts.len(), 4);
    assert_eq!(
        t.references()
            .iter()
            .map(|r| r.root.as_str())
            .collect::<Vec<_>>(),
        ["m"]
    );

    // `~` strips the whitespace (line breaks too) on its side.
    let t = parse("a \n %{~ if x ~} \n b \n %{~ endif } c ${~ y ~}  d");
    assert_eq!(t.to_string(), "a%{if x}b%{endif} c${y}d");
    // `%%{` is a literal `%{`; a lone `%` is text.
    assert_eq!(
        parse("100% %%{ if }").literal_text().unwrap(),
        "100% %{ if }"
    );
}

#[test]
fn display_round_trips_the_new_syntax() {
    for src in [
        "${a + b * c}",
        "${(a + b) * c}",
        "${x ? 'y' : [1, 2]}",
        "${{ a = 1, \"b c\" = [x], (k) = v }}",
        "${[for i, s in l : upper(s) if i > 0]}",
        "${{for k, v in m : k => v... if v != null}}",
        "${merge(a, b).x[0]}",
        "${(a.b).c}",
        "${(1).x}",
        "${-(1)}",
        "${l[*].a[0]}",
        "${(l[*].a)[0]}",
        "${f(l...)}",
        "x %{ if a }y%{ else }z%{ endif } %{ for v in l }${v}%{ endfor }",
        "${\"%{ if a }y%{ endif }\"}",
    ] {
        let t = parse(src);
        let once = t.to_string();
        let again = parse(&once);
        assert_eq!(again.to_string(), once, "{src}");
        assert_eq!(strip(&again), strip(&t), "{src}");
    }
}

/// The tree with every span removed, as text of its Debug form (spans are the only numbers
/// of the form `N..M`).
fn strip(t: &Template) -> String {
    let dbg = format!("{t:?}");
    let mut out = String::new();
    let mut rest = dbg.as_str();
    while let Some(i) = rest.find("..") {
        let before = rest[..i].trim_end_matches(|c: char| c.is_ascii_digit());
        out.push_str(before);
        rest = rest[i + 2..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

#[test]
fn malformed_new_constructs_are_located_errors() {
    let cases: &[(&str, &str, &str)] = &[
        ("${a +}", "expected an expression, found `}`", "}"),
        (
            "${a ? b}",
            "expected `:` and the value when the condition is false",
            "}",
        ),
        (
            "${{ a = 1, a = 2 }}",
            "the key \"a\" is given twice in this object (first at column 5)",
            "a",
        ),
        ("${{ a 1 }}", "expected `=` and the value", "1"),
        ("${{ a = 1 b = 2 }}", "expected `,`, a new line or `}`", "b"),
        (
            "${{ a.b = 1 }}",
            "to use the value of an expression as the key",
            "a.",
        ),
        ("${[for s in l]}", "expected `:` and the element", "]"),
        ("${[for s l : s]}", "expected `in`", "l"),
        ("${[for : s]}", "expected a name", ":"),
        ("${{for s in l : s}}", "expected `=>` and the value", "}"),
        ("${[for s in l : s...]}", "`...` groups the values", "..."),
        ("${[for s in l : s if]}", "expected an expression", "]"),
        ("${[for s in l : s x]}", "expected `if` or `]`", "x"),
        ("${f(a..., b)}", "`...` expands the LAST argument", "..."),
        (
            "%{ if x }a",
            "`%{ if }` at column 1 is never closed: expected `%{ endif }`",
            "%{ if x }",
        ),
        (
            "%{ for v in l }a%{ endif }",
            "`%{ for }` at column 1 is never closed: expected `%{ endfor }` before `%{ endif }`",
            "%{ endif }",
        ),
        (
            "a%{ endfor }",
            "`%{ endfor }` without an `%{ for }` before it",
            "%{ endfor }",
        ),
        (
            "%{ else }",
            "`%{ else }` without an `%{ if }` before it",
            "%{ else }",
        ),
        (
            "%{ if a }%{ else }%{ else }%{ endif }",
            "a second `%{ else }`",
            "%{ else }",
        ),
        (
            "%{ iff x }",
            "expected `if`, `else`, `endif`, `for` or `endfor` (write `%%{` for a literal `%{`)",
            "iff",
        ),
        ("%{ if }", "needs a condition", "%{ if "),
        (
            "%{ endif x }",
            "expected `}` to close `%{` at column 1",
            "x",
        ),
        (
            "${'abc}",
            "string starting at column 3 is never closed: expected `'`",
            "'",
        ),
        ("${x[*}", "expected an expression, found `*`", "*"),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(src, msg, at)| {
            let e = parse_err(src);
            let ok = e.message.contains(msg) && slice(src, &e.span) == *at;
            (!ok).then(|| format!("{src}: {e} at {:?}", slice(src, &e.span)))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn deep_operators_and_directives_are_errors_not_crashes() {
    for src in [
        format!("${{{}x}}", "!".repeat(10_000)),
        format!("${{{}x}}", "- ".repeat(10_000)),
        format!("${{{}1{}}}", "a ? ".repeat(2000), " : b".repeat(2000)),
        format!("${{{}}}", "{a = ".repeat(5000)),
        format!("${{{}}}", "[for x in ".repeat(5000)),
        "%{ if a }".repeat(10_000),
    ] {
        assert!(parse_template(&src).is_err());
    }
    // A chain of left-associative operators or splats nests the tree one level per operator
    // (evaluation recursed through 3,000 of them until the stack overflowed), so one
    // expression holds at most 256; that many evaluate on a test thread's small stack, and
    // each interpolation of a template has its own 256.
    let src = format!("${{{}1}}", "1 + ".repeat(256));
    assert_eq!(eval(&src), Value::from(257));
    let src = format!("${{[1]{}}}", "[*]".repeat(256));
    assert!(parse_template(&src).is_ok());
    let src = format!("${{{}1}}", "1 + ".repeat(200)).repeat(10);
    assert!(parse_template(&src).is_ok());
    for src in [
        format!("${{{}1}}", "1 + ".repeat(257)),
        format!("${{{}true}}", "true && ".repeat(5000)),
        format!("${{[1]{}}}", "[*]".repeat(257)),
        format!("${{'${{{}1}}'}}", "1 + ".repeat(257)),
    ] {
        let e = parse_template(&src).unwrap_err();
        assert!(e.message.contains("more than 256 operators"), "{e:?}");
    }
}

mod properties {
    use proptest::prelude::*;

    use super::strip;
    use crate::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever parses prints as text that parses back to the same tree (modulo spans);
        /// whatever does not is an error with a span inside the text.
        #[test]
        fn operators_round_trip(src in r#"\$\{([-+*/%!<>=&|?:.,()\[\]{}'" a-c0-9~]|for |in | if |=>|\.\.\.|\[\*\]){0,30}\}"#) {
            match parse_template(&src) {
                Ok(t) => {
                    let shown = t.to_string();
                    let again = parse_template(&shown);
                    prop_assert!(again.is_ok(), "{src:?} printed as {shown:?}: {again:?}");
                    let again = again.unwrap();
                    prop_assert_eq!(strip(&again), strip(&t), "{:?} printed as {:?}", src, shown);
                }
                Err(e) => {
                    prop_assert!(e.span.start <= e.span.end && e.span.end <= src.len());
                    prop_assert!(src.is_char_boundary(e.span.start) && src.is_char_boundary(e.span.end));
                }
            }
        }

        #[test]
        fn directives_round_trip(src in r#"(%\{ ?~?(if a|else|endif|for v in l|for k, v in l|end) ?~?\}|\$\{~? ?a ?~?\}| |\n|x|%|\$){0,20}"#) {
            if let Ok(t) = parse_template(&src) {
                let shown = t.to_string();
                let again = parse_template(&shown).expect("printed text parses");
                prop_assert_eq!(again.to_string(), shown.clone());
                // A `$` right before `${` is printed as `${"$"}`: the same text, another tree.
                if !shown.contains("${\"$\"}") && !shown.contains("${\"%\"}") {
                    prop_assert_eq!(strip(&again), strip(&t), "{:?} printed as {:?}", src, shown);
                }
            }
        }
    }
}
