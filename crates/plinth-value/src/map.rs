//! [`Map`]: a compact map from string keys to [`Value`]s, ordered by key.
//!
//! A value model holds a great many small maps (a resource's attributes, a tag set, a nested
//! block of three settings). A `BTreeMap` spends a whole 632-byte node on each of them however
//! few its entries; this map keeps its entries in one vector sorted by key, found by binary
//! search, so a map of three entries costs three entries. It offers the subset of the
//! `BTreeMap` API the workspace uses, with the same semantics: iteration in key order, `insert`
//! returning the value it replaced, `collect` keeping the last value of a repeated key.
//!
//! Inserting a key that sorts after every present key (the common case when a map is built in
//! order) appends in O(1); inserting elsewhere shifts the entries after it, which is cheap for
//! the small maps this type is for.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;

use crate::Value;

mod entry;
mod iter;
mod serde_impl;

pub use entry::{Entry, OccupiedEntry, VacantEntry};
pub use iter::{IntoIter, IntoKeys, IntoValues, Iter, IterMut, Keys, Values, ValuesMut};

/// An ordered map of values: string keys, sorted, each present once.
#[derive(Clone, Default, PartialEq)]
pub struct Map {
    /// The entries, strictly increasing by key.
    entries: Vec<(String, Value)>,
}

impl Map {
    /// An empty map; allocates nothing.
    pub const fn new() -> Self {
        Map {
            entries: Vec::new(),
        }
    }

    /// An empty map with room for `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Self {
        Map {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// A map from entries in any order: sorted by key, and of a repeated key only the last
    /// value kept (as collecting into a `BTreeMap` does). The storage is exactly as large as
    /// the entries kept.
    fn from_entries(mut entries: Vec<(String, Value)>) -> Self {
        normalise(&mut entries);
        entries.shrink_to_fit();
        Map { entries }
    }

    /// How many entries the map holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every entry (keeping the storage).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Where `key` is (`Ok`) or would go (`Err`).
    fn search<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// The value under `key`, if any.
    pub fn get<Q>(&self, key: &Q) -> Option<&Value>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.search(key).ok().map(|i| &self.entries[i].1)
    }

    /// The stored key and value under `key`, if any.
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&String, &Value)>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.search(key).ok().map(|i| {
            let (k, v) = &self.entries[i];
            (k, v)
        })
    }

    /// The value under `key`, mutably, if any.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut Value>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        match self.search(key) {
            Ok(i) => Some(&mut self.entries[i].1),
            Err(_) => None,
        }
    }

    /// Whether `key` is present.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.search(key).is_ok()
    }

    /// Puts `value` under `key`, returning the value it replaces, if any. O(1) when `key`
    /// sorts after every present key.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.entries.last() {
            None => {
                self.entries.push((key, value));
                return None;
            }
            Some((last, _)) if *last < key => {
                self.entries.push((key, value));
                return None;
            }
            _ => {}
        }
        match self.search(key.as_str()) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Takes the value under `key` out of the map, if any.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<Value>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Takes the entry under `key` out of the map, if any.
    pub fn remove_entry<Q>(&mut self, key: &Q) -> Option<(String, Value)>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.search(key).ok().map(|i| self.entries.remove(i))
    }

    /// The entry of `key`, present or vacant, to read or fill in place.
    pub fn entry(&mut self, key: String) -> Entry<'_> {
        let found = match self.entries.last() {
            Some((last, _)) if *last < key => Err(self.entries.len()),
            None => Err(0),
            _ => self.search(key.as_str()),
        };
        match found {
            Ok(index) => Entry::Occupied(OccupiedEntry::new(&mut self.entries, index)),
            Err(index) => Entry::Vacant(VacantEntry::new(&mut self.entries, index, key)),
        }
    }

    /// The entry of the smallest key, if any.
    pub fn first_key_value(&self) -> Option<(&String, &Value)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    /// The entry of the largest key, if any.
    pub fn last_key_value(&self) -> Option<(&String, &Value)> {
        self.entries.last().map(|(k, v)| (k, v))
    }

    /// Takes out the entry of the smallest key, if any (O(n): shifts the rest).
    pub fn pop_first(&mut self) -> Option<(String, Value)> {
        if self.entries.is_empty() {
            None
        } else {
            Some(self.entries.remove(0))
        }
    }

    /// Takes out the entry of the largest key, if any.
    pub fn pop_last(&mut self) -> Option<(String, Value)> {
        self.entries.pop()
    }

    /// Keeps only the entries for which `keep` answers true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut Value) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// Moves every entry of `other` into this map (its values win on a shared key), leaving
    /// `other` empty.
    pub fn append(&mut self, other: &mut Map) {
        let taken = std::mem::take(&mut other.entries);
        self.extend(taken);
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter::new(self.entries.iter())
    }

    /// The entries in key order, values mutable.
    pub fn iter_mut(&mut self) -> IterMut<'_> {
        IterMut::new(self.entries.iter_mut())
    }

    /// The keys in order.
    pub fn keys(&self) -> Keys<'_> {
        Keys::new(self.entries.iter())
    }

    /// The values in key order.
    pub fn values(&self) -> Values<'_> {
        Values::new(self.entries.iter())
    }

    /// The values in key order, mutable.
    pub fn values_mut(&mut self) -> ValuesMut<'_> {
        ValuesMut::new(self.entries.iter_mut())
    }

    /// The keys in order, by value.
    pub fn into_keys(self) -> IntoKeys {
        IntoKeys::new(self.entries.into_iter())
    }

    /// The values in key order, by value.
    pub fn into_values(self) -> IntoValues {
        IntoValues::new(self.entries.into_iter())
    }
}

/// Sorts `entries` by key and keeps, of each repeated key, the value that came last.
fn normalise(entries: &mut Vec<(String, Value)>) {
    if entries.windows(2).all(|w| w[0].0 < w[1].0) {
        return;
    }
    // A stable sort keeps equal keys in arrival order; then of each run of equal keys the
    // last one is kept.
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut kept: Vec<(String, Value)> = Vec::with_capacity(entries.len());
    for entry in entries.drain(..) {
        match kept.last_mut() {
            Some(last) if last.0 == entry.0 => *last = entry,
            _ => kept.push(entry),
        }
    }
    *entries = kept;
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(String, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Map::from_entries(iter.into_iter().collect())
    }
}

impl Extend<(String, Value)> for Map {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        // Appended, then put in order: a stable sort keeps the new value of a shared key
        // after the old one, so the new one is kept.
        self.entries.extend(iter);
        normalise(&mut self.entries);
    }
}

impl<const N: usize> From<[(String, Value); N]> for Map {
    fn from(entries: [(String, Value); N]) -> Self {
        Map::from_entries(Vec::from(entries))
    }
}

impl From<BTreeMap<String, Value>> for Map {
    fn from(map: BTreeMap<String, Value>) -> Self {
        // Already sorted and unique: no sort needed.
        Map {
            entries: map.into_iter().collect(),
        }
    }
}

impl From<Map> for BTreeMap<String, Value> {
    fn from(map: Map) -> Self {
        map.entries.into_iter().collect()
    }
}

impl<Q> std::ops::Index<&Q> for Map
where
    String: Borrow<Q>,
    Q: Ord + ?Sized,
{
    type Output = Value;

    /// The value under `key`. Panics when `key` is absent, as `BTreeMap` does: index only by
    /// a key known present.
    fn index(&self, key: &Q) -> &Value {
        match self.get(key) {
            Some(v) => v,
            None => panic!("key absent from the map"),
        }
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = IntoIter;

    fn into_iter(self) -> IntoIter {
        IntoIter::new(self.entries.into_iter())
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Map {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = IterMut<'a>;

    fn into_iter(self) -> IterMut<'a> {
        self.iter_mut()
    }
}
