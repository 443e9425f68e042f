//! Parsing a git module source: `git::<url>[//<subdir>][?ref=<ref>]`, and hiding the
//! credentials a URL may carry.
//!
//! A leaf: no I/O.

use std::fmt;

/// A parsed git module source.
///
/// Written `git::<url>[//<subdir>][?ref=<branch|tag|commit>]`, where `url` is any URL git
/// accepts: `https://host/org/repo.git`, `ssh://git@host/org/repo.git`,
/// `git@host:org/repo.git` or `file:///abs/path/repo`. As in Terraform, a URL whose
/// repository path ends in `.git` may be written without the `git::` prefix
/// (`https://host/org/repo.git//sub?ref=v1`); any other URL needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitSource {
    /// The repository URL handed to git (credentials included, so never print it: use
    /// [`GitSource::display_url`]).
    pub url: String,
    /// The directory inside the repository holding the module (`modules/x`); empty for the
    /// repository's root.
    pub subdir: String,
    /// The branch, tag or commit to check out; `None` for the remote's default branch.
    pub git_ref: Option<String>,
}

impl GitSource {
    /// Parses `source`. `Ok(None)` when it is not a git source at all (a registry address, a
    /// local path), an error when it is one but malformed.
    pub fn parse(source: &str) -> Result<Option<GitSource>, String> {
        let (rest, explicit) = match source.strip_prefix("git::") {
            Some(rest) => (rest, true),
            None => (source, false),
        };
        if rest.is_empty() {
            return Err(format!(
                "the git source `{}` has no URL; write git::<url>[//<subdir>][?ref=<branch, tag or commit>]",
                redact(source)
            ));
        }
        let (location, query) = match rest.split_once('?') {
            Some((l, q)) => (l, Some(q)),
            None => (rest, None),
        };
        let (url, subdir) = split_subdir(location);
        if !explicit && !looks_like_git_url(url) {
            return Ok(None);
        }
        if !has_scheme(url) && !is_scp_like(url) {
            return Err(format!(
                "`{}` is not a git URL; write git::https://host/org/repo.git, git::ssh://git@host/org/repo.git, git::git@host:org/repo.git or git::file:///absolute/path",
                redact(url)
            ));
        }
        let git_ref = match query {
            None => None,
            Some(q) => Some(parse_query(q, source)?),
        };
        let subdir = clean_subdir(subdir, source)?;
        Ok(Some(GitSource {
            url: url.to_string(),
            subdir,
            git_ref,
        }))
    }

    /// The URL with any password (or an `https` user name, which is often a token) replaced
    /// by `***`: the form every message and file shows.
    pub fn display_url(&self) -> String {
        redact(&self.url)
    }
}

impl fmt::Display for GitSource {
    /// The canonical source text, credentials hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "git::{}", self.display_url())?;
        if !self.subdir.is_empty() {
            write!(f, "//{}", self.subdir)?;
        }
        if let Some(r) = &self.git_ref {
            write!(f, "?ref={r}")?;
        }
        Ok(())
    }
}

/// `scheme://` with a scheme git knows.
fn has_scheme(url: &str) -> bool {
    [
        "https://",
        "http://",
        "ssh://",
        "git://",
        "file://",
        "git+ssh://",
        "ssh+git://",
    ]
    .iter()
    .any(|s| url.starts_with(s))
}

/// `user@host:path`, git's scp-like syntax (no scheme, a colon before any slash).
fn is_scp_like(url: &str) -> bool {
    if url.contains("://") {
        return false;
    }
    match (url.find(':'), url.find('/')) {
        (Some(colon), slash) => {
            colon > 0 && slash.is_none_or(|s| colon < s) && url[..colon].contains('@')
        }
        (None, _) => false,
    }
}

/// A URL written without `git::` that is still a git source: its path ends in `.git`.
fn looks_like_git_url(url: &str) -> bool {
    (has_scheme(url) || is_scp_like(url)) && url.trim_end_matches('/').ends_with(".git")
}

/// Splits `url//subdir`. The `//` after a scheme (`https://`, `file:///`) is not a
/// separator.
fn split_subdir(location: &str) -> (&str, &str) {
    let start = match location.find("://") {
        // `file:///abs`: the path's own leading slash belongs to the URL too.
        Some(i) => {
            let after = i + 3;
            if location[after..].starts_with('/') {
                after + 1
            } else {
                after
            }
        }
        None => 0,
    };
    match location[start..].find("//") {
        Some(i) => (&location[..start + i], &location[start + i + 2..]),
        None => (location, ""),
    }
}

/// The `?ref=` query: the only parameter plinth takes.
fn parse_query(query: &str, source: &str) -> Result<String, String> {
    let mut git_ref = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("ref", value)) if !value.is_empty() => {
                if git_ref.is_some() {
                    return Err(format!(
                        "the git source `{}` gives ?ref= twice; keep one",
                        redact(source)
                    ));
                }
                if value.starts_with('-')
                    || value.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err(format!(
                        "the git source `{}` has the ref `{}`, which is not a branch, tag or commit name",
                        redact(source),
                        value.escape_debug()
                    ));
                }
                git_ref = Some(value.to_string());
            }
            Some(("ref", _)) => {
                return Err(format!(
                    "the git source `{}` has an empty ?ref=; name a branch, tag or commit (e.g. ?ref=v1.2.0), or drop ?ref= for the default branch",
                    redact(source)
                ));
            }
            _ => {
                let key = pair.split('=').next().unwrap_or(pair);
                return Err(format!(
                    "the git source `{}` has the query parameter `{}`; plinth takes only ?ref=<branch, tag or commit>",
                    redact(source),
                    key.escape_debug()
                ));
            }
        }
    }
    git_ref.ok_or_else(|| {
        format!(
            "the git source `{}` has an empty query; write ?ref=<branch, tag or commit>, or drop the `?`",
            redact(source)
        )
    })
}

/// The subdirectory, without leading or trailing slashes; never `..` or absolute.
fn clean_subdir(subdir: &str, source: &str) -> Result<String, String> {
    let parts: Vec<&str> = subdir
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(format!(
            "the subdirectory `{}` of the git source `{}` leaves the repository; name a directory inside it, e.g. //modules/app",
            subdir.escape_debug(),
            redact(source)
        ));
    }
    if parts
        .iter()
        .any(|p| p.contains('\\') || p.chars().any(char::is_control))
    {
        return Err(format!(
            "the subdirectory `{}` of the git source `{}` is not a path; write directories separated by /",
            subdir.escape_debug(),
            redact(source)
        ));
    }
    Ok(parts.join("/"))
}

/// Hides credentials in a URL, or in any text holding one (git's messages quote the URL):
/// `https://user:token@host` becomes `https://user:***@host`, and an `http(s)` user name
/// alone (`https://token@host`, how tokens are often given) becomes `***`. An ssh user name
/// (`ssh://git@host`, `git@host:org/repo`) is not a secret and stays.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let scheme_start = rest[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'))
            .map_or(0, |j| j + 1);
        let scheme = &rest[scheme_start..i];
        let after = i + 3;
        out.push_str(&rest[..after]);
        let tail = &rest[after..];
        let authority_end = tail
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '\'' || c == '"'
            })
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                let web =
                    scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http");
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push_str(":***");
                    }
                    None if web => out.push_str("***"),
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(s: &str) -> GitSource {
        GitSource::parse(s).unwrap().unwrap()
    }

    #[test]
    fn https_with_subdir_and_ref() {
        let s = git("git::https://host/org/repo.git//modules/app?ref=v1.2.0");
        assert_eq!(s.url, "https://host/org/repo.git");
        assert_eq!(s.subdir, "modules/app");
        assert_eq!(s.git_ref.as_deref(), Some("v1.2.0"));
        assert_eq!(
            s.to_string(),
            "git::https://host/org/repo.git//modules/app?ref=v1.2.0"
        );
    }

    #[test]
    fn file_urls_keep_their_slashes() {
        let s = git("git::file:///tmp/repos/mod");
        assert_eq!(s.url, "file:///tmp/repos/mod");
        assert_eq!(s.subdir, "");
        assert_eq!(s.git_ref, None);
        let s = git("git::file:///tmp/repos/mod//a/b/?ref=main");
        assert_eq!(s.url, "file:///tmp/repos/mod");
        assert_eq!(s.subdir, "a/b");
    }

    #[test]
    fn scp_like_and_ssh() {
        let s = git("git::git@github.com:org/repo.git//x?ref=abc1234");
        assert_eq!(s.url, "git@github.com:org/repo.git");
        assert_eq!(s.subdir, "x");
        let s = git("git::ssh://git@host:2222/org/repo.git");
        assert_eq!(s.url, "ssh://git@host:2222/org/repo.git");
        assert_eq!(s.display_url(), "ssh://git@host:2222/org/repo.git");
    }

    #[test]
    fn without_the_prefix_only_dot_git_urls() {
        assert_eq!(git("https://host/org/repo.git//m?ref=v1").subdir, "m");
        assert_eq!(git("git@host:org/repo.git").url, "git@host:org/repo.git");
        assert_eq!(GitSource::parse("https://host/org/repo//m").unwrap(), None);
        assert_eq!(GitSource::parse("hashicorp/consul/aws").unwrap(), None);
        assert_eq!(GitSource::parse("./modules/x").unwrap(), None);
    }

    #[test]
    fn malformed_sources_say_what_was_expected() {
        let e = GitSource::parse("git::").unwrap_err();
        assert!(e.contains("git::<url>"), "{e}");
        let e = GitSource::parse("git::./local").unwrap_err();
        assert!(e.contains("is not a git URL"), "{e}");
        let e = GitSource::parse("git::https://h/r.git?ref=").unwrap_err();
        assert!(e.contains("empty ?ref="), "{e}");
        let e = GitSource::parse("git::https://h/r.git?depth=1").unwrap_err();
        assert!(e.contains("`depth`") && e.contains("only ?ref="), "{e}");
        let e = GitSource::parse("git::https://h/r.git//../x").unwrap_err();
        assert!(e.contains("leaves the repository"), "{e}");
        let e = GitSource::parse("git::https://h/r.git?ref=--upload-pack=x").unwrap_err();
        assert!(e.contains("not a branch, tag or commit"), "{e}");
        let e = GitSource::parse("git::https://h/r.git?ref=a&ref=b").unwrap_err();
        assert!(e.contains("twice"), "{e}");
    }

    #[test]
    fn credentials_are_hidden() {
        assert_eq!(
            redact("https://user:s3cret@host/org/r.git"),
            "https://user:***@host/org/r.git"
        );
        assert_eq!(
            redact("https://ghp_token@host/r.git"),
            "https://***@host/r.git"
        );
        assert_eq!(redact("ssh://git@host/r.git"), "ssh://git@host/r.git");
        assert_eq!(
            redact("fatal: unable to access 'https://u:p@h/r.git/': 403"),
            "fatal: unable to access 'https://u:***@h/r.git/': 403"
        );
        let e = GitSource::parse("git::https://u:s3cret@h/r.git?depth=1").unwrap_err();
        assert!(!e.contains("s3cret"), "{e}");
        let s = git("git::https://u:s3cret@h/r.git?ref=v1");
        assert_eq!(s.to_string(), "git::https://u:***@h/r.git?ref=v1");
    }
}
