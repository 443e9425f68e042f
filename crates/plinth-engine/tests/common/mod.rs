//! Helpers of the module tests: a configuration directory written from `(path, text)` pairs
//! (modules are directories), loaded into a `Harness`.

#![allow(dead_code)]

use plinth_plan::{Action, Plan};
use plinth_testkit::Harness;

/// A harness over a configuration directory written from `files` (path, text); the
/// directory lives as long as the returned guard.
pub fn harness(files: &[(&str, &str)]) -> (tempfile::TempDir, Harness) {
    let dir = tempfile::tempdir().unwrap();
    write(&dir, files);
    let mut h = Harness::new("");
    load_into(&mut h, &dir);
    (dir, h)
}

/// Writes `files` into `dir` (replacing what is there).
pub fn write(dir: &tempfile::TempDir, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// Loads the configuration in `dir` into `h` (its variables at their defaults).
pub fn load_into(h: &mut Harness, dir: &tempfile::TempDir) {
    let mut config = match plinth_config::load_dir(dir.path()) {
        Ok(c) => c,
        Err((s, d)) => panic!("config does not load:\n{}", d.render(&s, false)),
    };
    let vars = plinth_config::resolve_variables(&mut config, &Default::default())
        .unwrap_or_else(|d| panic!("variables: {}", d.render(&config.sources, false)));
    h.config = config;
    h.vars = vars;
}

/// Writes `files` into `dir` and loads the configuration again.
pub fn rewrite(h: &mut Harness, dir: &tempfile::TempDir, files: &[(&str, &str)]) {
    write(dir, files);
    load_into(h, dir);
}

/// The changes of a plan that do something, as sorted `"Action address"` lines.
pub fn changed(plan: &Plan) -> Vec<String> {
    let mut v: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| format!("{:?} {}", c.action, c.address))
        .collect();
    v.sort();
    v
}
