//! List, map and set functions and the conversions, with Terraform's documented examples.

use super::*;

fn j(v: serde_json::Value) -> Value {
    Value::from(v)
}

#[test]
fn list_functions() {
    assert_eq!(
        eval("${flatten([[\"a\", \"b\"], [], [\"c\"]])}"),
        j(json!(["a", "b", "c"]))
    );
    assert_eq!(
        eval("${flatten([[[\"a\", \"b\"], []], [\"c\"]])}"),
        j(json!(["a", "b", "c"]))
    );
    assert_eq!(eval("${element([\"a\", \"b\", \"c\"], 3)}"), s("a"));
    assert_eq!(eval("${element([\"a\", \"b\", \"c\"], 1)}"), s("b"));
    assert_eq!(
        eval("${slice([\"a\", \"b\", \"c\", \"d\"], 1, 3)}"),
        j(json!(["b", "c"]))
    );
    assert_eq!(eval("${slice([\"a\"], 1, 1)}"), j(json!([])));
    assert_eq!(eval("${reverse([1, 2, 3])}"), j(json!([3, 2, 1])));
    assert_eq!(
        eval("${compact([\"a\", \"\", \"b\", null, \"c\"])}"),
        j(json!(["a", "b", "c"]))
    );
    assert_eq!(eval("${one([])}"), Value::Null);
    assert_eq!(eval("${one([\"hello\"])}"), s("hello"));
    assert_eq!(
        eval("${index([\"a\", \"b\", \"c\"], \"b\")}"),
        Value::from(1)
    );
    assert_eq!(eval("${index([1, 2], 2.0)}"), Value::from(1));
    assert_eq!(
        eval("${chunklist([\"a\", \"b\", \"c\", \"d\", \"e\"], 2)}"),
        j(json!([["a", "b"], ["c", "d"], ["e"]]))
    );
    assert_eq!(eval("${chunklist([1, 2], 0)}"), j(json!([[1, 2]])));
    assert_eq!(eval("${alltrue([true, true])}"), Value::Bool(true));
    assert_eq!(eval("${alltrue([])}"), Value::Bool(true));
    assert_eq!(eval("${anytrue([])}"), Value::Bool(false));
    assert_eq!(eval("${anytrue([false, true])}"), Value::Bool(true));
}

#[test]
fn list_function_errors() {
    let e = eval_err("${element([], 0)}");
    assert_eq!(
        e.message,
        "element(): cannot take an element of an empty list"
    );
    let src = "${slice([1, 2], 1, 3)}";
    let e = eval_err(src);
    assert!(
        e.message
            .contains("past the end of the list, which has 2 elements"),
        "{e}"
    );
    assert_eq!(slice(src, &e.span), "3");
    let e = eval_err("${slice([1, 2], 2, 1)}");
    assert_eq!(e.message, "slice(): the start index is after the end index");
    let e = eval_err("${one([1, 2])}");
    assert!(
        e.message
            .contains("zero or one elements, but this one has 2"),
        "{e}"
    );
    let e = eval_err("${index([\"a\"], \"z\")}");
    assert_eq!(e.message, "index(): the value is not in the list");
    let e = eval_err("${compact([\"a\", 1])}");
    assert_eq!(
        e.message,
        "compact(): needs a list of strings, but element 1 is a number"
    );
    let src = "${flatten(var.tags)}";
    let e = eval_err(src);
    assert_eq!(e.message, "flatten() expects a list, got a map");
    assert_eq!(slice(src, &e.span), "var.tags");
    let e = eval_err("${alltrue([true, \"x\"])}");
    assert!(e.message.contains("element 1 is a string"), "{e}");
}

#[test]
fn range_as_terraform() {
    assert_eq!(eval("${range(3)}"), j(json!([0, 1, 2])));
    assert_eq!(eval("${range(1, 4)}"), j(json!([1, 2, 3])));
    assert_eq!(eval("${range(1, 8, 2)}"), j(json!([1, 3, 5, 7])));
    assert_eq!(
        eval("${range(1, 4, 0.5)}"),
        j(json!([1, 1.5, 2, 2.5, 3, 3.5]))
    );
    assert_eq!(eval("${range(4, 1)}"), j(json!([4, 3, 2])));
    assert_eq!(eval("${range(10, 5, -2)}"), j(json!([10, 8, 6])));
    assert_eq!(eval("${range(0)}"), j(json!([])));
    // One negative limit counts down from 0, as Terraform's range(-3) does (it panicked).
    assert_eq!(eval("${range(-3)}"), j(json!([0, -1, -2])));
    assert_eq!(eval("${length(range(1024))}"), Value::from(1024));
    let e = eval_err("${range(1025)}");
    assert!(e.message.contains("at most 1024"), "{e}");
    let e = eval_err("${range(1, 4, 0)}");
    assert_eq!(e.message, "range(): the step must not be zero");
    let e = eval_err("${range(1, 4, -1)}");
    assert!(e.message.contains("negative step"), "{e}");
    let e = eval_err("${range(\"a\")}");
    assert_eq!(
        e.message,
        "range() expects argument 1 to be a number, got a string"
    );
    let e = eval_err("${range(1, 2, 3, 4)}");
    assert!(
        e.message.starts_with("range() expects 1 to 3 arguments"),
        "{e}"
    );
}

#[test]
fn coalesce_and_coalescelist() {
    assert_eq!(eval("${coalesce(\"a\", \"b\")}"), s("a"));
    assert_eq!(eval("${coalesce(\"\", \"b\")}"), s("b"));
    assert_eq!(eval("${coalesce(1, 2)}"), Value::from(1));
    assert_eq!(
        eval("${coalesce(null, var.names)}"),
        j(json!(["a", "b", "c"]))
    );
    let e = eval_err("${coalesce(null, \"\")}");
    assert_eq!(
        e.message,
        "coalesce(): every argument is null or an empty string"
    );
    assert_eq!(
        eval("${coalescelist([], [\"c\", \"d\"])}"),
        j(json!(["c", "d"]))
    );
    let e = eval_err("${coalescelist([], \"x\")}");
    assert_eq!(
        e.message,
        "coalescelist() expects argument 2 to be a list, got a string"
    );
}

#[test]
fn map_functions() {
    assert_eq!(eval("${keys(var.tags)}"), j(json!(["app", "env"])));
    assert_eq!(eval("${values(var.tags)}"), j(json!(["x", "dev"])));
    assert_eq!(eval("${lookup(var.tags, \"env\")}"), s("dev"));
    assert_eq!(eval("${lookup(var.tags, \"zone\", \"none\")}"), s("none"));
    assert_eq!(
        eval("${merge(var.tags, jsondecode(\"{\\\"env\\\": \\\"prod\\\", \\\"z\\\": 1}\"), null)}"),
        j(json!({"app": "x", "env": "prod", "z": 1}))
    );
    assert_eq!(
        eval("${zipmap([\"a\", \"b\"], [1, 2])}"),
        j(json!({"a": 1, "b": 2}))
    );
    assert_eq!(
        eval("${zipmap([\"a\", \"a\"], [1, 2])}"),
        j(json!({"a": 2}))
    );
    assert_eq!(
        eval(
            "${transpose(jsondecode(\"{\\\"a\\\": [\\\"1\\\", \\\"2\\\"], \\\"b\\\": [\\\"2\\\", \\\"3\\\"]}\"))}"
        ),
        j(json!({"1": ["a"], "2": ["a", "b"], "3": ["b"]}))
    );
    let src = "${keys(var.names)}";
    let e = eval_err(src);
    assert_eq!(e.message, "keys() expects a map, got a list");
    assert_eq!(slice(src, &e.span), "var.names");
    let src = "${lookup(var.tags, \"evn\")}";
    let e = eval_err(src);
    assert_eq!(e.message, "lookup(): the map has no key \"evn\"");
    assert!(e.help.unwrap().contains("did you mean \"env\"?"));
    assert_eq!(slice(src, &e.span), "\"evn\"");
    let e = eval_err("${lookup(var.tags, var.secret)}");
    assert_eq!(e.message, "lookup(): the map has no such key");
    assert!(!e.help.unwrap_or_default().contains("s3cr3t"));
    let e = eval_err("${zipmap([\"a\"], [1, 2])}");
    assert!(e.message.contains("1 keys but 2 values"), "{e}");
    let e = eval_err("${merge(var.tags, [1])}");
    assert_eq!(
        e.message,
        "merge() expects argument 2 to be a map, got a list"
    );
}

#[test]
fn set_functions_return_sorted_lists() {
    assert_eq!(
        eval("${distinct([\"a\", \"b\", \"a\", \"c\", \"d\", \"b\"])}"),
        j(json!(["a", "b", "c", "d"]))
    );
    assert_eq!(eval("${distinct([1, 1.0, 2])}"), j(json!([1, 2])));
    assert_eq!(
        eval("${contains([\"a\", \"b\", \"c\"], \"a\")}"),
        Value::Bool(true)
    );
    assert_eq!(
        eval("${contains([\"a\", \"b\", \"c\"], \"d\")}"),
        Value::Bool(false)
    );
    assert_eq!(eval("${contains([var.tags], var.tags)}"), Value::Bool(true));
    assert_eq!(
        eval("${sort([\"e\", \"d\", \"a\", \"x\"])}"),
        j(json!(["a", "d", "e", "x"]))
    );
    assert_eq!(eval("${sort([3, 10, 1])}"), j(json!(["1", "10", "3"])));
    assert_eq!(
        eval("${setunion([\"a\", \"b\"], [\"b\", \"c\"], [\"d\"])}"),
        j(json!(["a", "b", "c", "d"]))
    );
    assert_eq!(
        eval("${setintersection([\"a\", \"b\"], [\"b\", \"c\"], [\"b\", \"d\"])}"),
        j(json!(["b"]))
    );
    assert_eq!(
        eval("${setsubtract([\"a\", \"b\", \"c\"], [\"a\", \"c\"])}"),
        j(json!(["b"]))
    );
    let e = eval_err("${sort([[1]])}");
    assert_eq!(
        e.message,
        "sort(): needs a list of strings, but element 0 is a list"
    );
    let e = eval_err("${contains(\"abc\", \"a\")}");
    assert_eq!(
        e.message,
        "contains() expects argument 1 to be a list, got a string"
    );
}

#[test]
fn conversions() {
    assert_eq!(eval("${tostring(2.5)}"), s("2.5"));
    assert_eq!(eval("${tonumber(\"1\")}"), Value::from(1));
    assert_eq!(eval("${tonumber(\"-2.5\")}"), eval("${-2.5}"));
    assert_eq!(eval("${tonumber(1)}"), Value::from(1));
    assert_eq!(eval("${tonumber(null)}"), Value::Null);
    assert_eq!(eval("${tobool(\"true\")}"), Value::Bool(true));
    assert_eq!(eval("${tobool(false)}"), Value::Bool(false));
    assert_eq!(eval("${tobool(null)}"), Value::Null);
    assert_eq!(eval("${tolist([\"a\", \"b\"])}"), j(json!(["a", "b"])));
    assert_eq!(
        eval("${toset([\"c\", \"b\", \"b\"])}"),
        j(json!(["b", "c"]))
    );
    // Terraform unifies a set's elements: a string among numbers makes them all strings.
    assert_eq!(eval("${toset([\"a\", 1, 1])}"), j(json!(["1", "a"])));
    assert_eq!(eval("${toset([3, 1, 2])}"), j(json!([1, 2, 3])));
    assert_eq!(eval("${tomap(var.tags)}"), eval("${var.tags}"));
    let e = eval_err("${tonumber(\"hello\")}");
    assert_eq!(e.message, "tonumber(): the string does not spell a number");
    let e = eval_err("${tobool(\"yes\")}");
    assert!(
        e.message
            .contains("only the strings \"true\" and \"false\""),
        "{e}"
    );
    let src = "${tolist(var.tags)}";
    let e = eval_err(src);
    assert_eq!(e.message, "tolist() expects a list, got a map");
    assert!(e.help.unwrap().contains("values(...)"));
    let e = eval_err("${tomap([1])}");
    assert_eq!(e.message, "tomap() expects a map, got a list");
}
