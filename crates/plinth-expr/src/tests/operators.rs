//! Evaluating operators, the conditional, constructors, postfix steps, splats and
//! for-expressions, with known, unknown and sensitive operands.

use super::*;

fn secret(v: Value) -> Value {
    Value::sensitive(v)
}

#[test]
fn arithmetic_keeps_integers_exact() {
    assert_eq!(eval("${1 + 2 * 3}"), Value::from(7));
    assert_eq!(eval("${(1 + 2) * 3}"), Value::from(9));
    assert_eq!(eval("${var.count - 1}"), Value::from(2));
    assert_eq!(eval("${6 / 2}"), Value::from(3));
    assert_eq!(eval("${7 / 2}"), Value::from(json!(3.5)));
    assert_eq!(eval("${7 % 3}"), Value::from(1));
    assert_eq!(eval("${var.ratio * 2}"), Value::from(3));
    assert_eq!(eval("${0.1 + 0.2 > 0.3}"), Value::Bool(true));
    assert_eq!(eval("${-var.count}"), Value::from(-3));
    assert_eq!(eval("${10 - 2 - 3}"), Value::from(5));
    assert_eq!(eval("n=${var.count + 1}"), s("n=4"));
}

#[test]
fn arithmetic_errors() {
    let src = "${var.count / (var.count - 3)}";
    let e = eval_err(src);
    assert_eq!(e.message, "division by zero");
    assert_eq!(slice(src, &e.span), "var.count - 3");
    let src = "${7 % (var.count - 3)}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "remainder by zero: the right operand of `%` is 0"
    );
    assert_eq!(slice(src, &e.span), "var.count - 3");
    assert!(e.help.unwrap().contains("`d == 0 ? n : n % d`"));
    assert_eq!(
        eval_err("${1.5 % 0.0}").message,
        "remainder by zero: the right operand of `%` is 0"
    );
    let e = eval_err("${9223372036854775807 * 9223372036854775807}");
    assert!(
        e.message.starts_with("the result of `*` is too large"),
        "{e}"
    );
    let src = "${var.prefix + \"-x\"}";
    let e = eval_err(src);
    assert_eq!(e.message, "`+` adds numbers, and `var.prefix` is a string");
    assert!(e.help.unwrap().contains("\"${a}${b}\""));
    assert_eq!(slice(src, &e.span), "var.prefix");
    let src = "${1 + var.nothing}";
    let e = eval_err(src);
    assert_eq!(e.message, "`var.nothing` is null, and `+` needs a number");
    assert_eq!(slice(src, &e.span), "var.nothing");
    assert_eq!(
        eval_err("${var.names < 1}").message,
        "`<` needs numbers, and `var.names` is a list"
    );
    assert_eq!(
        eval_err("${-var.flag}").message,
        "`-` needs numbers, and `var.flag` is a bool"
    );
}

#[test]
fn a_name_with_a_minus_suggests_spaces() {
    let src = "${var.count-1}";
    let e = eval_err(src);
    assert_eq!(e.message, "`var` has no attribute `count-1`");
    assert_eq!(
        e.help.as_deref(),
        Some("a name may contain `-`: to subtract, put spaces around it, as in `var.count - 1`")
    );
    assert_eq!(slice(src, &e.span), "count-1");
}

#[test]
fn comparison_and_equality() {
    assert_eq!(eval("${var.count >= 3}"), Value::Bool(true));
    assert_eq!(eval("${var.count < 3}"), Value::Bool(false));
    assert_eq!(eval("${1 == 1.0}"), Value::Bool(true));
    assert_eq!(eval("${var.prefix == 'demo'}"), Value::Bool(true));
    assert_eq!(eval("${var.names == ['a', 'b', 'c']}"), Value::Bool(true));
    assert_eq!(
        eval("${var.tags != {env = 'dev', app = 'x'}}"),
        Value::Bool(false)
    );
    assert_eq!(eval("${var.nothing == null}"), Value::Bool(true));
    assert_eq!(eval("${1 == '1'}"), Value::Bool(false));
    // Marks are ignored by the comparison, kept on the result.
    assert_eq!(eval("${var.secret == 's3cr3t'}"), secret(Value::Bool(true)));
    assert_eq!(
        eval("${var.secret_list == ['a', 'b']}"),
        secret(Value::Bool(true))
    );
    assert_eq!(eval("${var.later == 1}"), Value::Unknown);
    // A known difference decides even with unknown parts.
    assert_eq!(eval("${var.half_known == ['a']}"), Value::Bool(false));
    assert_eq!(eval("${var.half_known == ['a', 'b']}"), Value::Unknown);
    assert_eq!(eval("${var.later + 1}"), Value::Unknown);
    assert_eq!(eval("${length(var.secret) * 2}"), secret(Value::from(12)));
}

#[test]
fn logic_short_circuits() {
    assert_eq!(eval("${true && !var.flag}"), Value::Bool(false));
    assert_eq!(eval("${false || var.flag}"), Value::Bool(true));
    assert_eq!(eval("${false && var.later}"), Value::Bool(false));
    assert_eq!(eval("${true || var.later}"), Value::Bool(true));
    assert_eq!(eval("${var.later && false}"), Value::Bool(false));
    assert_eq!(eval("${var.later || false}"), Value::Unknown);
    assert_eq!(eval("${true && var.later}"), Value::Unknown);
    // The right side is not evaluated when the left decides.
    assert_eq!(
        eval("${var.nothing != null && var.nothing.x > 1}"),
        Value::Bool(false)
    );
    let src = "${var.prefix && true}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "the left operand of `&&` is a string, expected a bool"
    );
    assert_eq!(slice(src, &e.span), "var.prefix");
    assert_eq!(
        eval_err("${!1}").message,
        "the operand of `!` is a number, expected a bool"
    );
    assert_eq!(eval("${!(var.secret == 'x')}"), secret(Value::Bool(true)));
}

#[test]
fn conditional_checks_both_branches() {
    assert_eq!(eval("${var.flag ? 3 : 1}"), Value::from(3));
    assert_eq!(eval("${!var.flag ? 'a' : null}"), Value::Null);
    // The unselected branch's errors do not matter when the condition is known.
    assert_eq!(
        eval("${length(x.list) > 5 ? x.list[5] : 0}"),
        Value::from(0)
    );
    assert_eq!(eval("${var.flag ? var.names[0] : var.missing}"), s("a"));
    // But the kinds of both branches must agree.
    let src = "${var.flag ? 'a' : 1}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "the branches of this conditional differ in type: the true branch is a string, the false branch a number"
    );
    assert!(e.help.unwrap().contains("tostring()"));
    assert_eq!(slice(src, &e.span), "var.flag ? 'a' : 1");
    assert!(
        eval_err("${var.flag ? [1] : {a = 1}}")
            .message
            .contains("a list, the false branch a map")
    );
    // An unknown condition gives an unknown result, sensitive if a part is.
    assert_eq!(eval("${var.later ? 1 : 2}"), Value::Unknown);
    assert_eq!(
        eval("${var.later ? var.secret : 'x'}"),
        secret(Value::Unknown)
    );
    assert_eq!(eval("${var.secret == 'x' ? 1 : 2}"), secret(Value::from(2)));
    assert!(
        eval_err("${var.later ? 1 : var.missing}")
            .message
            .contains("missing")
    );
    let src = "${var.prefix ? 1 : 2}";
    let e = eval_err(src);
    assert_eq!(e.message, "the condition is a string, expected a bool");
    assert_eq!(slice(src, &e.span), "var.prefix");
}

#[test]
fn constructors_keep_marks_where_they_are() {
    assert_eq!(
        eval("${[var.count, var.secret]}"),
        Value::List(vec![Value::from(3), secret(s("s3cr3t"))])
    );
    let v = eval("${{ name = var.prefix, 'the key' = 1, (var.prefix) = var.later }}");
    let mut m = Map::new();
    m.insert("name".into(), s("demo"));
    m.insert("the key".into(), Value::from(1));
    m.insert("demo".into(), Value::Unknown);
    assert_eq!(v, Value::Map(m));
    assert_eq!(eval("${{ (var.later) = 1 }}"), Value::Unknown);
    assert!(eval("${{ (var.secret) = 1 }}").is_sensitive());
    let e = eval_err("${{ (var.prefix) = 1, demo = 2 }}");
    assert_eq!(e.message, "two elements have the key \"demo\"");
    let e = eval_err("${{ (var.secret) = 1, s3cr3t = 2 }}");
    assert_eq!(e.message, "two elements have the same key");
}

#[test]
fn postfix_steps_on_any_value() {
    assert_eq!(eval("${[10, 20][1]}"), Value::from(20));
    assert_eq!(eval("${concat(x.list, [40])[3]}"), Value::from(40));
    assert_eq!(eval("${{ a = { b = 'c' } }.a.b}"), s("c"));
    assert_eq!(eval("${(var.tags)['env']}"), s("dev"));
    let src = "${concat(x.list, [])[5]}";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "index 5 is out of range: `concat(x.list, [])` has 3 elements"
    );
    assert_eq!(slice(src, &e.span), "5");
    let e = eval_err("${{ name = 1 }.nmae}");
    assert_eq!(e.help.as_deref(), Some("did you mean `name`?"));
    // A sensitive index is never shown.
    let e = eval_err("${x.list[length(var.secret)]}");
    assert_eq!(e.message, "index is out of range: `x.list` has 3 elements");
}

#[test]
fn splats() {
    let mut c = ctx();
    c.insert(
        "subnets".into(),
        Value::from(json!([{"name": "a", "on": true, "n": 1}, {"name": "b", "on": false, "n": 2}])),
    );
    let ev = |src: &str| eval_template(&parse(src), &c).unwrap();
    assert_eq!(ev("${subnets[*].name}"), Value::from(json!(["a", "b"])));
    assert_eq!(ev("${var.nothing[*].id}"), Value::from(json!([])));
    assert_eq!(ev("${app.blue[*].id}"), Value::from(json!(["blue-id"])));
    assert_eq!(ev("${var.later[*].id}"), Value::Unknown);
    assert_eq!(
        ev("${var.secret_list[*]}").as_list().map(<[Value]>::len),
        Some(2)
    );
    let src = "${subnets[*].nam}";
    let e = eval_template(&parse(src), &c).unwrap_err();
    assert_eq!(e.message, "`subnets[*]` has no attribute `nam`");
    assert_eq!(slice(src, &e.span), "nam");
}

#[test]
fn for_expressions() {
    let mut c = ctx();
    c.insert(
        "subnets".into(),
        Value::from(json!([
            {"name": "a", "enabled": true, "zone": "1"},
            {"name": "b", "enabled": false, "zone": "2"},
            {"name": "c", "enabled": true, "zone": "1"}
        ])),
    );
    c.insert(
        "apps".into(),
        Value::from(json!({"web": {"replicas": 2}, "api": {"replicas": 3}})),
    );
    let ev = |src: &str| {
        eval_template(&parse(src), &c).unwrap_or_else(|e| panic!("{src}: {e} {:?}", e.help))
    };
    let err = |src: &str| eval_template(&parse(src), &c).unwrap_err();
    assert_eq!(
        ev("${[for s in subnets : s.name if s.enabled]}"),
        Value::from(json!(["a", "c"]))
    );
    assert_eq!(
        ev("${[for i, s in subnets : \"${i}-${s.name}\"]}"),
        Value::from(json!(["0-a", "1-b", "2-c"]))
    );
    assert_eq!(
        ev("${{for k, v in apps : k => v.replicas}}"),
        Value::from(json!({"api": 3, "web": 2}))
    );
    assert_eq!(
        ev("${{for s in subnets : s.zone => s.name...}}"),
        Value::from(json!({"1": ["a", "c"], "2": ["b"]}))
    );
    assert_eq!(
        ev("${[for k, v in apps : k]}"),
        Value::from(json!(["api", "web"]))
    );
    // Bound names shadow outer roots inside the expression only.
    assert_eq!(
        ev("${[for var in [1, 2] : var * 10]}"),
        Value::from(json!([10, 20]))
    );
    assert_eq!(
        ev("${[for x in x.list : x + 1]}"),
        Value::from(json!([11, 21, 31]))
    );
    // Nested for-expressions see the outer names.
    assert_eq!(
        ev("${flatten([for a in [1, 2] : [for b in [10] : a + b]])}"),
        Value::from(json!([11, 12]))
    );
    // Unknown elements keep the length; an unknown collection gives unknown.
    assert_eq!(
        ev("${[for v in var.half_known : upper(v)]}"),
        Value::List(vec![s("A"), Value::Unknown])
    );
    assert_eq!(ev("${[for v in var.later : v]}"), Value::Unknown);
    assert_eq!(ev("${{for v in var.half_known : v => 1}}"), Value::Unknown);
    // Marks stay on the elements that came from a secret.
    assert_eq!(
        ev("${[for v in var.secret_list : v]}"),
        Value::List(vec![s("a"), secret(s("b"))])
    );
    let e = err("${{for s in subnets : s.zone => s.name}}");
    assert_eq!(e.message, "two elements have the key \"1\"");
    assert!(e.help.unwrap().contains("`...`"));
    let e = err("${{for v in [var.secret, 's3cr3t'] : v => 1}}");
    assert_eq!(e.message, "two elements have the same key");
    let src = "${[for s in var.nothing : s]}";
    let e = err(src);
    assert_eq!(
        e.message,
        "a for-expression cannot iterate over null: `var.nothing` is null"
    );
    assert_eq!(slice(src, &e.span), "var.nothing");
    assert!(
        err("${[for s in var.prefix : s]}")
            .message
            .contains("is a string")
    );
    let src = "${[for s in subnets : s if s.name]}";
    let e = err(src);
    assert_eq!(
        e.message,
        "the `if` of a for-expression must be a bool, and `s.name` is a string"
    );
    assert_eq!(slice(src, &e.span), "s.name");
}

#[test]
fn calls_expand_a_list_and_index_results() {
    assert_eq!(eval("${concat([[1], [2]]...)}"), Value::from(json!([1, 2])));
    assert_eq!(eval("${format('%s-%s', ['a', 'b']...)}"), s("a-b"));
    assert_eq!(eval("${concat(var.later...)}"), Value::Unknown);
    let e = eval_err("${concat(var.prefix...)}");
    assert!(e.message.contains("`...` expands a list"), "{e}");
    assert_eq!(eval("${upper(var.names[0])}"), s("A"));
}

#[test]
fn template_directives() {
    assert_eq!(eval("%{ if var.flag }on%{ else }off%{ endif }"), s("on"));
    assert_eq!(eval("%{ if !var.flag }on%{ endif }!"), s("!"));
    assert_eq!(
        eval("%{ for i, n in var.names }${i}=${n} %{ endfor }"),
        s("0=a 1=b 2=c ")
    );
    assert_eq!(
        eval("%{ for k, v in var.tags ~}\n${k}:${v}\n%{~ endfor }"),
        s("app:xenv:dev")
    );
    assert_eq!(eval("%{ if var.later }a%{ endif }"), Value::Unknown);
    assert_eq!(
        eval("%{ for v in var.secret_list }${v}%{ endfor }"),
        secret(s("ab"))
    );
    let src = "%{ if var.prefix }a%{ endif }";
    let e = eval_err(src);
    assert_eq!(
        e.message,
        "the condition of `%{ if }` is a string, expected a bool"
    );
    assert_eq!(slice(src, &e.span), "var.prefix");
    assert!(
        eval_err("%{ for v in var.names }${var.tags}%{ endfor }")
            .message
            .contains("map")
    );
}
