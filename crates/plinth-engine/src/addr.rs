//! Addresses: `rg`, `app["blue"]`, `data.sub`, `action.restart`.

use std::fmt;
use std::str::FromStr;

use plinth_config::Mode;
use plinth_plan::Kind;

/// The address of one instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    pub kind: AddrKind,
    pub name: String,
    /// The `for_each` key, if the declaration has one.
    pub key: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddrKind {
    Managed,
    Data,
    Action,
}

impl AddrKind {
    pub fn plan_kind(self) -> Kind {
        match self {
            AddrKind::Managed => Kind::Managed,
            AddrKind::Data => Kind::Data,
            AddrKind::Action => Kind::Action,
        }
    }

    pub fn from_mode(m: Mode) -> Self {
        match m {
            Mode::Managed => AddrKind::Managed,
            Mode::Data => AddrKind::Data,
        }
    }
}

impl Address {
    pub fn new(kind: AddrKind, name: impl Into<String>, key: Option<String>) -> Self {
        Address {
            kind,
            name: name.into(),
            key,
        }
    }

    /// The address of the declaration (no instance key).
    pub fn decl(&self) -> Address {
        Address {
            key: None,
            ..self.clone()
        }
    }

    /// `name` / `data.name` / `action.name` (without key).
    pub fn decl_text(&self) -> String {
        self.decl().to_string()
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            AddrKind::Managed => {}
            AddrKind::Data => f.write_str("data.")?,
            AddrKind::Action => f.write_str("action.")?,
        }
        f.write_str(&self.name)?;
        if let Some(k) = &self.key {
            write!(f, "[{}]", serde_json::Value::String(k.clone()))?;
        }
        Ok(())
    }
}

impl FromStr for Address {
    type Err = String;

    /// Parses `name`, `name["key"]`, `data.name`, `action.name`.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (kind, rest) = if let Some(r) = s.strip_prefix("data.") {
            (AddrKind::Data, r)
        } else if let Some(r) = s.strip_prefix("action.") {
            (AddrKind::Action, r)
        } else {
            (AddrKind::Managed, s)
        };
        let (name, key) = match rest.find('[') {
            Some(i) => {
                let inner = rest[i..]
                    .strip_prefix('[')
                    .and_then(|x| x.strip_suffix(']'))
                    .ok_or_else(|| format!("`{s}` is not an address: expected name[\"key\"]"))?;
                let key: String = if inner.starts_with('"') {
                    serde_json::from_str(inner)
                        .map_err(|_| format!("`{s}` is not an address: bad quoted key"))?
                } else {
                    inner.to_string()
                };
                (&rest[..i], Some(key))
            }
            None => (rest, None),
        };
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(format!(
                "`{s}` is not an address: expected e.g. rg, app[\"blue\"] or data.sub"
            ));
        }
        Ok(Address {
            kind,
            name: name.to_string(),
            key,
        })
    }
}

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
        ] {
            assert_eq!(s.parse::<Address>().unwrap().to_string(), s);
        }
        assert_eq!(
            "app[blue]".parse::<Address>().unwrap().to_string(),
            "app[\"blue\"]"
        );
        assert!("1x".parse::<Address>().is_err());
        assert!("a[\"x\"".parse::<Address>().is_err());
    }
}
