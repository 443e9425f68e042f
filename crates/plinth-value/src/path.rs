//! Attribute paths such as `properties.agentPoolProfiles[0].count`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One step of a [`Path`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathSeg {
    /// A map key, written `.key`, or `["key"]` when it is not a plain identifier.
    Key(String),
    /// A list index counted from 0, written `[0]`.
    Index(usize),
}

/// A path into a [`crate::Value`]. The empty path is the value itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(Vec<PathSeg>);

impl Path {
    /// The empty path: the value itself.
    pub fn root() -> Self {
        Path(Vec::new())
    }

    /// A path of the given steps, outermost first.
    pub fn from_segments(segs: Vec<PathSeg>) -> Self {
        Path(segs)
    }

    /// The steps of this path, outermost first; empty for the root.
    pub fn segments(&self) -> &[PathSeg] {
        &self.0
    }

    /// True for the root path (same as [`Path::is_empty`]).
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of steps; 0 for the root.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the path has no steps, i.e. it is the root.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// This path with a key appended.
    pub fn key(&self, k: &str) -> Path {
        let mut p = self.clone();
        p.0.push(PathSeg::Key(k.to_string()));
        p
    }

    /// This path with an index appended.
    pub fn index(&self, i: usize) -> Path {
        let mut p = self.clone();
        p.0.push(PathSeg::Index(i));
        p
    }

    /// Appends a step in place (see [`Path::key`] and [`Path::index`] for copies).
    pub fn push(&mut self, seg: PathSeg) {
        self.0.push(seg);
    }

    /// The last segment and the parent path.
    pub fn split_last(&self) -> Option<(&PathSeg, Path)> {
        let (last, rest) = self.0.split_last()?;
        Some((last, Path(rest.to_vec())))
    }

    /// True when `self` is `other` or lies inside it.
    pub fn starts_with(&self, other: &Path) -> bool {
        self.0.starts_with(&other.0)
    }

    /// True when one path lies inside the other (or they are equal).
    pub fn overlaps(&self, other: &Path) -> bool {
        self.starts_with(other) || other.starts_with(self)
    }
}

pub(crate) fn render_key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !k.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        k.to_string()
    } else {
        serde_json::Value::String(k.to_string()).to_string()
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSeg::Key(k) => {
                    let r = render_key(k);
                    if r.starts_with('"') {
                        write!(f, "[{r}]")?;
                    } else {
                        if i > 0 {
                            f.write_str(".")?;
                        }
                        f.write_str(&r)?;
                    }
                }
                PathSeg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Error parsing a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathParseError(pub String);

impl fmt::Display for PathParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PathParseError {}

impl FromStr for Path {
    type Err = PathParseError;

    /// Parses `a.b[0]["odd key"].c`. The empty string is the root path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut segs = Vec::new();
        let bytes = s.as_bytes();
        let mut i = 0;
        let mut expect_key = true;
        while i < bytes.len() {
            match bytes[i] {
                b'.' => {
                    if expect_key {
                        return Err(PathParseError(format!("empty segment in path `{s}`")));
                    }
                    expect_key = true;
                    i += 1;
                }
                b'[' => {
                    let end = find_close(s, i)
                        .ok_or_else(|| PathParseError(format!("unclosed `[` in path `{s}`")))?;
                    let inner = &s[i + 1..end];
                    if inner.starts_with('"') {
                        let k: String = serde_json::from_str(inner)
                            .map_err(|_| PathParseError(format!("bad quoted key in path `{s}`")))?;
                        segs.push(PathSeg::Key(k));
                    } else {
                        let n = inner.trim().parse::<usize>().map_err(|_| {
                            PathParseError(format!("`[{inner}]` in path `{s}` is not an index"))
                        })?;
                        segs.push(PathSeg::Index(n));
                    }
                    expect_key = false;
                    i = end + 1;
                }
                _ => {
                    let start = i;
                    while i < bytes.len() && bytes[i] != b'.' && bytes[i] != b'[' {
                        i += 1;
                    }
                    segs.push(PathSeg::Key(s[start..i].to_string()));
                    expect_key = false;
                }
            }
        }
        if expect_key && !segs.is_empty() {
            return Err(PathParseError(format!("path `{s}` ends with `.`")));
        }
        Ok(Path(segs))
    }
}

fn find_close(s: &str, open: usize) -> Option<usize> {
    let mut in_str = false;
    let mut escaped = false;
    for (off, c) in s[open + 1..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_str => escaped = true,
            '"' => in_str = !in_str,
            ']' if !in_str => return Some(open + 1 + off),
            _ => {}
        }
    }
    None
}

impl Serialize for Path {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Path {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for s in [
            "",
            "a",
            "a.b",
            "a[0].b",
            "properties.agentPoolProfiles[0].count",
            "a[\"x.y\"].z",
        ] {
            let p: Path = s.parse().unwrap();
            assert_eq!(p.to_string(), s);
        }
    }

    #[test]
    fn rejects_malformed() {
        assert!("a..b".parse::<Path>().is_err());
        assert!("a[".parse::<Path>().is_err());
        assert!("a[x]".parse::<Path>().is_err());
        assert!("a.".parse::<Path>().is_err());
    }

    #[test]
    fn prefixes() {
        let a: Path = "a.b".parse().unwrap();
        let b: Path = "a.b.c".parse().unwrap();
        assert!(b.starts_with(&a));
        assert!(a.overlaps(&b));
        assert!(!a.starts_with(&b));
    }
}
