//! String functions, format/formatlist and the regular expressions, with Terraform's
//! documented examples.

use super::*;

fn list(v: serde_json::Value) -> Value {
    Value::from(v)
}

#[test]
fn case_trim_and_tests() {
    assert_eq!(
        eval("${title(\"hello world-wide web_x\")}"),
        s("Hello World-Wide Web_x")
    );
    assert_eq!(eval("${trimspace(\"  hello\\n\\t\")}"), s("hello"));
    assert_eq!(eval("${trim(\"?!hello?!\", \"!?\")}"), s("hello"));
    assert_eq!(eval("${trimprefix(\"helloworld\", \"hello\")}"), s("world"));
    assert_eq!(
        eval("${trimprefix(\"helloworld\", \"cat\")}"),
        s("helloworld")
    );
    assert_eq!(eval("${trimsuffix(\"helloworld\", \"world\")}"), s("hello"));
    assert_eq!(eval("${chomp(\"hello\\r\\n\\n\")}"), s("hello"));
    assert_eq!(eval("${chomp(\"hello\\n world\")}"), s("hello\n world"));
    assert_eq!(
        eval("${startswith(\"hello world\", \"hello\")}"),
        Value::Bool(true)
    );
    assert_eq!(
        eval("${startswith(\"hello world\", \"world\")}"),
        Value::Bool(false)
    );
    assert_eq!(
        eval("${endswith(\"hello world\", \"world\")}"),
        Value::Bool(true)
    );
    assert_eq!(
        eval("${strcontains(\"hello world\", \"wor\")}"),
        Value::Bool(true)
    );
    assert_eq!(eval("${strrev(\"héllo\")}"), s("olléh"));
    assert_eq!(
        eval("${indent(2, \"[\\n  foo,\\n]\")}"),
        s("[\n    foo,\n  ]")
    );
    let src = "${startswith(var.count, \"a\")}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "startswith() expects argument 1 to be a string, got a number"
    );
    assert_eq!(slice(src, &e.span), "var.count");
    let e = eval_err("${indent(-1, \"a\")}");
    assert_eq!(e.message, "indent(): argument 1 must not be negative");
}

#[test]
fn split_and_join() {
    assert_eq!(
        eval("${split(\",\", \"foo,bar,baz\")}"),
        list(json!(["foo", "bar", "baz"]))
    );
    assert_eq!(eval("${split(\",\", \"foo\")}"), list(json!(["foo"])));
    assert_eq!(eval("${split(\",\", \"\")}"), list(json!([""])));
    assert_eq!(eval("${split(\"\", \"ab\")}"), list(json!(["a", "b"])));
    assert_eq!(
        eval("${join(\", \", [\"foo\"], [\"bar\", \"baz\"])}"),
        s("foo, bar, baz")
    );
    let src = "${split(\",\", var.names)}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "split() expects argument 2 to be a string, got a list"
    );
    assert_eq!(slice(src, &e.span), "var.names");
}

#[test]
fn substr_counts_characters_from_either_end() {
    assert_eq!(eval("${substr(\"hello world\", 1, 4)}"), s("ello"));
    assert_eq!(eval("${substr(\"🤔🤷\", 0, 1)}"), s("🤔"));
    assert_eq!(eval("${substr(\"hello world\", -5, -1)}"), s("world"));
    assert_eq!(eval("${substr(\"hello world\", 6, 10)}"), s("world"));
    assert_eq!(eval("${substr(\"hello\", 10, 2)}"), s(""));
    let src = "${substr(\"hello\", 1.5, 2)}";
    let e = eval_err(src);
    assert_eq!(e.message, "substr(): argument 2 must be a whole number");
    assert_eq!(slice(src, &e.span), "1.5");
    let e = eval_err("${substr(\"hello\", 0, -2)}");
    assert!(
        e.message.contains("the length must be 0 or more, or -1"),
        "{e}"
    );
    let e = eval_err("${substr(\"hello\", -6, 1)}");
    assert!(e.message.contains("before the start"), "{e}");
}

#[test]
fn replace_with_a_substring_or_a_regex() {
    assert_eq!(
        eval("${replace(\"1 + 2 + 3\", \"+\", \"-\")}"),
        s("1 - 2 - 3")
    );
    assert_eq!(
        eval("${replace(\"hello world\", \"/w.*d/\", \"everybody\")}"),
        s("hello everybody")
    );
    assert_eq!(
        eval("${replace(\"hello world\", \"/(?P<first>\\\\w+) (\\\\w+)/\", \"$2 $${first}\")}"),
        s("world hello")
    );
    // A lone `/` is a substring, not a pattern.
    assert_eq!(eval("${replace(\"a/b\", \"/\", \"-\")}"), s("a-b"));
    let src = "${replace(\"a\", \"/(/\", \"b\")}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "replace(): the pattern (argument 2) is not a valid regular expression: unclosed group at character 1"
    );
    assert_eq!(slice(src, &e.span), "\"/(/\"");
}

#[test]
fn regex_results_follow_the_groups() {
    assert_eq!(
        eval("${regex(\"[a-z]+\", \"53453453.345345aaabbbccc23454\")}"),
        s("aaabbbccc")
    );
    assert_eq!(
        eval("${regex(\"(\\\\d\\\\d\\\\d\\\\d)-(\\\\d\\\\d)-(\\\\d\\\\d)\", \"2019-02-01\")}"),
        list(json!(["2019", "02", "01"]))
    );
    assert_eq!(
        eval(
            "${regex(\"^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?\", \"https://terraform.io/docs/\")}"
        ),
        list(json!({"authority": "terraform.io", "scheme": "https"}))
    );
    // An optional group that did not take part is null.
    assert_eq!(
        eval("${regex(\"(a)(b)?\", \"a\")}"),
        list(json!(["a", null]))
    );
    assert_eq!(
        eval("${regexall(\"[a-z]+\", \"1234abcd5678efgh9\")}"),
        list(json!(["abcd", "efgh"]))
    );
    assert_eq!(
        eval("${length(regexall(\"[a-z]+\", \"1234\"))}"),
        Value::from(0)
    );
    assert_eq!(
        eval("${regexall(\"(\\\\d)(\\\\w)\", \"1a2b\")}"),
        list(json!([["1", "a"], ["2", "b"]]))
    );
    let e = eval_err("${regex(\"[a-z]+\", \"1234\")}");
    assert_eq!(
        e.message,
        "regex(): the pattern did not match any part of the string"
    );
    assert!(e.help.unwrap().contains("regexall"));
    let e = eval_err("${regex(\"(?P<a>x)(y)\", \"xy\")}");
    assert!(e.message.contains("mixes named and numbered"), "{e}");
}

#[test]
fn format_verbs_as_terraform() {
    assert_eq!(
        eval("${format(\"Hello, %s!\", \"Ander\")}"),
        s("Hello, Ander!")
    );
    assert_eq!(
        eval("${format(\"There are %d lights\", 4)}"),
        s("There are 4 lights")
    );
    assert_eq!(
        eval("${format(\"%03d|%-4s|%4s|\", 7, \"ab\", \"cd\")}"),
        s("007|ab  |  cd|")
    );
    assert_eq!(
        eval("${format(\"%.2f %5.1f\", 3.14159, 2.25)}"),
        s("3.14   2.2")
    );
    assert_eq!(
        eval("${format(\"%x %X %o %b\", 255, 255, 8, 5)}"),
        s("ff FF 10 101")
    );
    assert_eq!(
        eval("${format(\"%q %t\", \"a\\\"b\", true)}"),
        s("\"a\\\"b\" true")
    );
    assert_eq!(eval("${format(\"%+d %e\", 5, 1500)}"), s("+5 1.500000e+03"));
    assert_eq!(eval("${format(\"%#v\", \"a\")}"), s("\"a\""));
    let e = eval_err("${format(\"%t\", 1)}");
    assert_eq!(
        e.message,
        "format(): %t expects a bool, got a number (value 1)"
    );
    // A width past the bound is refused, not silently made 1000 (%999999999d gave 1000).
    assert_eq!(eval("${length(format(\"%1000d\", 1))}"), Value::from(1000));
    for src in [
        "${format(\"%1001d\", 1)}",
        "${format(\"%.99999999999999999999f\", 1)}",
    ] {
        let e = eval_err(src);
        assert_eq!(
            e.message, "format(): a width or precision is at most 1000",
            "{src}"
        );
    }
}

#[test]
fn formatlist_iterates_lists_together() {
    assert_eq!(
        eval("${formatlist(\"Hello, %s!\", [\"Valentina\", \"Ander\"])}"),
        list(json!(["Hello, Valentina!", "Hello, Ander!"]))
    );
    assert_eq!(
        eval("${formatlist(\"%s, %s!\", \"Salutations\", [\"Valentina\", \"Ander\"])}"),
        list(json!(["Salutations, Valentina!", "Salutations, Ander!"]))
    );
    assert_eq!(eval("${formatlist(\"%s\", \"x\")}"), list(json!(["x"])));
    let src = "${formatlist(\"%s%s\", [\"a\"], [\"b\", \"c\"])}";
    let e = eval_err(src);
    assert!(
        e.message
            .contains("argument 3 has 2 elements but argument 2 has 1"),
        "{e}"
    );
    assert_eq!(slice(src, &e.span), "[\"b\", \"c\"]");
    let e = eval_err("${formatlist(\"%d\", [1, \"x\"])}");
    assert_eq!(
        e.message,
        "formatlist(): %d expects a whole number, got a string (element 1 of value 1)"
    );
}
