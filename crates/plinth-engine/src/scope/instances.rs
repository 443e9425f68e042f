//! The instances of a declaration or a module call: `count` and `for_each` values turned
//! into instance keys, each with what `each`/`count.index` is in it.

use std::collections::HashSet;

use plinth_addr::InstanceKey;
use plinth_config::{Diagnostic, ModuleCall, Node};
use plinth_value::Value;

use super::{Iteration, Scope, whole_number};

/// The instances of one declaration: each instance's key and what `each`/`count` is in it.
pub type Instances = Vec<(Option<InstanceKey>, Iteration)>;

/// The instances of a module call evaluated in its caller's `scope` (as apply and the
/// console do; planning reports unknown values with more detail first).
pub fn of_call(call: &ModuleCall, scope: &Scope<'_>) -> Result<Instances, Diagnostic> {
    let address = format!("module.{}", call.name);
    let (node, meta) = match (&call.count, &call.for_each) {
        (Some(n), _) => (n, "count"),
        (None, Some(n)) => (n, "for_each"),
        (None, None) => return Ok(vec![(None, Iteration::None)]),
    };
    let v = node.eval(scope)?;
    if !v.is_wholly_known() {
        return Err(Diagnostic::at(
            format!("the {meta} of `{address}` depends on values known only after apply"),
            node.loc.clone(),
        )
        .label(meta)
        .help(format!(
            "{meta} must be known when planning: use variables or values already in state"
        )));
    }
    if v.contains_sensitive() {
        return Err(Diagnostic::at(
            format!("the {meta} of `{address}` uses a sensitive value"),
            node.loc.clone(),
        )
        .label(meta)
        .help("instance keys are shown in every plan, so they cannot be secret"));
    }
    if meta == "count" {
        count_instances(&address, node, &v)
    } else {
        for_each_instances(&address, node, v)
    }
}

/// `count` instances: `name[0]` to `name[n-1]`, each with its `count.index`.
pub fn count_instances(address: &str, node: &Node, v: &Value) -> Result<Instances, Diagnostic> {
    let n = whole_number(v).ok_or_else(|| {
        let found = match v {
            Value::Number(n) => format!("{n}"),
            other => format!("a {}", other.type_name()),
        };
        Diagnostic::at(
            format!(
                "the count of `{}` must be a whole number >= 0, but it is {found}",
                address
            ),
            node.loc.clone(),
        )
        .help("write count = 2, or an expression giving a whole number, e.g. count = \"${var.ha ? 3 : 1}\"; count = 0 makes no instances")
    })?;
    Ok((0..n)
        .map(|i| (Some(InstanceKey::Int(i)), Iteration::Count(i)))
        .collect())
}

/// `for_each` instances: one per string of a list or set, or per key of a map (with the
/// entry's value as `each.value`); `null` makes none.
pub fn for_each_instances(address: &str, node: &Node, v: Value) -> Result<Instances, Diagnostic> {
    let fail =
        |msg: String, help: &str| Diagnostic::at(msg, node.loc.clone()).help(help.to_string());
    let mut out = Vec::new();
    match v {
        Value::Null => {}
        Value::List(items) => {
            let mut seen = HashSet::new();
            for item in items {
                let Some(s) = item.as_str() else {
                    return Err(fail(
                        format!(
                            "the for_each list of `{}` holds a {}, but keys must be strings",
                            address,
                            item.type_name()
                        ),
                        "use a list of strings, or a table whose keys name the instances",
                    ));
                };
                if !seen.insert(s.to_string()) {
                    return Err(fail(
                        format!("the for_each list of `{}` has \"{s}\" twice", address),
                        "instance keys must be unique: wrap the list in toset(...) to drop repeats",
                    ));
                }
                let each = Iteration::Each {
                    key: Value::from(s),
                    value: Value::from(s),
                };
                out.push((Some(InstanceKey::from(s)), each));
            }
        }
        Value::Map(m) => {
            for (k, value) in m {
                let each = Iteration::Each {
                    key: Value::from(k.as_str()),
                    value,
                };
                out.push((Some(InstanceKey::Str(k)), each));
            }
        }
        other => {
            return Err(fail(
                format!(
                    "for_each must be a list of strings or a table, but `{}` gives a {}",
                    address,
                    other.type_name()
                ),
                "write for_each = [\"a\", \"b\"] or for_each = { a = 1, b = 2 }, or build one with an expression such as {for k, v in var.apps : k => v}",
            ));
        }
    }
    Ok(out)
}
