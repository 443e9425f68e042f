//! Parse errors: each says what was expected, where.

use super::*;

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
    let src = "${a = b}";
    let e = parse_err(src);
    assert_eq!(
        e.message,
        "unexpected `=` after the expression: expected `}` to close `${` at column 1 (to compare two values, write `==`)"
    );
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
    // `1-2` is not a name (names start with a letter): a number, then an operator.
    parse("${1-2}");
    parse("${-x}");
}

#[test]
fn calls_on_indexes_and_keywords_with_steps_are_rejected() {
    let e = parse_err("${x[0](1)}");
    assert!(e.message.contains("cannot be called"), "{e}");
    // A call's result can be indexed now; calling an index still cannot be.
    parse("${f(x).y}");
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
