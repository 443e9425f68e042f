//! The values of declarations evaluated so far: one instance, instances by `for_each` key,
//! instances by `count` index, or not known at all.

use std::collections::{BTreeMap, HashMap};

use plinth_addr::InstanceKey;
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
        if decl.count.is_some() {
            Some(Expansion::Count)
        } else if decl.for_each.is_some() {
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

/// The values of every declaration evaluated so far.
#[derive(Clone, Debug, Default)]
pub struct Values {
    decls: HashMap<(DeclKind, String), DeclValue>,
}

impl Values {
    /// Records the value of one instance.
    pub fn set(&mut self, addr: &Address, value: Value, complete: bool) {
        let key = (addr.kind, addr.name.clone());
        let inst = Inst { value, complete };
        match &addr.key {
            None => {
                self.decls.insert(key, DeclValue::Single(inst));
            }
            Some(InstanceKey::Str(k)) => {
                let entry = self
                    .decls
                    .entry(key)
                    .or_insert_with(|| DeclValue::Instances(BTreeMap::new()));
                if !matches!(entry, DeclValue::Instances(_)) {
                    *entry = DeclValue::Instances(BTreeMap::new());
                }
                if let DeclValue::Instances(m) = entry {
                    m.insert(k.clone(), inst);
                }
            }
            Some(InstanceKey::Int(i)) => {
                let entry = self
                    .decls
                    .entry(key)
                    .or_insert_with(|| DeclValue::Counted(BTreeMap::new()));
                if !matches!(entry, DeclValue::Counted(_)) {
                    *entry = DeclValue::Counted(BTreeMap::new());
                }
                if let DeclValue::Counted(m) = entry {
                    m.insert(*i, inst);
                }
            }
        }
    }

    /// Declares a `for_each` or `count` declaration with no instances: an empty map or an
    /// empty list.
    pub fn set_empty(&mut self, kind: DeclKind, name: &str, expansion: Expansion) {
        let empty = match expansion {
            Expansion::Count => DeclValue::Counted(BTreeMap::new()),
            Expansion::ForEach => DeclValue::Instances(BTreeMap::new()),
        };
        self.decls.insert((kind, name.to_string()), empty);
    }

    /// Records a whole declaration as unknown, so that every reference to it is "known
    /// after apply" (e.g. its `for_each` could not be evaluated).
    pub fn set_unknown(&mut self, kind: DeclKind, name: &str) {
        self.decls
            .insert((kind, name.to_string()), DeclValue::Unknown);
    }

    /// The value of a declaration; `None` when none has been recorded for it.
    pub fn get(&self, kind: DeclKind, name: &str) -> Option<&DeclValue> {
        self.decls.get(&(kind, name.to_string()))
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
