//! Instance keys: which instance of a declaration an address names. A `count` declaration's
//! instances are numbered (`app[0]`), a `for_each` declaration's are named (`app["blue"]`);
//! Terraform users know the two apart, and so does plinth.

use std::fmt;

/// The key of one instance: `[0]` for `count`, `["blue"]` for `for_each`.
///
/// Numbered keys order before named ones, and among themselves by number, so `app[2]` comes
/// before `app[10]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    /// A `count` instance's index: `app[0]`.
    Int(u64),
    /// A `for_each` instance's key: `app["blue"]`.
    Str(String),
}

impl InstanceKey {
    /// The key as a string, without brackets or quotes: `0`, `blue`.
    pub fn text(&self) -> String {
        match self {
            InstanceKey::Int(i) => i.to_string(),
            InstanceKey::Str(s) => s.clone(),
        }
    }

    /// The `for_each` key, or `None` for a `count` index.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            InstanceKey::Str(s) => Some(s),
            InstanceKey::Int(_) => None,
        }
    }

    /// The `count` index, or `None` for a `for_each` key.
    pub fn as_index(&self) -> Option<u64> {
        match self {
            InstanceKey::Int(i) => Some(*i),
            InstanceKey::Str(_) => None,
        }
    }

    /// The meta-argument that makes keys of this kind: `count` or `for_each`.
    pub fn meta_argument(&self) -> &'static str {
        match self {
            InstanceKey::Int(_) => "count",
            InstanceKey::Str(_) => "for_each",
        }
    }
}

impl From<&str> for InstanceKey {
    fn from(s: &str) -> Self {
        InstanceKey::Str(s.to_string())
    }
}

impl From<String> for InstanceKey {
    fn from(s: String) -> Self {
        InstanceKey::Str(s)
    }
}

impl From<u64> for InstanceKey {
    fn from(i: u64) -> Self {
        InstanceKey::Int(i)
    }
}

impl fmt::Display for InstanceKey {
    /// `[0]` or `["blue"]` (the key quoted as a JSON string, escapes and all).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(f, "[{}]", serde_json::Value::String(s.clone())),
        }
    }
}

/// The key in brackets at the start of `s` (`s` starts with `[`): `[0]` is an index,
/// `["x"]` a quoted key, and `[x]` an unquoted key (as users type them on the command line).
/// Returns the key and the rest after `]`.
pub(crate) fn parse_key(s: &str) -> Result<(InstanceKey, &str), String> {
    let inner = s
        .strip_prefix('[')
        .ok_or("expected name[\"key\"] or name[0]")?;
    let (key, after) = if inner.starts_with('"') {
        // A JSON string: find its closing quote, honouring escapes.
        let mut escaped = false;
        let close = inner
            .char_indices()
            .skip(1)
            .find(|&(_, c)| {
                let done = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                done
            })
            .map(|(i, _)| i)
            .ok_or("an unterminated quoted key")?;
        let key: String =
            serde_json::from_str(&inner[..=close]).map_err(|_| "a badly quoted key".to_string())?;
        (InstanceKey::Str(key), &inner[close + 1..])
    } else {
        let close = inner.find(']').ok_or("expected name[\"key\"] or name[0]")?;
        let text = &inner[..close];
        let key = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            let n = text
                .parse::<u64>()
                .map_err(|_| format!("the index {text} is too large"))?;
            if text.len() > 1 && text.starts_with('0') {
                return Err(format!(
                    "an index is written without leading zeros ([{n}]); quote a key that is a string ([\"{text}\"])"
                ));
            }
            InstanceKey::Int(n)
        } else {
            InstanceKey::Str(text.to_string())
        };
        (key, &inner[close..])
    };
    let after = after
        .strip_prefix(']')
        .ok_or("expected name[\"key\"] or name[0]")?;
    Ok((key, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_indexes_bare_and_keys_quoted() {
        assert_eq!(InstanceKey::Int(0).to_string(), "[0]");
        assert_eq!(InstanceKey::from("0").to_string(), "[\"0\"]");
        assert_eq!(InstanceKey::from("a\"b").to_string(), r#"["a\"b"]"#);
    }

    #[test]
    fn parses_both_kinds() {
        assert_eq!(parse_key("[12]").unwrap(), (InstanceKey::Int(12), ""));
        assert_eq!(
            parse_key("[\"12\"].x").unwrap(),
            (InstanceKey::from("12"), ".x")
        );
        assert_eq!(
            parse_key("[blue]").unwrap(),
            (InstanceKey::from("blue"), "")
        );
        assert!(parse_key("[007]").unwrap_err().contains("leading zeros"));
        assert!(
            parse_key("[99999999999999999999999]")
                .unwrap_err()
                .contains("too large")
        );
        assert!(parse_key("[\"x\"").is_err());
        assert!(parse_key("[x").is_err());
    }

    #[test]
    fn indexes_order_by_number_before_keys() {
        let mut keys = vec![
            InstanceKey::from("a"),
            InstanceKey::Int(10),
            InstanceKey::Int(2),
        ];
        keys.sort();
        assert_eq!(
            keys,
            [
                InstanceKey::Int(2),
                InstanceKey::Int(10),
                InstanceKey::from("a")
            ]
        );
    }

    #[test]
    fn says_which_meta_argument_makes_it() {
        assert_eq!(InstanceKey::Int(0).meta_argument(), "count");
        assert_eq!(InstanceKey::from("x").meta_argument(), "for_each");
        assert_eq!(InstanceKey::Int(3).as_index(), Some(3));
        assert_eq!(InstanceKey::from("x").as_str(), Some("x"));
        assert_eq!(InstanceKey::Int(3).text(), "3");
    }
}
