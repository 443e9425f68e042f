//! `Map` against `BTreeMap<String, Value>`: any sequence of operations gives the same answers
//! and leaves the same entries in the same order.

use std::collections::BTreeMap;

use plinth_value::map::Entry;
use plinth_value::{Map, Value};
use proptest::prelude::*;

/// One operation on both maps.
#[derive(Clone, Debug)]
enum Op {
    Insert(String, i64),
    Remove(String),
    Get(String),
    GetMut(String, i64),
    OrInsert(String, i64),
    AndModifyOrDefault(String, i64),
    EntryRemove(String),
    Retain(i64),
    Extend(Vec<(String, i64)>),
    PopFirst,
    PopLast,
}

/// Keys from a small alphabet, so that operations hit present keys often.
fn key() -> impl Strategy<Value = String> {
    "[a-e]{0,3}"
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (key(), any::<i64>()).prop_map(|(k, v)| Op::Insert(k, v)),
        key().prop_map(Op::Remove),
        key().prop_map(Op::Get),
        (key(), any::<i64>()).prop_map(|(k, v)| Op::GetMut(k, v)),
        (key(), any::<i64>()).prop_map(|(k, v)| Op::OrInsert(k, v)),
        (key(), any::<i64>()).prop_map(|(k, v)| Op::AndModifyOrDefault(k, v)),
        key().prop_map(Op::EntryRemove),
        (2i64..5).prop_map(Op::Retain),
        proptest::collection::vec((key(), any::<i64>()), 0..6).prop_map(Op::Extend),
        Just(Op::PopFirst),
        Just(Op::PopLast),
    ]
}

/// One operation on either map: the same code for the compact map and the reference, so the
/// two can only differ in what the maps do. `$entry` is the map's entry enum.
macro_rules! apply {
    ($m:ident, $op:ident, $entry:ident) => {
        match $op {
            Op::Insert(k, v) => $m.insert(k.clone(), Value::from(*v)),
            Op::Remove(k) => $m.remove(k.as_str()),
            Op::Get(k) => $m.get(k.as_str()).cloned(),
            Op::GetMut(k, v) => $m
                .get_mut(k)
                .map(|slot| std::mem::replace(slot, Value::from(*v))),
            Op::OrInsert(k, v) => Some($m.entry(k.clone()).or_insert(Value::from(*v)).clone()),
            Op::AndModifyOrDefault(k, v) => Some(
                $m.entry(k.clone())
                    .and_modify(|x| *x = Value::from(*v))
                    .or_default()
                    .clone(),
            ),
            Op::EntryRemove(k) => match $m.entry(k.clone()) {
                $entry::Occupied(o) => Some(o.remove()),
                $entry::Vacant(_) => None,
            },
            Op::Retain(n) => {
                $m.retain(
                    |_, v| !matches!(v, Value::Number(x) if x.as_i64().is_some_and(|i| i % n == 0)),
                );
                None
            }
            Op::Extend(items) => {
                $m.extend(items.iter().map(|(k, v)| (k.clone(), Value::from(*v))));
                None
            }
            Op::PopFirst => $m
                .pop_first()
                .map(|(k, v)| Value::List(vec![Value::from(k), v])),
            Op::PopLast => $m
                .pop_last()
                .map(|(k, v)| Value::List(vec![Value::from(k), v])),
        }
    };
}

/// Applies `op` to the compact map, returning what it answered.
fn on_map(m: &mut Map, op: &Op) -> Option<Value> {
    apply!(m, op, Entry)
}

/// Applies `op` to the reference map, returning what it answered.
fn on_btree(m: &mut BTreeMap<String, Value>, op: &Op) -> Option<Value> {
    use std::collections::btree_map::Entry as B;
    apply!(m, op, B)
}

/// Every way of reading the map agrees with the reference's.
fn assert_same(m: &Map, b: &BTreeMap<String, Value>) -> Result<(), TestCaseError> {
    prop_assert_eq!(m.len(), b.len());
    prop_assert_eq!(m.is_empty(), b.is_empty());
    prop_assert!(m.iter().eq(b.iter()));
    prop_assert!(m.iter().rev().eq(b.iter().rev()));
    prop_assert!(m.keys().eq(b.keys()));
    prop_assert!(m.values().eq(b.values()));
    prop_assert_eq!(m.first_key_value(), b.first_key_value());
    prop_assert_eq!(m.last_key_value(), b.last_key_value());
    for k in b.keys() {
        prop_assert!(m.contains_key(k.as_str()));
        prop_assert_eq!(&m[k.as_str()], &b[k]);
    }
    prop_assert_eq!(format!("{m:?}"), format!("{b:?}"));
    prop_assert_eq!(
        serde_json::to_string(m).map_err(|e| TestCaseError::fail(e.to_string()))?,
        serde_json::to_string(b).map_err(|e| TestCaseError::fail(e.to_string()))?
    );
    Ok(())
}

proptest! {
    #[test]
    fn operations_agree_with_btreemap(ops in proptest::collection::vec(op(), 0..40)) {
        let mut m = Map::new();
        let mut b = BTreeMap::new();
        for op in &ops {
            prop_assert_eq!(on_map(&mut m, op), on_btree(&mut b, op), "after {:?}", op);
            assert_same(&m, &b)?;
        }
        prop_assert_eq!(BTreeMap::from(m.clone()), b.clone());
        prop_assert_eq!(Map::from(b.clone()), m.clone());
        prop_assert!(m.into_iter().eq(b.into_iter()));
    }

    #[test]
    fn collect_sorts_and_keeps_the_last_of_a_repeated_key(
        items in proptest::collection::vec((key(), any::<i64>()), 0..30)
    ) {
        let pairs = || items.iter().map(|(k, v)| (k.clone(), Value::from(*v)));
        let m: Map = pairs().collect();
        let b: BTreeMap<String, Value> = pairs().collect();
        assert_same(&m, &b)?;
    }

    #[test]
    fn deserialising_an_object_agrees_with_btreemap(
        items in proptest::collection::vec((key(), any::<i64>()), 0..30)
    ) {
        // Written in arrival order, repeats included, as a hand-written file could be.
        let body: Vec<String> = items.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        let text = format!("{{{}}}", body.join(","));
        let m: Map = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let b: BTreeMap<String, Value> =
            serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        assert_same(&m, &b)?;
    }
}

#[test]
fn appending_keeps_both_sides_and_empties_the_other() {
    let mut a: Map = [
        ("b".to_string(), Value::from(1)),
        ("d".to_string(), Value::from(2)),
    ]
    .into();
    let mut other: Map = [
        ("a".to_string(), Value::from(3)),
        ("d".to_string(), Value::from(4)),
    ]
    .into();
    a.append(&mut other);
    assert!(other.is_empty());
    let keys: Vec<&str> = a.keys().map(String::as_str).collect();
    assert_eq!(keys, ["a", "b", "d"]);
    assert_eq!(a.get("d"), Some(&Value::from(4)));
}
