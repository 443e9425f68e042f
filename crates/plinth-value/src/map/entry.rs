//! The entry API of a [`Map`](super::Map): one search, then read or fill in place.

use crate::Value;

/// The entry of one key in a map: present or vacant.
pub enum Entry<'a> {
    /// The key is absent.
    Vacant(VacantEntry<'a>),
    /// The key is present.
    Occupied(OccupiedEntry<'a>),
}

/// The place of an absent key.
pub struct VacantEntry<'a> {
    entries: &'a mut Vec<(String, Value)>,
    index: usize,
    key: String,
}

/// A present key's entry.
pub struct OccupiedEntry<'a> {
    entries: &'a mut Vec<(String, Value)>,
    index: usize,
}

impl<'a> Entry<'a> {
    /// The entry's key.
    pub fn key(&self) -> &String {
        match self {
            Entry::Vacant(v) => v.key(),
            Entry::Occupied(o) => o.key(),
        }
    }

    /// The value, `default` put in first if the key was absent.
    pub fn or_insert(self, default: Value) -> &'a mut Value {
        match self {
            Entry::Vacant(v) => v.insert(default),
            Entry::Occupied(o) => o.into_mut(),
        }
    }

    /// The value, `default()` put in first if the key was absent.
    pub fn or_insert_with(self, default: impl FnOnce() -> Value) -> &'a mut Value {
        match self {
            Entry::Vacant(v) => v.insert(default()),
            Entry::Occupied(o) => o.into_mut(),
        }
    }

    /// The value, `default(key)` put in first if the key was absent.
    pub fn or_insert_with_key(self, default: impl FnOnce(&String) -> Value) -> &'a mut Value {
        match self {
            Entry::Vacant(v) => {
                let value = default(&v.key);
                v.insert(value)
            }
            Entry::Occupied(o) => o.into_mut(),
        }
    }

    /// The value, [`Value::Null`] put in first if the key was absent.
    pub fn or_default(self) -> &'a mut Value {
        self.or_insert_with(Value::default)
    }

    /// Applies `f` to the value if the key is present; the entry either way.
    pub fn and_modify(self, f: impl FnOnce(&mut Value)) -> Self {
        match self {
            Entry::Occupied(mut o) => {
                f(o.get_mut());
                Entry::Occupied(o)
            }
            vacant => vacant,
        }
    }
}

impl<'a> VacantEntry<'a> {
    pub(super) fn new(entries: &'a mut Vec<(String, Value)>, index: usize, key: String) -> Self {
        VacantEntry {
            entries,
            index,
            key,
        }
    }

    /// The absent key.
    pub fn key(&self) -> &String {
        &self.key
    }

    /// The key back, nothing inserted.
    pub fn into_key(self) -> String {
        self.key
    }

    /// Puts `value` under the key; the value in place.
    pub fn insert(self, value: Value) -> &'a mut Value {
        let VacantEntry {
            entries,
            index,
            key,
        } = self;
        entries.insert(index, (key, value));
        &mut entries[index].1
    }
}

impl<'a> OccupiedEntry<'a> {
    pub(super) fn new(entries: &'a mut Vec<(String, Value)>, index: usize) -> Self {
        OccupiedEntry { entries, index }
    }

    /// The present key.
    pub fn key(&self) -> &String {
        &self.entries[self.index].0
    }

    /// The value.
    pub fn get(&self) -> &Value {
        &self.entries[self.index].1
    }

    /// The value, mutably, for as long as the entry.
    pub fn get_mut(&mut self) -> &mut Value {
        &mut self.entries[self.index].1
    }

    /// The value, mutably, for as long as the map's borrow.
    pub fn into_mut(self) -> &'a mut Value {
        &mut self.entries[self.index].1
    }

    /// Replaces the value, returning the old one.
    pub fn insert(&mut self, value: Value) -> Value {
        std::mem::replace(self.get_mut(), value)
    }

    /// Takes the entry out of the map; its value.
    pub fn remove(self) -> Value {
        self.remove_entry().1
    }

    /// Takes the entry out of the map.
    pub fn remove_entry(self) -> (String, Value) {
        self.entries.remove(self.index)
    }
}
