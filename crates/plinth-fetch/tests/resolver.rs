//! The resolver against real git repositories in temporary directories (`file://` URLs: no
//! network).

use std::path::{Path, PathBuf};
use std::process::Command;

use plinth_fetch::{GitResolver, LOCK_FILE, Lock, LockWrite, Mode};

/// A git repository with a `main` branch, committed to with `commit`.
struct Repo {
    dir: PathBuf,
}

impl Repo {
    fn new(root: &Path) -> Repo {
        let dir = root.join("repo");
        std::fs::create_dir_all(&dir).unwrap();
        let repo = Repo { dir };
        repo.git(&["init", "-q", "--initial-branch=main"]);
        repo
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Writes `path` = `text` and commits; the commit id.
    fn commit(&self, path: &str, text: &str) -> String {
        let file = self.dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", path]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn url(&self) -> String {
        format!("file://{}", self.dir.display())
    }
}

struct Setup {
    _tmp: tempfile::TempDir,
    repo: Repo,
    config: PathBuf,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo::new(tmp.path());
    let config = tmp.path().join("config");
    std::fs::create_dir_all(&config).unwrap();
    Setup {
        _tmp: tmp,
        repo,
        config,
    }
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

fn resolver(s: &Setup, mode: Mode) -> GitResolver {
    GitResolver::new(&s.config, mode).unwrap()
}

fn modules_dir(s: &Setup) -> PathBuf {
    s.config.join(".plinth/modules")
}

#[test]
fn a_branch_is_fetched_locked_and_then_kept_until_upgrade() {
    let s = setup();
    let first = s.repo.commit("mod/main.toml", "v = 1");
    let source = format!("git::{}//mod?ref=main", s.repo.url());

    let r = resolver(&s, Mode::Init { upgrade: false });
    let dir = r.resolve(&source, &s.config).unwrap();
    assert_eq!(read(&dir, "main.toml"), "v = 1");
    assert!(
        !dir.parent().unwrap().join(".git").exists(),
        "a plain checkout"
    );
    let pinned = r.pinned_files();
    assert_eq!(pinned.len(), 1);
    assert_eq!(pinned[0].0, LOCK_FILE);
    let outcome = r.finish().unwrap();
    assert_eq!(outcome.lock, LockWrite::Written);
    assert!(outcome.resolved[0].fetched && outcome.resolved[0].new);
    let lock = Lock::parse(&read(&s.config, LOCK_FILE)).unwrap();
    let entry = lock.entries.values().next().unwrap();
    assert_eq!(
        (entry.commit.as_str(), entry.subdir.as_str()),
        (first.as_str(), "mod")
    );
    assert_eq!(pinned[0].1, read(&s.config, LOCK_FILE));

    // A second run: nothing fetched, nothing written.
    let r = resolver(&s, Mode::Init { upgrade: false });
    assert_eq!(r.resolve(&source, &s.config).unwrap(), dir);
    let outcome = r.finish().unwrap();
    assert_eq!(outcome.lock, LockWrite::Unchanged);
    assert!(!outcome.resolved[0].fetched);

    // A new commit on the branch is not used by an ordinary run...
    let second = s.repo.commit("mod/main.toml", "v = 2");
    let r = resolver(&s, Mode::Use);
    assert_eq!(
        read(&r.resolve(&source, &s.config).unwrap(), "main.toml"),
        "v = 1"
    );
    assert_eq!(r.finish().unwrap().lock, LockWrite::Unchanged);

    // ...until the upgrade.
    let r = resolver(&s, Mode::Init { upgrade: true });
    let upgraded = r.resolve(&source, &s.config).unwrap();
    assert_eq!(read(&upgraded, "main.toml"), "v = 2");
    let outcome = r.finish().unwrap();
    assert_eq!(outcome.lock, LockWrite::Written);
    assert_eq!(
        outcome.resolved[0].previous.as_deref(),
        Some(first.as_str())
    );
    assert_eq!(outcome.resolved[0].commit, second);
    // The old checkout stays in the cache.
    assert_eq!(read(&dir, "main.toml"), "v = 1");
}

#[test]
fn tags_short_commits_and_the_default_branch() {
    let s = setup();
    let first = s.repo.commit("main.toml", "v = 1");
    s.repo.git(&["tag", "-a", "v1.0.0", "-m", "release"]);
    s.repo.commit("main.toml", "v = 2");
    let url = s.repo.url();
    let r = resolver(&s, Mode::Init { upgrade: false });
    let tagged = r
        .resolve(&format!("git::{url}?ref=v1.0.0"), &s.config)
        .unwrap();
    assert_eq!(read(&tagged, "main.toml"), "v = 1");
    let short = r
        .resolve(&format!("git::{url}?ref={}", &first[..8]), &s.config)
        .unwrap();
    assert_eq!(short, tagged, "one checkout per commit");
    let head = r.resolve(&format!("git::{url}"), &s.config).unwrap();
    assert_eq!(read(&head, "main.toml"), "v = 2");
    let outcome = r.finish().unwrap();
    assert_eq!(outcome.resolved.len(), 3);
    assert!(
        outcome
            .resolved
            .iter()
            .filter(|r| r.commit == first)
            .count()
            == 2
    );
}

#[test]
fn a_lock_naming_a_commit_the_cache_lacks_fetches_it() {
    let s = setup();
    s.repo.commit("main.toml", "v = 1");
    let source = format!("git::{}?ref=main", s.repo.url());
    let r = resolver(&s, Mode::Init { upgrade: false });
    r.resolve(&source, &s.config).unwrap();
    r.finish().unwrap();
    std::fs::remove_dir_all(modules_dir(&s)).unwrap();
    s.repo.commit("main.toml", "v = 2");

    let r = resolver(&s, Mode::Use);
    let dir = r.resolve(&source, &s.config).unwrap();
    assert_eq!(
        read(&dir, "main.toml"),
        "v = 1",
        "the locked commit, not the branch's"
    );
    let outcome = r.finish().unwrap();
    assert!(outcome.resolved[0].fetched);
    assert_eq!(outcome.lock, LockWrite::Unchanged);
}

#[test]
fn an_ordinary_run_adds_new_sources_and_keeps_the_others() {
    let s = setup();
    s.repo.commit("a/main.toml", "");
    s.repo.commit("b/main.toml", "");
    let url = s.repo.url();
    let r = resolver(&s, Mode::Use);
    assert!(r.pinned_files().is_empty(), "no git source, no lock");
    r.resolve(&format!("git::{url}//a"), &s.config).unwrap();
    assert_eq!(r.finish().unwrap().lock, LockWrite::Written);

    let r = resolver(&s, Mode::Use);
    r.resolve(&format!("git::{url}//b"), &s.config).unwrap();
    r.finish().unwrap();
    let lock = Lock::parse(&read(&s.config, LOCK_FILE)).unwrap();
    assert_eq!(lock.entries.len(), 2);

    // init keeps only what the configuration uses.
    let r = resolver(&s, Mode::Init { upgrade: false });
    r.resolve(&format!("git::{url}//b"), &s.config).unwrap();
    r.finish().unwrap();
    let lock = Lock::parse(&read(&s.config, LOCK_FILE)).unwrap();
    assert_eq!(
        lock.entries.keys().collect::<Vec<_>>(),
        [&format!("git::{url}//b")]
    );
}

#[test]
fn a_bad_ref_is_named() {
    let s = setup();
    s.repo.commit("main.toml", "");
    let r = resolver(&s, Mode::Use);
    let e = r
        .resolve(
            &format!("git::{}?ref=no-such-branch", s.repo.url()),
            &s.config,
        )
        .unwrap_err();
    assert!(e.contains("ref `no-such-branch`"), "{e}");
    assert!(e.contains("couldn't find remote ref"), "git's words: {e}");
    let e = r
        .resolve(&format!("git::{}?ref=deadbeef", s.repo.url()), &s.config)
        .unwrap_err();
    assert!(e.contains("deadbeef"), "{e}");
}

#[test]
fn a_missing_subdirectory_is_named() {
    let s = setup();
    s.repo.commit("main.toml", "");
    let r = resolver(&s, Mode::Use);
    let e = r
        .resolve(&format!("git::{}//nope", s.repo.url()), &s.config)
        .unwrap_err();
    assert!(e.contains("no directory `nope`"), "{e}");
}

#[test]
fn an_unreachable_source_errors_and_leaves_the_cache() {
    let s = setup();
    s.repo.commit("main.toml", "v = 1");
    let source = format!("git::{}?ref=main", s.repo.url());
    let r = resolver(&s, Mode::Init { upgrade: false });
    let dir = r.resolve(&source, &s.config).unwrap();
    r.finish().unwrap();
    let before: Vec<_> = std::fs::read_dir(modules_dir(&s))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();

    std::fs::rename(&s.repo.dir, s.repo.dir.with_file_name("moved")).unwrap();
    let r = resolver(&s, Mode::Init { upgrade: true });
    let e = r.resolve(&source, &s.config).unwrap_err();
    assert!(e.contains(&s.repo.url()), "names the source: {e}");
    assert!(
        e.contains("git says:") && e.contains("does not appear to be a git repository"),
        "{e}"
    );
    let after: Vec<_> = std::fs::read_dir(modules_dir(&s))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        before, after,
        "no temporary directory left, the old checkout kept"
    );
    assert_eq!(read(&dir, "main.toml"), "v = 1");
}

#[test]
fn credentials_never_appear_in_errors() {
    let s = setup();
    let r = resolver(&s, Mode::Use);
    // Port 1 on loopback refuses at once: no network needed.
    let e = r
        .resolve(
            "git::https://user:s3cret-token@127.0.0.1:1/org/repo.git?ref=v1",
            &s.config,
        )
        .unwrap_err();
    assert!(!e.contains("s3cret-token"), "{e}");
    assert!(
        e.contains("https://user:***@127.0.0.1:1/org/repo.git"),
        "{e}"
    );
}

#[test]
fn other_sources_are_refused_with_the_forms_plinth_takes() {
    let s = setup();
    let r = resolver(&s, Mode::Use);
    let e = r.resolve("hashicorp/consul/aws", &s.config).unwrap_err();
    assert!(
        e.contains("neither a local path nor a git source") && e.contains("git::<url>"),
        "{e}"
    );
}

#[test]
fn a_broken_lock_is_an_error_saying_how_to_recover() {
    let s = setup();
    std::fs::write(s.config.join(LOCK_FILE), "[[module]]\nsource = 3\n").unwrap();
    let e = GitResolver::new(&s.config, Mode::Use).err().unwrap();
    assert!(
        e.contains("plinth.lock is not a valid lock file") && e.contains("plinth init"),
        "{e}"
    );
}

#[test]
fn the_loader_reads_nested_git_modules_and_the_lock_joins_the_sources() {
    let s = setup();
    let tmp = s.config.parent().unwrap();
    // A second repository, called from inside the first.
    let inner = Repo {
        dir: tmp.join("inner"),
    };
    std::fs::create_dir_all(&inner.dir).unwrap();
    inner.git(&["init", "-q", "--initial-branch=main"]);
    inner.commit(
        "main.toml",
        "[resource.leaf]\ntype = \"core:data\"\ninput = \"x\"\n",
    );
    s.repo.commit(
        "modules/app/main.toml",
        &format!(
            "[module.inner]\nsource = \"git::{}?ref=main\"\n\n[output.id]\nvalue = \"x\"\n",
            inner.url()
        ),
    );
    std::fs::write(
        s.config.join("main.toml"),
        format!(
            "[module.app]\nsource = \"git::{}//modules/app?ref=main\"\n",
            s.repo.url()
        ),
    )
    .unwrap();

    let r = resolver(&s, Mode::Init { upgrade: false });
    let config = plinth_config::load_dir_with(&s.config, &r)
        .unwrap_or_else(|(src, d)| panic!("{}", d.render(&src, false)));
    let app = &config.module_calls[0];
    assert!(
        app.dir.starts_with(modules_dir(&s)),
        "{}",
        app.dir.display()
    );
    assert_eq!(app.module.module_calls[0].module.resources[0].name, "leaf");
    let lock_source = config
        .sources
        .files()
        .iter()
        .find(|f| f.name == LOCK_FILE)
        .expect("plinth.lock is among the sources");
    let outcome = r.finish().unwrap();
    assert_eq!(outcome.resolved.len(), 2, "both sources are locked");
    assert_eq!(*lock_source.text, read(&s.config, LOCK_FILE));
}
