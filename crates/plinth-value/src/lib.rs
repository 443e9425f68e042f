//! The value model shared by every part of plinth.
//!
//! A [`Value`] is JSON-like, plus two marks (SPEC §3):
//! - [`Value::Unknown`]: "known after apply", an attribute of a resource not yet created;
//! - [`Value::Sensitive`]: a value that is rendered as `(sensitive)` everywhere.
//!
//! Marks propagate: an operation over an unknown value is unknown; an operation over a
//! sensitive value is sensitive. Maps are ordered by key so every rendering and digest is
//! deterministic.

#![warn(missing_docs)]

use std::fmt;

use serde::{Deserialize, Serialize};

pub mod map;
mod path;
pub use map::Map;
pub use path::{Path, PathSeg};

/// A configuration or resource value.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// No value, JSON's `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer or a float, kept exactly as JSON holds it (no unit; the attribute's schema
    /// says what it counts).
    Number(serde_json::Number),
    /// A string, unquoted (rendering adds the quotes).
    String(String),
    /// An ordered list; indices in a [`Path`] count from 0.
    List(Vec<Value>),
    /// A map ordered by key, so renderings and digests are deterministic.
    Map(Map),
    /// Known after apply.
    Unknown,
    /// A sensitive value: never rendered.
    Sensitive(Box<Value>),
}

/// The text every rendering shows for an unknown value.
pub const UNKNOWN_TEXT: &str = "(known after apply)";
/// The text every rendering shows for a sensitive value.
pub const SENSITIVE_TEXT: &str = "(sensitive)";

impl Value {
    /// A [`Value::String`] from anything string-like.
    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    /// Marks `v` sensitive. Idempotent: an already sensitive value is not wrapped twice.
    pub fn sensitive(v: Value) -> Self {
        match v {
            Value::Sensitive(_) => v,
            other => Value::Sensitive(Box::new(other)),
        }
    }

    /// The name of this value's type, as error messages say it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Unknown => "unknown",
            Value::Sensitive(inner) => inner.type_name(),
        }
    }

    /// The value with a top-level sensitive mark removed.
    pub fn unmarked(&self) -> &Value {
        match self {
            Value::Sensitive(inner) => inner.unmarked(),
            other => other,
        }
    }

    /// True when this value itself carries the sensitive mark; a map or list with a
    /// sensitive part is not (see [`Value::contains_sensitive`]).
    pub fn is_sensitive(&self) -> bool {
        matches!(self, Value::Sensitive(_))
    }

    /// True when this value, seen through a sensitive mark, is [`Value::Unknown`]; a map or
    /// list with an unknown part is not (see [`Value::is_wholly_known`]).
    pub fn is_unknown(&self) -> bool {
        matches!(self.unmarked(), Value::Unknown)
    }

    /// True when no part of this value is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::Sensitive(inner) => inner.is_wholly_known(),
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(map) => map.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// The text of every sensitive part of this value (strings as they are, other scalars
    /// rendered), longest first: what [`scrub`] removes from messages written by services
    /// that may echo what they were sent.
    pub fn sensitive_texts(&self) -> Vec<String> {
        fn leaves(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Number(n) => out.push(n.to_string()),
                Value::List(items) => items.iter().for_each(|i| leaves(i, out)),
                Value::Map(m) => m.values().for_each(|i| leaves(i, out)),
                Value::Sensitive(inner) => leaves(inner, out),
                _ => {}
            }
        }
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Sensitive(inner) => leaves(inner, out),
                Value::List(items) => items.iter().for_each(|i| walk(i, out)),
                Value::Map(m) => m.values().for_each(|i| walk(i, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out.retain(|s| s.len() >= MIN_SCRUBBED);
        out.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        out.dedup();
        out
    }

    /// True when any part of this value is marked sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(items) => items.iter().any(Value::contains_sensitive),
            Value::Map(map) => map.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    /// The string, seen through a sensitive mark; `None` for any other type (unknown too).
    pub fn as_str(&self) -> Option<&str> {
        match self.unmarked() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, seen through a sensitive mark; `None` for any other type (unknown too).
    pub fn as_bool(&self) -> Option<bool> {
        match self.unmarked() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The map, seen through a sensitive mark; `None` for any other type (unknown too).
    /// Entries inside keep their own marks.
    pub fn as_map(&self) -> Option<&Map> {
        match self.unmarked() {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The list's items, seen through a sensitive mark; `None` for any other type (unknown
    /// too). Items keep their own marks.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self.unmarked() {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Looks up a path. `None` when some step does not exist. Walking through an unknown
    /// value yields [`Value::Unknown`]; walking through a sensitive one keeps the mark.
    pub fn get(&self, path: &Path) -> Option<Value> {
        // Walk by reference; clone only what is found.
        let mut cur = self;
        let mut sensitive = false;
        for seg in path.segments() {
            if let Value::Sensitive(inner) = cur {
                sensitive = true;
                cur = inner;
            }
            cur = match (cur, seg) {
                (Value::Unknown, _) => return Some(mark(Value::Unknown, sensitive)),
                (Value::Map(m), PathSeg::Key(k)) => m.get(k)?,
                (Value::List(l), PathSeg::Index(i)) => l.get(*i)?,
                _ => return None,
            };
        }
        Some(mark(cur.clone(), sensitive))
    }

    /// Sets a path, creating intermediate maps. Lists are extended with nulls as needed.
    pub fn set(&mut self, path: &Path, value: Value) {
        let mut cur = self;
        for seg in path.segments() {
            if let Value::Sensitive(inner) = cur {
                cur = inner.as_mut();
            }
            cur = match seg {
                PathSeg::Key(k) => {
                    if !matches!(cur, Value::Map(_)) {
                        *cur = Value::Map(Map::new());
                    }
                    let Value::Map(m) = cur else { unreachable!() };
                    m.entry(k.clone()).or_insert(Value::Null)
                }
                PathSeg::Index(i) => {
                    if !matches!(cur, Value::List(_)) {
                        *cur = Value::List(Vec::new());
                    }
                    let Value::List(l) = cur else { unreachable!() };
                    if l.len() <= *i {
                        l.resize(*i + 1, Value::Null);
                    }
                    &mut l[*i]
                }
            };
        }
        *cur = value;
    }

    /// Removes a path; returns the removed value.
    pub fn remove(&mut self, path: &Path) -> Option<Value> {
        let (last, parent) = path.split_last()?;
        let mut cur = self;
        for seg in parent.segments() {
            if let Value::Sensitive(inner) = cur {
                cur = inner.as_mut();
            }
            cur = match (cur, seg) {
                (Value::Map(m), PathSeg::Key(k)) => m.get_mut(k)?,
                (Value::List(l), PathSeg::Index(i)) => l.get_mut(*i)?,
                _ => return None,
            };
        }
        if let Value::Sensitive(inner) = cur {
            cur = inner.as_mut();
        }
        match (cur, last) {
            (Value::Map(m), PathSeg::Key(k)) => m.remove(k),
            (Value::List(l), PathSeg::Index(i)) if *i < l.len() => Some(l.remove(*i)),
            _ => None,
        }
    }

    /// Every path (depth-first) at which a leaf or a marked value sits. Maps and lists are
    /// descended into; empty maps and lists are leaves.
    pub fn leaf_paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        collect_leaves(self, &Path::root(), &mut out);
        out
    }

    /// Splits the value into plain JSON and the paths that were marked sensitive.
    /// Unknown values become `null` (use [`Value::unknown_paths`] to keep them).
    pub fn to_json_parts(&self) -> (serde_json::Value, Vec<Path>) {
        let mut sensitive = Vec::new();
        let json = to_json_inner(self, &Path::root(), &mut sensitive);
        (json, sensitive)
    }

    /// Whether [`Value::to_json`] would equal `json`, without building it (marks dropped,
    /// unknowns as `null`, object keys in any order): refresh compares every object it reads
    /// with its record this way.
    pub fn eq_json(&self, json: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match (self, json) {
            (Value::Sensitive(inner), j) => inner.eq_json(j),
            (Value::Null | Value::Unknown, J::Null) => true,
            (Value::Bool(a), J::Bool(b)) => a == b,
            (Value::Number(a), J::Number(b)) => a == b,
            (Value::String(a), J::String(b)) => a == b,
            (Value::List(a), J::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_json(y))
            }
            (Value::Map(a), J::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, x)| b.get(k).is_some_and(|y| x.eq_json(y)))
            }
            _ => false,
        }
    }

    /// Plain JSON, marks dropped, unknowns as `null`.
    pub fn to_json(&self) -> serde_json::Value {
        self.to_json_parts().0
    }

    /// The paths of the sensitive values inside this one (outermost marks only), as
    /// [`Value::to_json_parts`] reports them, without building the JSON.
    pub fn sensitive_paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        collect_sensitive(self, &Path::root(), &mut out);
        out
    }

    /// The paths of every unknown value inside this one.
    pub fn unknown_paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        collect_unknown(self, &Path::root(), &mut out);
        out
    }

    /// Builds a value from plain JSON, marking the given paths sensitive.
    pub fn from_json_marked(json: &serde_json::Value, sensitive: &[Path]) -> Value {
        let mut v = Value::from(json);
        for p in sensitive {
            if let Some(inner) = v.get(p) {
                v.set(p, Value::sensitive(inner));
            }
        }
        v
    }

    /// Removes every sensitive mark, keeping the inner values.
    pub fn unmark_all(&self) -> Value {
        match self {
            Value::Sensitive(inner) => inner.unmark_all(),
            Value::List(items) => Value::List(items.iter().map(Value::unmark_all).collect()),
            Value::Map(m) => {
                Value::Map(m.iter().map(|(k, v)| (k.clone(), v.unmark_all())).collect())
            }
            other => other.clone(),
        }
    }

    /// Renders the value as a single line, hiding sensitive values and showing unknowns as
    /// `(known after apply)`. Strings are quoted.
    pub fn render(&self) -> String {
        self.to_string()
    }

    /// Renders, revealing sensitive values (for `--show-sensitive`).
    pub fn render_revealed(&self) -> String {
        self.unmark_all().to_string()
    }
}

fn mark(v: Value, sensitive: bool) -> Value {
    if sensitive { Value::sensitive(v) } else { v }
}

fn collect_leaves(v: &Value, at: &Path, out: &mut Vec<Path>) {
    match v {
        Value::Map(m) if !m.is_empty() => {
            for (k, child) in m {
                collect_leaves(child, &at.key(k), out);
            }
        }
        Value::List(l) if !l.is_empty() => {
            for (i, child) in l.iter().enumerate() {
                collect_leaves(child, &at.index(i), out);
            }
        }
        _ => out.push(at.clone()),
    }
}

/// Paths are built only on the way to a mark: a subtree without one costs a scan, not an
/// allocation per key (most values have no secret at all).
fn collect_sensitive(v: &Value, at: &Path, out: &mut Vec<Path>) {
    match v {
        Value::Sensitive(_) => out.push(at.clone()),
        Value::Map(m) => {
            for (k, child) in m {
                if child.contains_sensitive() {
                    collect_sensitive(child, &at.key(k), out);
                }
            }
        }
        Value::List(l) => {
            for (i, child) in l.iter().enumerate() {
                if child.contains_sensitive() {
                    collect_sensitive(child, &at.index(i), out);
                }
            }
        }
        _ => {}
    }
}

fn collect_unknown(v: &Value, at: &Path, out: &mut Vec<Path>) {
    match v {
        Value::Unknown => out.push(at.clone()),
        Value::Sensitive(inner) => collect_unknown(inner, at, out),
        Value::Map(m) => {
            for (k, child) in m {
                collect_unknown(child, &at.key(k), out);
            }
        }
        Value::List(l) => {
            for (i, child) in l.iter().enumerate() {
                collect_unknown(child, &at.index(i), out);
            }
        }
        _ => {}
    }
}

fn to_json_inner(v: &Value, at: &Path, sensitive: &mut Vec<Path>) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null | Value::Unknown => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => J::Number(n.clone()),
        Value::String(s) => J::String(s.clone()),
        Value::List(items) => J::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| to_json_inner(x, &at.index(i), sensitive))
                .collect(),
        ),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), to_json_inner(x, &at.key(k), sensitive)))
                .collect(),
        ),
        Value::Sensitive(inner) => {
            sensitive.push(at.clone());
            let mut ignored = Vec::new();
            to_json_inner(inner, at, &mut ignored)
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(j: serde_json::Value) -> Self {
        use serde_json::Value as J;
        match j {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(b),
            J::Number(n) => Value::Number(n),
            J::String(s) => Value::String(s),
            J::Array(a) => Value::List(a.into_iter().map(Value::from).collect()),
            J::Object(o) => Value::Map(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect()),
        }
    }
}

/// Converts without cloning the JSON first.
impl From<&serde_json::Value> for Value {
    fn from(j: &serde_json::Value) -> Self {
        use serde_json::Value as J;
        match j {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Number(n.clone()),
            J::String(s) => Value::String(s.clone()),
            J::Array(a) => Value::List(a.iter().map(Value::from).collect()),
            J::Object(o) => {
                Value::Map(o.iter().map(|(k, v)| (k.clone(), Value::from(v))).collect())
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n.into())
    }
}

impl fmt::Display for Value {
    /// One-line rendering; sensitive values hidden, unknowns spelled out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            Value::Unknown => f.write_str(UNKNOWN_TEXT),
            Value::Sensitive(_) => f.write_str(SENSITIVE_TEXT),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{x}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} = {x}", path::render_key(k))?;
                }
                f.write_str("}")
            }
        }
    }
}

/// The wire form of a value inside plinth's own files (saved plans): JSON, with marks as
/// single-key objects `{"$unknown": true}` and `{"$sensitive": <value>}`. State files never
/// hold this form: they hold plain JSON plus a list of sensitive paths.
impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        to_wire(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let j = serde_json::Value::deserialize(d)?;
        Ok(from_wire(j))
    }
}

fn to_wire(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Unknown => serde_json::json!({"$unknown": true}),
        Value::Sensitive(inner) => serde_json::json!({"$sensitive": to_wire(inner)}),
        Value::List(items) => J::Array(items.iter().map(to_wire).collect()),
        Value::Map(m) => J::Object(m.iter().map(|(k, x)| (k.clone(), to_wire(x))).collect()),
        other => other.to_json(),
    }
}

fn from_wire(j: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::Object(mut o) if o.len() == 1 && o.contains_key("$unknown") => {
            let _ = o.remove("$unknown");
            Value::Unknown
        }
        J::Object(mut o) if o.len() == 1 && o.contains_key("$sensitive") => {
            Value::sensitive(from_wire(o.remove("$sensitive").unwrap_or(J::Null)))
        }
        J::Array(a) => Value::List(a.into_iter().map(from_wire).collect()),
        J::Object(o) => Value::Map(o.into_iter().map(|(k, v)| (k, from_wire(v))).collect()),
        other => Value::from(other),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn eq_json_agrees_with_to_json() {
        let j = serde_json::json!({"b": [1, "x", null, {"c": true}], "a": 2.5, "s": "t"});
        let mut v = Value::from(j.clone());
        assert!(v.eq_json(&j));
        // Marks drop and unknowns are null, as in to_json.
        v.set(&Path::root().key("s"), Value::sensitive(Value::from("t")));
        assert!(v.eq_json(&j));
        assert_eq!(v.to_json(), j);
        v.set(&Path::root().key("b").index(2), Value::Unknown);
        assert!(v.eq_json(&j));
        // Any difference, a missing or extra key, a type: not equal, as to_json says.
        for other in [
            serde_json::json!({"b": [1, "x", null, {"c": false}], "a": 2.5, "s": "t"}),
            serde_json::json!({"b": [1, "x", null, {"c": true}], "a": 2.5}),
            serde_json::json!({"b": [1, "x", null, {"c": true}], "a": 2.5, "s": "t", "z": 1}),
            serde_json::json!({"b": [1, "x", null], "a": 2.5, "s": "t"}),
            serde_json::json!({"b": [1, "x", null, {"c": true}], "a": "2.5", "s": "t"}),
        ] {
            assert!(!v.eq_json(&other), "{other}");
            assert_ne!(v.to_json(), other);
        }
    }
    #[test]
    fn sensitive_paths_are_the_marks_to_json_parts_reports() {
        let mut v = Value::from(serde_json::json!({"a": [1, {"b": "x"}], "c": "y"}));
        v.set(
            &"a[1].b".parse().unwrap(),
            Value::sensitive(Value::from("x")),
        );
        v.set(
            &"c".parse().unwrap(),
            Value::sensitive(Value::sensitive(Value::from("y"))),
        );
        assert_eq!(v.sensitive_paths(), v.to_json_parts().1);
        assert_eq!(v.sensitive_paths().len(), 2);
        assert!(Value::from("plain").sensitive_paths().is_empty());
    }

    use super::*;

    fn sample() -> Value {
        Value::from(serde_json::json!({
            "name": "x",
            "properties": {"a": [1, {"b": true}], "secret": "s3cr3t"}
        }))
    }

    #[test]
    fn get_and_set_paths() {
        let mut v = sample();
        let p: Path = "properties.a[1].b".parse().unwrap();
        assert_eq!(v.get(&p), Some(Value::Bool(true)));
        v.set(&"properties.new.deep".parse().unwrap(), Value::from("y"));
        assert_eq!(
            v.get(&"properties.new.deep".parse().unwrap()),
            Some(Value::from("y"))
        );
        assert_eq!(v.get(&"properties.missing".parse().unwrap()), None);
        assert_eq!(
            v.remove(&"properties.a".parse().unwrap())
                .map(|x| x.type_name()),
            Some("list")
        );
    }

    #[test]
    fn unknown_propagates_through_get() {
        let v = Value::from(serde_json::json!({"a": null}));
        let mut v = v;
        v.set(&"a".parse().unwrap(), Value::Unknown);
        assert_eq!(v.get(&"a.b.c".parse().unwrap()), Some(Value::Unknown));
        assert!(!v.is_wholly_known());
        assert_eq!(v.unknown_paths(), vec!["a".parse::<Path>().unwrap()]);
    }

    #[test]
    fn sensitive_is_never_displayed_and_round_trips() {
        let secret: Path = "properties.secret".parse().unwrap();
        let v = Value::from_json_marked(&sample().to_json(), std::slice::from_ref(&secret));
        let shown = v.to_string();
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains(SENSITIVE_TEXT));
        assert!(v.render_revealed().contains("s3cr3t"));
        let (json, paths) = v.to_json_parts();
        assert_eq!(paths, vec![secret.clone()]);
        assert_eq!(json["properties"]["secret"], "s3cr3t");
        // reading through a sensitive parent keeps the mark
        let parent_marked =
            Value::from_json_marked(&sample().to_json(), &["properties".parse().unwrap()]);
        assert!(parent_marked.get(&secret).unwrap().is_sensitive());
    }

    #[test]
    fn wire_form_round_trips_marks() {
        let mut v = sample();
        v.set(&"properties.id".parse().unwrap(), Value::Unknown);
        v.set(
            &"properties.secret".parse().unwrap(),
            Value::sensitive(Value::from("s")),
        );
        let text = serde_json::to_string(&v).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}

/// Secrets shorter than this are not scrubbed from messages: replacing every `1` or `ab` in a
/// message would garble it while protecting nothing worth the name.
pub const MIN_SCRUBBED: usize = 3;

/// Replaces every occurrence of the `secrets` (see [`Value::sensitive_texts`]) in `message`
/// with `(sensitive)`, ignoring case: services echo what they were sent lower- or
/// upper-cased (ARM lower-cases names into `RoleDefinitionDoesNotExist` messages).
pub fn scrub(message: &str, secrets: &[String]) -> String {
    let mut out = message.to_string();
    for s in secrets {
        out = scrub_one(&out, s);
    }
    out
}

/// [`scrub`] of one secret: case-insensitive (Unicode lower case), matches replaced left to
/// right. A match that covers part of a character's lower-case expansion takes the whole
/// character (too much hidden is safe; too little is not).
fn scrub_one(message: &str, secret: &str) -> String {
    let needle = secret.to_lowercase();
    if needle.is_empty() {
        return message.to_string();
    }
    // The message lower-cased, and for each of its bytes the original character's range.
    let mut lower = String::with_capacity(message.len());
    let mut origin: Vec<(usize, usize)> = Vec::with_capacity(message.len());
    for (at, c) in message.char_indices() {
        let end = at + c.len_utf8();
        for l in c.to_lowercase() {
            lower.push(l);
            origin.extend(std::iter::repeat_n((at, end), l.len_utf8()));
        }
    }
    let mut out = String::with_capacity(message.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find(&needle) {
        let start = from + found;
        let stop = start + needle.len();
        let (orig_start, _) = origin[start];
        let (_, orig_end) = origin[stop - 1];
        if orig_start >= copied {
            out.push_str(&message[copied..orig_start]);
            out.push_str("(sensitive)");
            copied = orig_end;
        } else if orig_end > copied {
            // Overlaps the previous match: hide the rest of it too.
            copied = orig_end;
        }
        from = stop;
    }
    out.push_str(&message[copied..]);
    out
}

#[cfg(test)]
mod scrub_tests {
    use super::*;

    #[test]
    fn scrubs_sensitive_leaves_longest_first_and_leaves_the_rest() {
        let v = Value::from(serde_json::json!({"user": "admin", "n": 1}));
        let mut v = v;
        v.set(
            &Path::root().key("password"),
            Value::sensitive(Value::from("hunter2")),
        );
        v.set(
            &Path::root().key("nested"),
            Value::sensitive(Value::from(
                serde_json::json!({"a": "hunter2x", "b": 42, "c": "ab"}),
            )),
        );
        let secrets = v.sensitive_texts();
        assert_eq!(secrets, vec!["hunter2x".to_string(), "hunter2".to_string()]);
        assert_eq!(
            scrub("bad value hunter2x for admin (was hunter2)", &secrets),
            "bad value (sensitive) for admin (was (sensitive))"
        );
    }

    #[test]
    fn scrubs_whatever_the_case() {
        let secrets = vec!["S3cr3tPW-Xyzzy-9271".to_string()];
        assert_eq!(
            scrub(
                "RoleDefinitionDoesNotExist: 's3cr3tpw-xyzzy-9271' and S3CR3TPW-XYZZY-9271 and S3cr3tPW-Xyzzy-9271",
                &secrets
            ),
            "RoleDefinitionDoesNotExist: '(sensitive)' and (sensitive) and (sensitive)"
        );
        // Characters whose lower case is longer or shorter than they are.
        let secrets = vec!["ÄÖÜ-Straße-İx".to_string()];
        assert_eq!(
            scrub("a äöü-strasse-i̇x b äöü-straße-i̇x c ÄÖÜ-STRAßE-İX", &secrets),
            "a äöü-strasse-i̇x b (sensitive) c (sensitive)"
        );
        assert_eq!(scrub("nothing here", &secrets), "nothing here");
        assert_eq!(
            scrub("abcabc", &["ABC".to_string()]),
            "(sensitive)(sensitive)"
        );
    }
}
