//! The values of declarations evaluated so far: one instance, instances by `for_each` key,
//! instances by `count` index, or not known at all.

use std::collections::{BTreeMap, HashMap};

use plinth_addr::{InstanceKey, ModuleStep};
use plinth_value::Value;

use crate::addr::{Address, DeclKind};

/// The value of one instance.
#[derive(Clone, Debug)]
pub struct Inst {
    /// The instance's attributes (an output's or a local's value); may hold unknowns while
    /// planning.
    pub value: Value,
    /// False while the value is a plan of what will be: a missing attribute is then
    /// "known after apply" rather than an error.
    pub complete: bool,
}

/// Which meta-argument makes a declaration's instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expansion {
    /// `count`: instances `app[0]`, `app[1]`, ...
    Count,
    /// `for_each`: instances `app["a"]`, ...
    ForEach,
}

impl Expansion {
    /// The meta-argument's name.
    pub fn name(self) -> &'static str {
        match self {
            Expansion::Count => "count",
            Expansion::ForEach => "for_each",
        }
    }

    /// Of a resource or data source declaration; `None` for a single instance.
    pub fn of(decl: &plinth_config::ResourceDecl) -> Option<Expansion> {
        Expansion::of_meta(&decl.count, &decl.for_each)
    }

    /// Of a declaration or module call with these `count` and `for_each` (`count` wins);
    /// `None` for a single instance.
    pub fn of_meta<T>(count: &Option<T>, for_each: &Option<T>) -> Option<Expansion> {
        if count.is_some() {
            Some(Expansion::Count)
        } else if for_each.is_some() {
            Some(Expansion::ForEach)
        } else {
            None
        }
    }
}

/// The value of one declaration.
#[derive(Clone, Debug)]
pub enum DeclValue {
    /// A declaration without `for_each` or `count` (and a local): one instance.
    Single(Inst),
    /// A declaration with `for_each`: its instances by key. Its whole value is a map.
    Instances(BTreeMap<String, Inst>),
    /// A declaration with `count`: its instances by index. Its whole value is a list, in
    /// index order.
    Counted(BTreeMap<u64, Inst>),
    /// Not known at all (e.g. its `for_each` could not be evaluated).
    Unknown,
}

/// The values of every declaration evaluated so far, per module instance (the root is the
/// empty path).
#[derive(Clone, Debug, Default)]
pub struct Values {
    insts: HashMap<Vec<ModuleStep>, InstValues>,
}

/// What one module instance holds: its declarations' values, the values of the modules it
/// calls (`module.NAME`: an object of outputs per instance) and its input variables.
#[derive(Clone, Debug, Default)]
struct InstValues {
    decls: HashMap<(DeclKind, String), DeclValue>,
    calls: HashMap<String, DeclValue>,
    vars: BTreeMap<String, Value>,
}

/// Puts `inst` into `slot` as the instance `key` of a declaration (or a module call).
fn put(slot: &mut DeclValue, key: &Option<InstanceKey>, inst: Inst) {
    match key {
        None => *slot = DeclValue::Single(inst),
        Some(InstanceKey::Str(k)) => {
            if !matches!(slot, DeclValue::Instances(_)) {
                *slot = DeclValue::Instances(BTreeMap::new());
            }
            if let DeclValue::Instances(m) = slot {
                m.insert(k.clone(), inst);
            }
        }
        Some(InstanceKey::Int(i)) => {
            if !matches!(slot, DeclValue::Counted(_)) {
                *slot = DeclValue::Counted(BTreeMap::new());
            }
            if let DeclValue::Counted(m) = slot {
                m.insert(*i, inst);
            }
        }
    }
}

fn empty(expansion: Expansion) -> DeclValue {
    match expansion {
        Expansion::Count => DeclValue::Counted(BTreeMap::new()),
        Expansion::ForEach => DeclValue::Instances(BTreeMap::new()),
    }
}

impl Values {
    fn inst_mut(&mut self, module: &[ModuleStep]) -> &mut InstValues {
        if !self.insts.contains_key(module) {
            self.insts.insert(module.to_vec(), InstValues::default());
        }
        self.insts.get_mut(module).expect("just inserted")
    }

    /// Records the value of one instance (in the module instance of its address).
    pub fn set(&mut self, addr: &Address, value: Value, complete: bool) {
        let key = (addr.kind, addr.name.clone());
        let inst = Inst { value, complete };
        let decls = &mut self.inst_mut(&addr.module).decls;
        match &addr.key {
            None => {
                decls.insert(key, DeclValue::Single(inst));
            }
            k => put(decls.entry(key).or_insert(DeclValue::Unknown), k, inst),
        }
    }

    /// Declares a `for_each` or `count` declaration of module instance `module` with no
    /// instances: an empty map or an empty list.
    pub fn set_empty(
        &mut self,
        module: &[ModuleStep],
        kind: DeclKind,
        name: &str,
        expansion: Expansion,
    ) {
        self.inst_mut(module)
            .decls
            .insert((kind, name.to_string()), empty(expansion));
    }

    /// Records a whole declaration as unknown, so that every reference to it is "known
    /// after apply" (e.g. its `for_each` could not be evaluated).
    pub fn set_unknown(&mut self, module: &[ModuleStep], kind: DeclKind, name: &str) {
        self.inst_mut(module)
            .decls
            .insert((kind, name.to_string()), DeclValue::Unknown);
    }

    /// Takes the value recorded for the instance at `addr` out, leaving `Null` in its place
    /// (for a plan that is done evaluating); `None` when none is recorded there.
    pub fn take(&mut self, addr: &Address) -> Option<Value> {
        let decls = &mut self.insts.get_mut(addr.module.as_slice())?.decls;
        let inst = match (decls.get_mut(&(addr.kind, addr.name.clone()))?, &addr.key) {
            (DeclValue::Single(i), None) => i,
            (DeclValue::Instances(m), Some(InstanceKey::Str(k))) => m.get_mut(k)?,
            (DeclValue::Counted(m), Some(InstanceKey::Int(n))) => m.get_mut(n)?,
            _ => return None,
        };
        Some(std::mem::take(&mut inst.value))
    }

    /// The value of a declaration of the root module; `None` when none has been recorded.
    pub fn get(&self, kind: DeclKind, name: &str) -> Option<&DeclValue> {
        self.get_in(&[], kind, name)
    }

    /// The value of a declaration of module instance `module`.
    pub fn get_in(&self, module: &[ModuleStep], kind: DeclKind, name: &str) -> Option<&DeclValue> {
        self.insts.get(module)?.decls.get(&(kind, name.to_string()))
    }

    /// Declares the call `name` in module instance `caller`: no instances yet (an empty map
    /// or list when it has `for_each`/`count`), or unknown.
    pub fn set_call(
        &mut self,
        caller: &[ModuleStep],
        name: &str,
        expansion: Option<Expansion>,
        known: bool,
    ) {
        let v = match (known, expansion) {
            (false, _) => DeclValue::Unknown,
            (true, Some(e)) => empty(e),
            (true, None) => DeclValue::Single(Inst {
                value: Value::Map(Default::default()),
                complete: true,
            }),
        };
        self.inst_mut(caller).calls.insert(name.to_string(), v);
    }

    /// Records output `output` of module instance `inst` (whose last step is the call) in
    /// the caller's `module.NAME` value.
    pub fn set_output(&mut self, inst: &[ModuleStep], output: &str, value: Value) {
        let Some((step, caller)) = inst.split_last() else {
            return;
        };
        let calls = &mut self.inst_mut(caller).calls;
        let slot = calls.entry(step.name.clone()).or_insert(DeclValue::Unknown);
        let mut object = match (slot as &DeclValue, &step.key) {
            (DeclValue::Single(i), None) => i.value.clone(),
            (DeclValue::Instances(m), Some(InstanceKey::Str(k))) => {
                m.get(k).map(|i| i.value.clone()).unwrap_or(Value::Null)
            }
            (DeclValue::Counted(m), Some(InstanceKey::Int(k))) => {
                m.get(k).map(|i| i.value.clone()).unwrap_or(Value::Null)
            }
            _ => Value::Null,
        };
        if !matches!(object, Value::Map(_)) {
            object = Value::Map(Default::default());
        }
        object.set(&plinth_value::Path::root().key(output), value);
        put(
            slot,
            &step.key,
            Inst {
                value: object,
                complete: true,
            },
        );
    }

    /// The value of `module.NAME` in module instance `caller`.
    pub fn call(&self, caller: &[ModuleStep], name: &str) -> Option<&DeclValue> {
        self.insts.get(caller)?.calls.get(name)
    }

    /// Sets the input variables of module instance `inst`.
    pub fn set_vars(&mut self, inst: &[ModuleStep], vars: BTreeMap<String, Value>) {
        self.inst_mut(inst).vars = vars;
    }

    /// Sets one input variable of module instance `inst`.
    pub fn set_var(&mut self, inst: &[ModuleStep], name: &str, value: Value) {
        self.inst_mut(inst).vars.insert(name.to_string(), value);
    }

    /// The input variables of module instance `inst`; `None` before any was set.
    pub fn vars(&self, inst: &[ModuleStep]) -> Option<&BTreeMap<String, Value>> {
        self.insts.get(inst).map(|i| &i.vars)
    }
}

/// A whole number `>= 0` (`2` or `2.0`); `None` for anything else (`1.5`, `-1`, `"2"`).
pub fn whole_number(v: &Value) -> Option<u64> {
    let Value::Number(n) = v else {
        return None;
    };
    if let Some(i) = n.as_u64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // Floats beyond 2^53 are not exact; no count or index is that large.
    (f >= 0.0 && f.fract() == 0.0 && f < 9_007_199_254_740_992.0).then_some(f as u64)
}
