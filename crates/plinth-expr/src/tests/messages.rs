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

#[test]
fn an_invalid_pattern_names_the_reason_but_never_the_pattern() {
    let cx = with_vars(json!({"name": "web-42"}));
    let src = r#"${regex("[a-z]+-(\\d+", v.name)}"#;
    let e = err_in(src, &cx);
    assert_eq!(
        e.message,
        "regex(): the pattern (argument 1) is not a valid regular expression: unclosed group at character 8"
    );
    assert_eq!(slice(src, &e.span), r#""[a-z]+-(\\d+""#);
    let help = e.help.unwrap();
    assert!(help.starts_with("close the group with `)`"), "{help}");
    assert!(!help.contains("`\\.`"), "{help}");
    let reason = |src: &str| {
        let e = err_in(src, &cx);
        (e.message, e.help.unwrap())
    };
    let (m, h) = reason(r#"${regex("[a-z", v.name)}"#);
    assert!(
        m.ends_with("unclosed character class at character 1"),
        "{m}"
    );
    assert!(h.starts_with("close the character class with `]`"), "{h}");
    let (m, h) = reason(r#"${regex("+x", v.name)}"#);
    assert!(
        m.ends_with("repetition operator missing expression at character 1"),
        "{m}"
    );
    assert!(h.contains("escape a literal one"), "{h}");
    let (m, h) = reason(r#"${regex("a\\qb", v.name)}"#);
    assert!(
        m.ends_with("unrecognized escape sequence at character 2"),
        "{m}"
    );
    assert!(h.contains("every backslash is written twice"), "{h}");
    let (m, _) = reason(r#"${regex("(?=x)", v.name)}"#);
    assert!(m.contains("look-around"), "{m}");
    // A secret pattern is not quoted: only the reason and a position are shown.
    let mut cx = cx;
    let mut vars = cx["v"].clone();
    vars.set(
        &"secret_pattern".parse().unwrap(),
        Value::sensitive(Value::from("(hunter2")),
    );
    cx.insert("v".into(), vars);
    let e = err_in("${regex(v.secret_pattern, v.name)}", &cx);
    assert!(e.message.ends_with("unclosed group at character 1"), "{e}");
    assert!(!format!("{e} {:?}", e.help).contains("hunter2"));
}

#[test]
fn bad_json_says_what_is_wrong_and_where_without_quoting_it() {
    let cx = with_vars(json!({
        "trailing": "{\"replicas\": 3,}",
        "open": "{\"password\": \"hunter2\"",
        "word": "{\"a\": yes}",
    }));
    let e = err_in("${jsondecode(v.trailing)}", &cx);
    assert_eq!(
        e.message,
        "jsondecode(): the string is not valid JSON: trailing comma at line 1, column 16 of the JSON"
    );
    assert_eq!(
        e.help.as_deref(),
        Some("JSON allows no comma after the last element of a list or an object: remove it")
    );
    let e = err_in("${jsondecode(v.open)}", &cx);
    assert_eq!(
        e.message,
        "jsondecode(): the string is not valid JSON: EOF while parsing an object at line 1, column 22 of the JSON"
    );
    assert!(e.help.as_deref().unwrap().contains("add the `}`"));
    assert!(!format!("{e} {:?}", e.help).contains("hunter2"));
    let e = err_in("${jsondecode(v.word)}", &cx);
    assert!(
        e.message.contains(": expected value at line 1, column 7"),
        "{e}"
    );
    assert!(e.help.unwrap().contains("a number, true, false, null"));
    let e = err_in("${jsondecode(\"\")}", &cx);
    assert!(
        e.message
            .contains("EOF while parsing a value at line 1, column 0"),
        "{e}"
    );
    assert!(e.help.unwrap().contains("try(jsondecode(s), {})"));
}

#[test]
fn merge_of_a_list_points_to_concat() {
    let src = "${merge(var.names, { owner = 'web' })}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "merge() expects argument 1 to be a map, got a list"
    );
    assert_eq!(slice(src, &e.span), "var.names");
    assert!(e.help.unwrap().contains("use concat()"));
    // Maps and null merge as before, with no help needed.
    assert_eq!(
        eval("${merge(var.tags, null, { owner = 'web' })}"),
        Value::from(json!({"env": "dev", "app": "x", "owner": "web"}))
    );
}

#[test]
fn an_arrow_in_a_list_for_expression_says_braces_build_a_map() {
    let src = "${[for k, v in var.tags : k => upper(v) if k != \"x\"]}";
    let e = parse_err(src);
    assert_eq!(
        e.message,
        "unexpected `=>` in the for-expression: `=>` builds a map, and `[for ...]` builds a list"
    );
    assert_eq!(slice(src, &e.span), "=>");
    assert_eq!(e.expected.as_deref(), Some("`if` or `]`"));
    assert_eq!(
        e.help.as_deref(),
        Some(
            "to build a map, write the for-expression in braces: `{for k, v in var.tags : k => upper(v)}`; to build a list, give only the element: `[for k, v in var.tags : upper(v)]`"
        )
    );
    // The map the help suggests is what was meant.
    assert_eq!(
        eval("${{for k, v in var.tags : k => upper(v)}}"),
        Value::from(json!({"env": "DEV", "app": "X"}))
    );
    // The other way round: a map for-expression without `=>`.
    let e = parse_err("${{for s in var.names : s}}");
    assert!(
        e.message
            .starts_with("unexpected `}` after the key of the for-expression"),
        "{e}"
    );
    assert!(
        e.help
            .unwrap()
            .ends_with("write the for-expression in brackets: `[for s in var.names : s]`")
    );
    // Errors the parser has no advice for carry none.
    assert_eq!(parse_err("${var.a +}").help, None);
}

#[test]
fn stray_directives_say_where_they_belong() {
    let e = parse_err("a %{ else } b");
    assert_eq!(e.message, "`%{ else }` without an `%{ if }` before it");
    assert_eq!(
        e.help.as_deref(),
        Some(
            "`%{ else }` belongs in `%{ if cond }...%{ else }...%{ endif }`; for a literal `%{` in the text, write `%%{`"
        )
    );
    let e = parse_err("%{ endfor }");
    assert!(
        e.help
            .unwrap()
            .contains("`%{ for x in list }...%{ endfor }`")
    );
    let src = "%{ if var.flag }x%{ endfor }";
    let e = parse_err(src);
    assert_eq!(
        e.message,
        "`%{ if }` at column 1 is never closed: expected `%{ endif }` before `%{ endfor }`"
    );
    assert_eq!(slice(src, &e.span), "%{ endfor }");
    assert_eq!(
        e.help.as_deref(),
        Some("directives nest: close the `%{ if }` with `%{ endif }` before `%{ endfor }`")
    );
}

#[test]
fn try_and_can_without_arguments_give_an_example() {
    let e = eval_err("${try()}");
    assert_eq!(e.message, "try() expects at least 1 argument, got 0");
    assert!(e.help.unwrap().starts_with("for example: try("));
    let e = eval_err("${can()}");
    assert_eq!(e.message, "can() expects 1 argument, got 0");
    assert!(e.help.unwrap().starts_with("for example: can("));
}

#[test]
fn a_missing_key_of_a_sensitive_map_suggests_no_key_and_hides_the_length() {
    let mut cx = ctx();
    cx.insert(
        "v".into(),
        Value::sensitive(Value::from(json!({"hunter2key": "x", "other": "y"}))),
    );
    cx.insert(
        "l".into(),
        Value::sensitive(Value::from(json!(["hunter2a", "b"]))),
    );
    for src in ["${v.hunter2ke}", "${v[\"hunter2kex\"]}", "${l[5]}"] {
        let e = err_in(src, &cx);
        let all = format!("{} {:?}", e.message, e.help);
        assert!(
            !all.contains("hunter2key") && !all.contains("hunter2a"),
            "{src}: {all}"
        );
        assert!(!all.contains("2 elements"), "{src}: {all}");
    }
    // What the user typed is quoted, but no help says that such a key exists.
    assert_eq!(err_in("${v.hunter2key-1}", &cx).help, None);
    let e = err_in("${l[5]}", &cx);
    assert!(e.message.contains("index 5 is out of range"), "{e}");
    assert!(e.message.contains("`l` is sensitive"), "{e}");
    // A map that is not sensitive still gets its suggestion.
    let e = err_in("${var.tags.evn}", &cx);
    assert_eq!(e.help.as_deref(), Some("did you mean `env`?"));
}
