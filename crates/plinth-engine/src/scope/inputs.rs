//! Module inputs: the value of a module instance's variable is the call's input evaluated
//! in the caller (with the call instance's `each`/`count.index`), or the variable's
//! default; it must fit the variable's declared type.

use plinth_config::{Diagnostic, ModuleCall, VarType, VariableDecl};
use plinth_value::Value;

use super::{Scope, Values};

/// Whether `v` fits the declared type (an unknown value fits every type until it is known).
fn admits(t: VarType, v: &Value) -> bool {
    let v = v.unmarked();
    match t {
        VarType::Any => true,
        _ if v.is_unknown() => true,
        VarType::String => matches!(v, Value::String(_)),
        VarType::Number => matches!(v, Value::Number(_)),
        VarType::Bool => matches!(v, Value::Bool(_)),
        VarType::List => matches!(v, Value::List(_)),
        VarType::Map => matches!(v, Value::Map(_)),
    }
}

/// The value of variable `var` of the module `call` makes, evaluated in `caller`.
pub fn eval_input(
    call: &ModuleCall,
    var: &VariableDecl,
    caller: &Scope<'_>,
) -> Result<Value, Diagnostic> {
    let given = call.inputs.iter().find(|(name, _, _)| *name == var.name);
    let value = match (given, &var.default) {
        (Some((_, _, node)), _) => {
            let v = node.eval(caller)?;
            if !admits(var.var_type, &v) {
                let mut d = Diagnostic::at(
                    format!(
                        "`module.{}`: input `{}` must be a {}, but the expression gives a {}",
                        call.name,
                        var.name,
                        var.var_type.name(),
                        v.type_name()
                    ),
                    node.loc.clone(),
                )
                .label(format!("expected a {}", var.var_type.name()))
                .related(
                    var.loc.clone(),
                    format!("the module declares `var.{}` here", var.name),
                )
                .help(format!(
                    "give `{}` a {} value, or change the variable's type in the module",
                    var.name,
                    var.var_type.name()
                ));
                if v.contains_sensitive() || var.sensitive {
                    d.message.push_str(" (the value is sensitive, not shown)");
                }
                return Err(d);
            }
            v
        }
        (None, Some(default)) => {
            let values = Values::default();
            let empty = Default::default();
            let env = Default::default();
            default.eval(&Scope::new(&empty, &env, &values))?
        }
        (None, None) => {
            return Err(Diagnostic::at(
                format!(
                    "`module.{}` does not set `{}`, which the module requires",
                    call.name, var.name
                ),
                call.loc.clone(),
            )
            .related(var.loc.clone(), "declared here without a default")
            .help(format!("add `{} = ...` to the call", var.name)));
        }
    };
    Ok(if var.sensitive {
        Value::sensitive(value)
    } else {
        value
    })
}
