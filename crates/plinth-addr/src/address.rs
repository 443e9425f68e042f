//! Addresses of declarations and their instances, as users and files write them.

use std::fmt;
use std::str::FromStr;

use crate::DeclKind;
use crate::InstanceKey;
use crate::key::parse_key;

/// The suffix of a deposed object's address: the old object of a `create_before_destroy`
/// replacement, kept until its successor exists.
const DEPOSED: &str = " (deposed)";

/// One step of a module path: `module.app["prod"]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleStep {
    /// The module call's name: `app` in `module.app["prod"]`.
    pub name: String,
    /// The module call's instance key (`count` or `for_each`), if it has one.
    pub key: Option<InstanceKey>,
}

/// The address of a declaration or one of its instances: `rg`, `app["blue"]`, `app[0]`,
/// `data.sub`, `action.restart`, `output.url`, `provider.kubernetes`, `local.tags`,
/// `rg (deposed)`, and with a module
/// path `module.app["prod"].mi`. `resource.NAME` is accepted for `NAME` when parsing.
///
/// It serialises as its text (what state and plan files have always held).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    /// The module path; empty for the root module (the only one today).
    pub module: Vec<ModuleStep>,
    /// Which table declares it; shown as the address's prefix (`data.`, none for resources).
    pub kind: DeclKind,
    /// The declaration's name as written in its table: `app` in `[resource.app]`.
    pub name: String,
    /// The instance key (`count` or `for_each`), if the declaration has one.
    pub key: Option<InstanceKey>,
    /// The old object of a `create_before_destroy` replacement.
    pub deposed: bool,
}

/// Why a string is not an address; its text says what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressError(String);

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AddressError {}

impl From<AddressError> for String {
    fn from(e: AddressError) -> String {
        e.0
    }
}

impl Address {
    /// The address of an instance in the root module.
    pub fn new(kind: DeclKind, name: impl Into<String>, key: Option<InstanceKey>) -> Self {
        Address {
            module: Vec::new(),
            kind,
            name: name.into(),
            key,
            deposed: false,
        }
    }

    /// A resource in the root module, without key.
    pub fn resource(name: impl Into<String>) -> Self {
        Address::new(DeclKind::Resource, name, None)
    }

    /// The address of the declaration: no instance key, not deposed.
    pub fn decl(&self) -> Address {
        Address {
            key: None,
            deposed: false,
            ..self.clone()
        }
    }

    /// The declaration's address as text (`app`, `data.sub`).
    pub fn decl_text(&self) -> String {
        self.decl().to_string()
    }

    /// The same instance, marked deposed.
    pub fn deposed(&self) -> Address {
        Address {
            deposed: true,
            ..self.clone()
        }
    }

    /// The current object this deposed one belongs to (itself when not deposed).
    pub fn current(&self) -> Address {
        Address {
            deposed: false,
            ..self.clone()
        }
    }

    /// The same declaration with instance key `key`.
    pub fn with_key(&self, key: Option<InstanceKey>) -> Address {
        Address {
            key,
            ..self.clone()
        }
    }

    /// The address of a whole module instance (`module.app["orders"]`), or of every
    /// instance of a module call when the last step has no key (`module.app`): a module
    /// path naming no declaration (its `name` is empty). Only `--target` and similar
    /// selections use it; no object lives at such an address.
    pub fn module_instance(path: Vec<ModuleStep>) -> Self {
        Address {
            module: path,
            kind: DeclKind::Resource,
            name: String::new(),
            key: None,
            deposed: false,
        }
    }

    /// Whether this address names a module (instance) rather than a declaration in one.
    pub fn is_module(&self) -> bool {
        self.name.is_empty() && !self.module.is_empty()
    }

    /// Whether this address names `other` or, having no key, any instance of the same
    /// declaration (`--target app` matches `app["blue"]`; a deposed object belongs to its
    /// address). A module address matches everything in that module instance (and, without
    /// a key on its last step, in every instance of the call), nested modules included.
    pub fn matches(&self, other: &Address) -> bool {
        if self.is_module() {
            let n = self.module.len();
            if other.module.len() < n || other.module[..n - 1] != self.module[..n - 1] {
                return false;
            }
            let (mine, theirs) = (&self.module[n - 1], &other.module[n - 1]);
            return mine.name == theirs.name && (mine.key.is_none() || mine.key == theirs.key);
        }
        let other = other.current();
        let me = self.current();
        me == other || (me.key.is_none() && me == other.decl())
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.module.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "module.{}", m.name)?;
            write_key(f, m.key.as_ref())?;
        }
        if self.is_module() {
            return Ok(());
        }
        if !self.module.is_empty() {
            f.write_str(".")?;
        }
        f.write_str(self.kind.prefix())?;
        f.write_str(&self.name)?;
        write_key(f, self.key.as_ref())?;
        if self.deposed {
            f.write_str(DEPOSED)?;
        }
        Ok(())
    }
}

fn write_key(f: &mut fmt::Formatter<'_>, key: Option<&InstanceKey>) -> fmt::Result {
    match key {
        Some(k) => write!(f, "{k}"),
        None => Ok(()),
    }
}

impl FromStr for Address {
    type Err = AddressError;

    /// Parses what [`Address`]'s `Display` prints, plus `resource.NAME` and unquoted keys
    /// (`app[blue]`); an unquoted number is an index (`app[0]`), a quoted one a key
    /// (`app["0"]`).
    fn from_str(s: &str) -> Result<Self, AddressError> {
        let text = s.trim();
        let bad = |why: &str| {
            AddressError(format!(
                "`{text}` is not an address: {why} (addresses look like rg, app[\"blue\"], app[0], data.sub or action.restart)"
            ))
        };
        let (mut rest, deposed) = match text.strip_suffix(DEPOSED) {
            Some(r) => (r, true),
            None => (text, false),
        };
        let mut module = Vec::new();
        while let Some(after) = rest.strip_prefix("module.") {
            let (name, key, tail) = name_and_key(after).map_err(|w| bad(&w))?;
            module.push(ModuleStep { name, key });
            if tail.is_empty() && !deposed {
                // `module.app["orders"]`: a whole module instance.
                return Ok(Address::module_instance(module));
            }
            let Some(tail) = tail.strip_prefix('.') else {
                return Err(bad(
                    "a module path must be followed by `.` and what is in it, e.g. module.app.mi",
                ));
            };
            rest = tail;
        }
        let (kind, body) = [
            (DeclKind::Data, "data."),
            (DeclKind::Action, "action."),
            (DeclKind::Output, "output."),
            (DeclKind::Provider, "provider."),
            (DeclKind::Local, "local."),
            (DeclKind::Resource, "resource."),
        ]
        .into_iter()
        .find_map(|(k, p)| rest.strip_prefix(p).map(|b| (k, b)))
        .unwrap_or((DeclKind::Resource, rest));
        let (name, key, tail) = name_and_key(body).map_err(|w| bad(&w))?;
        if !tail.is_empty() {
            return Err(bad(&format!("unexpected `{tail}` after the name")));
        }
        Ok(Address {
            module,
            kind,
            name,
            key,
            deposed,
        })
    }
}

/// `name`, `name["key"]`, `name[0]` or `name[key]` at the start of `s`; returns the rest.
fn name_and_key(s: &str) -> Result<(String, Option<InstanceKey>, &str), String> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(s.len());
    let name = &s[..end];
    if !name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
    {
        return Err("a name starts with a letter or `_`".into());
    }
    let rest = &s[end..];
    if !rest.starts_with('[') {
        return Ok((name.to_string(), None, rest));
    }
    let (key, after) = parse_key(rest)?;
    Ok((name.to_string(), Some(key), after))
}

crate::serde_as_text!(Address);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "rg",
            "app[\"blue\"]",
            "data.sub",
            "data.x[\"k\"]",
            "action.restart",
            "output.url",
            "provider.kubernetes",
            "rg (deposed)",
            "app[\"a b]\"] (deposed)",
            "module.app[\"prod\"].mi",
            "module.net.module.sub[\"x\"].data.vnet",
            "app[0]",
            "app[12] (deposed)",
            "app[\"0\"]",
            "data.x[3]",
            "local.tags",
            "module.app[1].mi",
        ] {
            assert_eq!(s.parse::<Address>().unwrap().to_string(), s);
        }
        assert_eq!(
            "app[blue]".parse::<Address>().unwrap().to_string(),
            "app[\"blue\"]"
        );
        assert_eq!("resource.rg".parse::<Address>().unwrap().to_string(), "rg");
    }

    #[test]
    fn parts_are_typed() {
        let a: Address = "module.app[\"prod\"].data.x[\"k\"] (deposed)"
            .parse()
            .unwrap();
        assert_eq!(
            a.module,
            vec![ModuleStep {
                name: "app".into(),
                key: Some(InstanceKey::from("prod"))
            }]
        );
        assert_eq!(a.kind, DeclKind::Data);
        assert_eq!(a.name, "x");
        assert_eq!(a.key, Some(InstanceKey::from("k")));
        assert!(a.deposed);
        assert_eq!(a.decl_text(), "module.app[\"prod\"].data.x");
        assert_eq!(
            a.current().to_string(),
            "module.app[\"prod\"].data.x[\"k\"]"
        );
    }

    #[test]
    fn count_indexes_and_for_each_keys_are_different_instances() {
        let index: Address = "app[0]".parse().unwrap();
        let key: Address = "app[\"0\"]".parse().unwrap();
        assert_eq!(index.key, Some(InstanceKey::Int(0)));
        assert_eq!(key.key, Some(InstanceKey::from("0")));
        assert_ne!(index, key);
        assert_eq!(index.decl(), key.decl());
        // Files written before count existed quote every key: they read as for_each keys.
        let old: Address = serde_json::from_str(r#""app[\"blue\"]""#).unwrap();
        assert_eq!(old.key, Some(InstanceKey::from("blue")));
        assert_eq!(serde_json::to_string(&index).unwrap(), r#""app[0]""#);
        let back: Address = serde_json::from_str(r#""app[0]""#).unwrap();
        assert_eq!(back, index);
        assert_eq!(
            "local.tags".parse::<Address>().unwrap().kind,
            DeclKind::Local
        );
    }

    #[test]
    fn bad_addresses_say_what_is_expected() {
        for bad in [
            "1x",
            "a[\"x\"",
            "a[\"x\"]y",
            "module.app x",
            "module.app (deposed)",
            "data.",
            "",
            "a b",
            "app[01]",
        ] {
            let e = bad.parse::<Address>().unwrap_err().to_string();
            assert!(e.contains("is not an address"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_target_without_key_matches_every_instance_and_deposed_objects() {
        let t: Address = "app".parse().unwrap();
        for hit in ["app", "app[\"x\"]", "app[\"x\"] (deposed)"] {
            assert!(t.matches(&hit.parse().unwrap()), "{hit}");
        }
        assert!(!t.matches(&"data.app".parse().unwrap()));
        let one: Address = "app[\"x\"]".parse().unwrap();
        assert!(!one.matches(&"app[\"y\"]".parse().unwrap()));
        assert!(!one.matches(&"app".parse().unwrap()));
    }

    #[test]
    fn a_module_address_matches_everything_in_its_instances() {
        let one: Address = "module.app[\"a\"]".parse().unwrap();
        assert!(one.is_module());
        assert_eq!(one.to_string(), "module.app[\"a\"]");
        let all: Address = "module.app".parse().unwrap();
        assert_eq!(all.to_string(), "module.app");
        for hit in [
            "module.app[\"a\"].mi",
            "module.app[\"a\"].data.x[0]",
            "module.app[\"a\"].module.sub.rg (deposed)",
        ] {
            let a: Address = hit.parse().unwrap();
            assert!(one.matches(&a), "{hit}");
            assert!(all.matches(&a), "{hit}");
        }
        let other: Address = "module.app[\"b\"].mi".parse().unwrap();
        assert!(!one.matches(&other));
        assert!(all.matches(&other));
        for miss in ["mi", "module.apps.mi", "module.net.module.app.mi"] {
            assert!(!all.matches(&miss.parse().unwrap()), "{miss}");
        }
        let nested: Address = "module.net.module.sub[0]".parse().unwrap();
        assert!(nested.matches(&"module.net.module.sub[0].rg".parse().unwrap()));
        assert!(!nested.matches(&"module.net.module.sub[1].rg".parse().unwrap()));
    }

    #[test]
    fn serialises_as_its_text() {
        let a: Address = "app[\"x\"]".parse().unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), r#""app[\"x\"]""#);
        let back: Address = serde_json::from_str(r#""app[\"x\"]""#).unwrap();
        assert_eq!(back, a);
        assert_eq!(
            serde_json::to_string(&DeclKind::Resource).unwrap(),
            "\"managed\""
        );
    }
}
