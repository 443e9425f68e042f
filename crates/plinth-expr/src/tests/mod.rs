//! Tests of the expression language, by theme; the shared helpers and context are here.

use std::cell::Cell;
use std::ops::Range;

use plinth_value::{Map, Value};
use serde_json::json;

use crate::*;

fn parse(src: &str) -> Template {
    parse_template(src).unwrap_or_else(|e| panic!("parse {src:?}: {e} at {:?}", e.span))
}

fn parse_err(src: &str) -> ParseError {
    match parse_template(src) {
        Ok(t) => panic!("expected a parse error for {src:?}, got {t:?}"),
        Err(e) => e,
    }
}

fn single(src: &str) -> Expr {
    parse(src)
        .single_expr()
        .cloned()
        .unwrap_or_else(|| panic!("{src:?} is not a single expression"))
}

fn ctx() -> Map {
    let mut m = Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        m.insert(k.to_string(), Value::from(v));
    };
    put(
        "rg",
        json!({"id": "/subscriptions/s/resourceGroups/demo-rg", "name": "demo-rg"}),
    );
    put(
        "var",
        json!({"location": "eastus", "prefix": "demo", "count": 3, "ratio": 1.5, "flag": true,
               "names": ["a", "b", "c"], "tags": {"env": "dev", "app": "x"}, "nothing": null,
               "encoded": "aGVsbG8=", "idx": 1}),
    );
    put(
        "app",
        json!({"blue": {"id": "blue-id"}, "green": {"id": "green-id"}}),
    );
    put("x", json!({"list": [10, 20, 30]}));
    put("each", json!({"key": "k1", "value": "v1"}));
    let mut v = m["var"].clone();
    v.set(
        &"secret".parse().unwrap(),
        Value::sensitive(Value::from("s3cr3t")),
    );
    v.set(
        &"secret_list".parse().unwrap(),
        Value::List(vec![Value::from("a"), Value::sensitive(Value::from("b"))]),
    );
    v.set(&"later".parse().unwrap(), Value::Unknown);
    v.set(
        &"half_known".parse().unwrap(),
        Value::List(vec![Value::from("a"), Value::Unknown]),
    );
    m.insert("var".into(), v);
    let mut aks = Value::from(json!({"properties": {"oidcIssuerProfile": {"enabled": true}}}));
    aks.set(
        &"properties.oidcIssuerProfile.issuerURL".parse().unwrap(),
        Value::Unknown,
    );
    m.insert("aks".into(), aks);
    m
}

fn eval(src: &str) -> Value {
    eval_template(&parse(src), &ctx())
        .unwrap_or_else(|e| panic!("eval {src:?}: {e} ({:?})", e.help))
}

fn eval_err(src: &str) -> EvalError {
    match eval_template(&parse(src), &ctx()) {
        Ok(v) => panic!("expected an error for {src:?}, got {v:?}"),
        Err(e) => e,
    }
}

fn s(v: &str) -> Value {
    Value::from(v)
}

fn slice(src: &str, span: &Range<usize>) -> String {
    src[span.clone()].to_string()
}

mod evaluation;
mod functions;
mod messages;
mod operators;
mod parse_errors;
mod parsing;
mod special_forms;
mod syntax;
