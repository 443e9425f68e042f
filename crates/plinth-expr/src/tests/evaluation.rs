//! Evaluation: types, concatenation, unknown and sensitive marks, reference errors.

use super::*;

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
