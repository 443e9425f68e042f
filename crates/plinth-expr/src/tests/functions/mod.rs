//! Built-in and provider functions, suggestions, and the flagship's expressions.

use super::*;

mod collections;
mod marks;
mod numbers_encoding;
mod strings;

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
    let e = eval_err("${format(\"%y\", 1)}");
    assert!(
        e.message.starts_with("format(): unsupported verb `%y`"),
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
    assert_eq!(
        e.message,
        "format(): %s expects a string, number or bool, got a list (value 1)"
    );
    assert!(e.help.unwrap().contains("%v"));
    let e = eval_err("${format()}");
    assert!(
        e.message
            .starts_with("format() expects at least 1 argument"),
        "{e}"
    );
}

#[test]
fn function_type_and_arity_errors() {
    // Too many arguments: the caret is under the surplus ones.
    let src = "${lower(\"a\", \"b\", [for x in var.names : x])}";
    let e = eval_err(src);
    assert_eq!(e.message, "lower() expects 1 argument (a string), got 3");
    assert_eq!(slice(src, &e.span), "\"b\", [for x in var.names : x]");
    // Too few: under the whole call.
    let src = "${cidrsubnet(\"10.0.0.0/16\", 8)}";
    assert_eq!(
        slice(src, &eval_err(src).span),
        "cidrsubnet(\"10.0.0.0/16\", 8)"
    );
    let src = "${can(var.a, var.b)}";
    let e = eval_err(src);
    assert_eq!(e.message, "can() expects 1 argument, got 2");
    assert_eq!(slice(src, &e.span), "var.b");
    let src = "${lower(var.names)}";
    let e = eval_err(src);
    assert_eq!(e.message, "lower() expects a string, got a list");
    assert_eq!(slice(src, &e.span), "var.names");
    let e = eval_err("${join(\",\")}");
    assert_eq!(
        e.message,
        "join() expects at least 2 arguments (a separator string and lists of strings), got 1"
    );
    let e = eval_err("${join(\",\", \"abc\")}");
    assert_eq!(
        e.message,
        "join() expects argument 2 to be a list, got a string"
    );
    let e = eval_err("${join(\",\", [[1]])}");
    assert_eq!(
        e.message,
        "join(): needs a list of strings, but element 0 is a list"
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
        e.message.starts_with("tostring(): cannot convert a map"),
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
        e.help
            .unwrap()
            .contains("abs, alltrue, anytrue, base64decode"),
        "lists the functions, sorted"
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
