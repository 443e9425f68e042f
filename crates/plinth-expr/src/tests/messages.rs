//! Error messages that say what to do: each names the mistake and carries a help that fits
//! the value met (corpus cases in tests/broken/ show the same messages end to end).

use super::*;

fn with_vars(vars: serde_json::Value) -> Map {
    let mut m = ctx();
    m.insert("v".into(), Value::from(vars));
    m
}

fn err_in(src: &str, cx: &Map) -> EvalError {
    match eval_template(&parse(src), cx) {
        Ok(v) => panic!("expected an error for {src:?}, got {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn a_filter_that_is_not_a_bool_says_how_to_make_one() {
    let cx = with_vars(json!({
        "subnets": [{"name": "a", "enabled": "yes", "on": "true", "n": 2, "tags": ["x"]}]
    }));
    let src = "${[for s in v.subnets : s.name if s.enabled]}";
    let e = err_in(src, &cx);
    assert_eq!(
        e.message,
        "the `if` of a for-expression must be a bool, and `s.enabled` is a string"
    );
    assert_eq!(slice(src, &e.span), "s.enabled");
    assert_eq!(
        e.help.as_deref(),
        Some(
            "the filter keeps an element when it is true: compare the string, as in `s.enabled == \"yes\"`"
        )
    );
    let help = |src: &str| err_in(src, &cx).help.unwrap();
    assert!(help("${[for s in v.subnets : s if s.on]}").contains("`tobool(s.on)`"));
    assert!(help("${[for s in v.subnets : s if s.n]}").contains("`s.n > 0`"));
    assert!(help("${[for s in v.subnets : s if s.tags]}").contains("`length(s.tags) > 0`"));
}

#[test]
fn a_secret_filter_value_is_never_shown() {
    let src = "${[for s in [var.secret] : s if s]}";
    let e = eval_err(src);
    let help = e.help.unwrap();
    assert!(help.contains("`s == \"...\"`"), "{help}");
    assert!(
        !help.contains("s3cr3t") && !e.message.contains("s3cr3t"),
        "{help}"
    );
}

#[test]
fn iterating_a_string_or_a_number_says_what_to_iterate() {
    let src = "${[for z in var.location : z]}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "a for-expression iterates over a list or a map, and `var.location` is a string"
    );
    assert_eq!(slice(src, &e.span), "var.location");
    assert_eq!(
        e.help.as_deref(),
        Some(
            "to iterate over the parts of a string, split it first, as in `split(\",\", var.location)`"
        )
    );
    let e = eval_err("%{ for i in var.count }${i}%{ endfor }");
    assert!(
        e.message
            .starts_with("`%{ for }` iterates over a list or a map"),
        "{e}"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("to iterate a number of times, iterate over `range(var.count)`")
    );
    assert!(
        eval_err("${[for b in var.flag : b]}")
            .help
            .unwrap()
            .contains("`[var.flag]`")
    );
}

#[test]
fn a_splat_of_a_map_says_splat_takes_a_list() {
    let src = "${app[*].id}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "a splat `[*]` works on a list, and `app` is a map: `app[*]` has no attribute `id`"
    );
    assert_eq!(slice(src, &e.span), "id");
    assert_eq!(
        e.help.as_deref(),
        Some(
            "to take `.id` of every value of the map, write `values(app)[*].id`, or the for-expression `[for v in app : v.id]`"
        )
    );
    // The suggestions work.
    assert_eq!(
        eval("${values(app)[*].id}"),
        Value::from(json!(["blue-id", "green-id"]))
    );
    assert_eq!(
        eval("${[for v in app : v.id]}"),
        Value::from(json!(["blue-id", "green-id"]))
    );
    // A map that has the attribute is a list of one, as in HCL.
    assert_eq!(eval("${app.blue[*].id}"), Value::from(json!(["blue-id"])));
    // A failure deeper than the map's own step keeps its own message.
    let e = eval_err("${app[*].blue.name}");
    assert_eq!(e.message, "`app[*].blue` has no attribute `name`");
}
