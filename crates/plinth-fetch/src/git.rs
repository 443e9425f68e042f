//! Fetching one commit of a git repository into the module cache with the `git`
//! command-line tool (no shell; `GIT_TERMINAL_PROMPT=0`, so git never waits for a
//! password).
//!
//! A fetch works in a temporary directory inside the cache and renames the finished
//! checkout into place, so a failed fetch leaves the cache as it was. Uses `source`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::source::{GitSource, redact};

/// What to check out.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Want<'a> {
    /// The source's `?ref=` (or the default branch), resolved now.
    Ref,
    /// Exactly this commit (from `plinth.lock`).
    Commit(&'a str),
}

/// The cache directory of `url` at `commit`: a stable hash of both, so two sources naming
/// the same repository and commit share one checkout.
pub(crate) fn cache_dir(modules_dir: &Path, source: &GitSource, commit: &str) -> PathBuf {
    let mut h = Sha256::new();
    h.update(source.display_url().as_bytes());
    h.update(b"\n");
    h.update(commit.as_bytes());
    let hex: String = h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    modules_dir.join(hex)
}

/// True for a full commit id.
pub(crate) fn is_full_commit(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A commit checked out in the cache.
#[derive(Debug)]
pub(crate) struct Checkout {
    /// The full commit id.
    pub commit: String,
    /// True when this call created the checkout; false when the cache held it.
    pub fetched: bool,
}

/// Fetches `want` of `source` into `modules_dir` (unless it is there already); the commit
/// is checked out in [`cache_dir`].
pub(crate) fn fetch(
    source: &GitSource,
    want: Want<'_>,
    modules_dir: &Path,
) -> Result<Checkout, String> {
    let done = |commit: String, fetched| Ok(Checkout { commit, fetched });
    if let Want::Commit(commit) = want
        && cache_dir(modules_dir, source, commit).is_dir()
    {
        return done(commit.to_string(), false);
    }
    {
        // Private, like the state directory the local backend creates in `.plinth`.
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(modules_dir)
            .map_err(|e| format!("cannot create {}: {e}", modules_dir.display()))?;
    }
    // Removed when dropped: on every error below, and after a successful rename (then empty).
    let tmp = tempfile::Builder::new()
        .prefix(".fetch-")
        .tempdir_in(modules_dir)
        .map_err(|e| {
            format!(
                "cannot create a directory in {}: {e}",
                modules_dir.display()
            )
        })?;
    let work = tmp.path().join("checkout");
    let git = Git { source };
    git.run(
        tmp.path(),
        ["init", "-q", "--initial-branch=plinth", "checkout"],
    )?;
    let commit = git.fetch_commit(&work, want)?;
    let dir = cache_dir(modules_dir, source, &commit);
    if dir.is_dir() {
        return done(commit, false);
    }
    git.run(
        &work,
        [
            "-c",
            "advice.detachedHead=false",
            "checkout",
            "-q",
            "--detach",
            &commit,
        ],
    )?;
    std::fs::remove_dir_all(work.join(".git"))
        .map_err(|e| format!("cannot tidy the checkout in {}: {e}", work.display()))?;
    match std::fs::rename(&work, &dir) {
        Ok(()) => done(commit, true),
        // Another plinth finished the same checkout first.
        Err(_) if dir.is_dir() => done(commit, false),
        Err(e) => Err(format!(
            "cannot move the checkout of {source} into {}: {e}",
            dir.display()
        )),
    }
}

/// Runs git for one source; errors name the source and quote git's own first lines.
struct Git<'a> {
    source: &'a GitSource,
}

impl Git<'_> {
    /// Fetches what `want` names into `work`'s repository; the commit it is.
    fn fetch_commit(&self, work: &Path, want: Want<'_>) -> Result<String, String> {
        let url = self.source.url.as_str();
        let (name, refspec) = match want {
            Want::Commit(c) => (format!("commit {c}"), c),
            Want::Ref => match &self.source.git_ref {
                Some(r) => (format!("ref `{r}`"), r.as_str()),
                None => ("default branch".to_string(), "HEAD"),
            },
        };
        // Shallow: a module needs one commit, not its history.
        let shallow = self.run(work, ["fetch", "-q", "--depth", "1", "--", url, refspec]);
        let direct = shallow.is_ok();
        if let Err(first) = shallow {
            // A short commit id cannot be fetched by name (nor, from some servers, a full
            // one): fetch every branch and tag, then look it up. Any other ref that failed
            // is the error to report.
            let maybe_commit =
                (4..=64).contains(&refspec.len()) && refspec.bytes().all(|b| b.is_ascii_hexdigit());
            if !maybe_commit {
                return Err(self.fetch_failed(&name, &first));
            }
            self.run(
                work,
                [
                    "fetch",
                    "-q",
                    "--tags",
                    "--",
                    url,
                    "+refs/heads/*:refs/remotes/origin/*",
                ],
            )
            .map_err(|e| self.fetch_failed(&name, &e))?;
        }
        let rev = if direct {
            "FETCH_HEAD^{commit}".to_string()
        } else {
            format!("{refspec}^{{commit}}")
        };
        let commit = self
            .run(work, ["rev-parse", "-q", "--verify", "--end-of-options", &rev])
            .map_err(|_| {
                format!(
                    "cannot fetch {}: it has no {name}; check the ref (a branch, a tag or a commit of the repository) in ?ref=",
                    self.source
                )
            })?;
        let commit = commit.trim().to_string();
        if let Want::Commit(c) = want
            && !commit.starts_with(&c.to_ascii_lowercase())
        {
            return Err(format!(
                "cannot fetch {}: it has no commit {c}; plinth.lock names it, so the repository may have been rewritten: run `plinth init --upgrade` to lock the ref's current commit",
                self.source
            ));
        }
        Ok(commit)
    }

    fn fetch_failed(&self, name: &str, git_says: &str) -> String {
        let help = if git_says.contains("couldn't find remote ref")
            || git_says.contains("not our ref")
        {
            "check the ref in ?ref=: it must be a branch, a tag or a commit of the repository"
        } else {
            "check the URL and your access to the repository (plinth runs git without prompting for a password: use an ssh key or a credential helper); the module cache was left as it was"
        };
        format!(
            "cannot fetch the {name} of {}: git says: {git_says} ({help})",
            self.source
        )
    }

    /// Runs `git ARGS` in `dir`; stdout, or git's first lines of stderr (credentials hidden).
    fn run<I, S>(&self, dir: &Path, args: I) -> Result<String, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            // plinth may itself run inside a git hook: never let the caller's repository in.
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_OBJECT_DIRECTORY")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    format!(
                        "cannot fetch {}: the `git` command is not installed (or not on PATH); plinth fetches git module sources with it: install git, or use a local path as the source",
                        self.source
                    )
                } else {
                    format!("cannot fetch {}: cannot run git: {e}", self.source)
                }
            })?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
            .take(4)
            .collect();
        let says = if lines.is_empty() {
            format!("git exited with {}", output.status)
        } else {
            lines.join(" / ")
        };
        Err(hide(&says, &self.source.url))
    }
}

/// `text` with the URL's credentials hidden, however git quoted them.
fn hide(text: &str, url: &str) -> String {
    let mut out = redact(text);
    if let Some((_, authority)) = url.split_once("://") {
        let authority = authority.split('/').next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            let secret = userinfo.split_once(':').map_or(userinfo, |(_, p)| p);
            if secret.len() >= 4 {
                out = out.replace(secret, "***");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hide_catches_a_secret_git_printed_alone() {
        let said = hide(
            "fatal: Authentication failed for token s3cret-x",
            "https://u:s3cret-x@h/r.git",
        );
        assert!(!said.contains("s3cret"), "{said}");
    }

    #[test]
    fn cache_dirs_are_stable_and_distinct() {
        let s = GitSource::parse("git::file:///r").unwrap().unwrap();
        let t = GitSource::parse("git::file:///q").unwrap().unwrap();
        let m = Path::new("/m");
        assert_eq!(cache_dir(m, &s, "a"), cache_dir(m, &s, "a"));
        assert_ne!(cache_dir(m, &s, "a"), cache_dir(m, &s, "b"));
        assert_ne!(cache_dir(m, &s, "a"), cache_dir(m, &t, "a"));
    }
}
