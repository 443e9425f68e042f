//! What the apply remembers of the module instances it evaluates in: each instance's
//! `each`/`count.index` and its input variables, by instance path, once they are wholly
//! known. Without it every object of a module instance would evaluate its call's `for_each`
//! (building every instance of the call to find its own) and the call's inputs again:
//! quadratic in the number of instances.
//!
//! A value holding an unknown is never kept: it may become known as operations finish (an
//! input that refers to a resource created in this apply), and is evaluated again until it
//! is. A value wholly known is what the plan promised, and does not change during the apply.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use plinth_addr::ModuleStep;
use plinth_value::Value;

use super::Iteration;

/// Module instances' iterations and inputs, by instance path (from the root), kept once
/// wholly known; see the module documentation.
#[derive(Default)]
pub struct InstanceMemo {
    entries: RefCell<HashMap<Vec<ModuleStep>, Remembered>>,
}

#[derive(Default)]
struct Remembered {
    iteration: Option<Iteration>,
    vars: Option<BTreeMap<String, Value>>,
}

impl Iteration {
    /// Whether `each.key`/`each.value` (or `count.index`) hold no unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Iteration::None | Iteration::Count(_) => true,
            Iteration::Each { key, value } => key.is_wholly_known() && value.is_wholly_known(),
        }
    }
}

impl InstanceMemo {
    /// The `each`/`count.index` of module instance `inst`, if it was kept.
    pub fn iteration(&self, inst: &[ModuleStep]) -> Option<Iteration> {
        self.entries.borrow().get(inst)?.iteration.clone()
    }

    /// Keeps the `each`/`count.index` of module instance `inst` if it is wholly known.
    pub fn keep_iteration(&self, inst: &[ModuleStep], iteration: &Iteration) {
        if iteration.is_wholly_known() {
            self.entry(inst, |r| r.iteration = Some(iteration.clone()));
        }
    }

    /// The input variables of module instance `inst`, if they were kept.
    pub fn vars(&self, inst: &[ModuleStep]) -> Option<BTreeMap<String, Value>> {
        self.entries.borrow().get(inst)?.vars.clone()
    }

    /// Keeps the input variables of module instance `inst` if every one is wholly known.
    pub fn keep_vars(&self, inst: &[ModuleStep], vars: &BTreeMap<String, Value>) {
        if vars.values().all(Value::is_wholly_known) {
            self.entry(inst, |r| r.vars = Some(vars.clone()));
        }
    }

    fn entry(&self, inst: &[ModuleStep], update: impl FnOnce(&mut Remembered)) {
        let mut entries = self.entries.borrow_mut();
        match entries.get_mut(inst) {
            Some(r) => update(r),
            None => update(entries.entry(inst.to_vec()).or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plinth_addr::InstanceKey;

    fn at(key: &str) -> Vec<ModuleStep> {
        vec![ModuleStep {
            name: "app".into(),
            key: Some(InstanceKey::from(key)),
        }]
    }

    #[test]
    fn keeps_only_what_is_wholly_known() {
        let memo = InstanceMemo::default();
        let pending = Iteration::Each {
            key: Value::from("a"),
            value: Value::Map([("id".to_string(), Value::Unknown)].into_iter().collect()),
        };
        memo.keep_iteration(&at("a"), &pending);
        assert!(memo.iteration(&at("a")).is_none());

        let mut vars = BTreeMap::new();
        vars.insert("seed".to_string(), Value::sensitive(Value::Unknown));
        memo.keep_vars(&at("a"), &vars);
        assert!(memo.vars(&at("a")).is_none());

        vars.insert("seed".to_string(), Value::sensitive(Value::from("s-1")));
        memo.keep_vars(&at("a"), &vars);
        assert_eq!(memo.vars(&at("a")), Some(vars));
        assert!(memo.vars(&at("b")).is_none());

        memo.keep_iteration(&at("b"), &Iteration::Count(3));
        assert!(matches!(
            memo.iteration(&at("b")),
            Some(Iteration::Count(3))
        ));
    }
}
