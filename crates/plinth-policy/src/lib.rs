//! Policy as code for plinth plans: `plinth plan --policy DIR` evaluates the Rego policies
//! (the language of the Open Policy Agent) of a directory over the plan's JSON and turns
//! their `deny`/`violation`/`warn` results into [`plinth_plan::Finding`]s.
//!
//! # The interpreter: regorus
//!
//! Rego is evaluated by [regorus](https://github.com/microsoft/regorus), Microsoft's Rust
//! interpreter of Rego, rather than by running `opa` or `conftest` as a separate program:
//!
//! - **Licence.** MIT (Microsoft), plus Apache-2.0/BSD-3-Clause notices for a few files
//!   derived from other projects (the crate declares `MIT AND Apache-2.0 AND BSD-3-Clause`):
//!   all compatible with plinth's `MIT OR Apache-2.0`.
//! - **Maintenance.** Maintained at Microsoft (Anand Krishnamoorthi is its lead author and
//!   releases it with release-plz); 28 releases since January 2024, the latest (0.14.1,
//!   November 2026) weeks old, several a month through 2026; used in production by the Kata
//!   Containers agent and in Azure (Azure Policy and confidential-container policies).
//! - **Language.** Rego v1 by default since its OPA 1.2 update (regorus PR #373): `deny
//!   contains msg if { ... }`, `some x in xs`, `every`, with `import rego.v1` and
//!   `import future.keywords...` still accepted; it passes OPA's conformance suite except for
//!   some builtins it lacks. Conftest's conventions are plain Rego, so policies written for
//!   `conftest test` over plinth's plan JSON run unchanged.
//! - **Fit.** A library in the process: no binary to install or pin next to plinth, no
//!   network, the input never leaves memory (and it is the redacted plan JSON: secrets never
//!   reach a policy), parse and runtime errors carry `file:line:col`, and evaluation has a
//!   wall-clock limit, so a runaway policy is an error, not a hang.
//!
//! Only the features needed are built (`default-features = false`, `std` and `regex`): no
//! time zones, JSON Schema, YAML, HTTP or glob builtins.
//!
//! # Conventions (docs/policy.md is the user's reference)
//!
//! Every package is evaluated, except test packages. In each, the rules named `deny`, `violation` (and
//! `deny_*`, `violation_*`) give [`Severity::Deny`] findings, `warn` (and `warn_*`)
//! [`Severity::Warn`] ones. A rule's value is a set (or array) of results, each either a
//! string (the message) or an object `{"msg": ..., "address": ..., "fix": ...}` (only `msg`
//! required); a rule that is simply `true` gives one finding named after the rule. The rule
//! of a finding is `PACKAGE.RULE` (`plinth.servicebus.deny`). Rules named `test_*`, and
//! packages whose name ends in `_test`, are unit tests: they never run on a plan, only
//! through [`Policies::run_tests`].

#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use plinth_plan::{Finding, FindingSource, Severity};
use regorus::utils::limits::ExecutionTimerConfig;
use serde_json::Value as J;

/// The largest policy file read (regorus's own limit).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// The most policy files a directory may hold.
pub const MAX_FILES: usize = 1000;
/// How long one evaluation (all packages) may take.
pub const EVAL_LIMIT: Duration = Duration::from_secs(10);
/// The longest message kept from a policy result; longer ones are cut at a character.
const MAX_MESSAGE: usize = 1000;

/// What went wrong loading or evaluating policies. Every variant names where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// The directory cannot be read, or holds no policy.
    Dir {
        /// The directory as given.
        dir: PathBuf,
        /// Why.
        message: String,
        /// What to do.
        fix: String,
    },
    /// A policy file cannot be read (not a regular file, too large, not UTF-8, outside the
    /// directory through a symlink).
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A policy does not parse: regorus's message, which starts with `--> file:line:col`
    /// and shows the line.
    Parse {
        /// The file.
        path: PathBuf,
        /// regorus's message.
        message: String,
    },
    /// A package failed while evaluating (a runtime error, the time limit), or one of its
    /// rules gave a result plinth cannot read.
    Eval {
        /// The package (`plinth.servicebus`), or `PACKAGE.RULE` for a bad result.
        rule: String,
        /// The files that declare the package.
        files: Vec<PathBuf>,
        /// What went wrong (regorus's message, located, for runtime errors).
        message: String,
    },
}

impl PolicyError {
    /// How to fix it, one sentence.
    pub fn fix(&self) -> String {
        match self {
            PolicyError::Dir { fix, .. } => fix.clone(),
            PolicyError::File { .. } => {
                "policies must be regular *.rego files of at most 1 MiB inside the --policy directory"
                    .into()
            }
            PolicyError::Parse { .. } => {
                "fix the policy at the line shown (Rego v1 syntax: `deny contains msg if { ... }`); docs/policy.md shows examples".into()
            }
            PolicyError::Eval { .. } => {
                "fix the rule; results must be strings or objects {\"msg\": ..., \"address\": ...} (docs/policy.md), and all packages together must finish within 10 s".into()
            }
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Dir { dir, message, .. } => {
                write!(f, "--policy {}: {message}", dir.display())
            }
            PolicyError::File { path, message } => write!(f, "{}: {message}", path.display()),
            PolicyError::Parse { path, message } => {
                write!(
                    f,
                    "policy {} does not parse:{}",
                    path.display(),
                    indent(message)
                )
            }
            PolicyError::Eval {
                rule,
                files,
                message,
            } => {
                let files: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "policy {rule} ({}) failed:{}",
                    files.join(", "),
                    indent(message)
                )
            }
        }
    }
}

impl std::error::Error for PolicyError {}

/// A message from regorus on lines of its own (it starts with a newline when located).
fn indent(message: &str) -> String {
    let m = message.trim_end();
    if m.starts_with('\n') {
        m.to_string()
    } else {
        format!(" {m}")
    }
}

/// One policy file, read and parsed.
#[derive(Clone, Debug)]
struct PolicyFile {
    /// As shown in messages: the directory as given joined with the file name.
    path: PathBuf,
    text: String,
    /// Its package, without `data.` (`plinth.servicebus`).
    package: String,
}

/// The policies of a directory: every `*.rego` file, read and parsed (so that a syntax
/// error is reported before planning starts). Plain data: an interpreter is made per
/// evaluation, so this can be held across an `.await`.
#[derive(Clone, Debug)]
pub struct Policies {
    files: Vec<PolicyFile>,
    limit: Duration,
}

impl Policies {
    /// Reads and parses every `*.rego` file directly in `dir` (not its subdirectories), in
    /// name order. Files must be regular (a symlink only to a regular file inside `dir`),
    /// UTF-8 and at most [`MAX_FILE_BYTES`]; the directory must hold at least one.
    pub fn load(dir: &Path) -> Result<Policies, PolicyError> {
        let dir_err = |message: String, fix: &str| PolicyError::Dir {
            dir: dir.to_path_buf(),
            message,
            fix: fix.into(),
        };
        let meta = std::fs::metadata(dir).map_err(|e| {
            dir_err(
                format!("cannot read it: {e}"),
                "pass a directory of *.rego files",
            )
        })?;
        if !meta.is_dir() {
            return Err(dir_err(
                "is not a directory".into(),
                "pass the directory that holds the *.rego files, not a file",
            ));
        }
        let root = std::fs::canonicalize(dir).map_err(|e| {
            dir_err(
                format!("cannot resolve it: {e}"),
                "pass a directory of *.rego files",
            )
        })?;
        let entries = std::fs::read_dir(dir).map_err(|e| {
            dir_err(
                format!("cannot list it: {e}"),
                "check its permissions (plinth needs to list and read it)",
            )
        })?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry
                .map_err(|e| dir_err(format!("cannot list it: {e}"), "check its permissions"))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            if name.ends_with(".rego") && !name.starts_with('.') {
                names.push(name.to_string());
            }
        }
        names.sort();
        if names.is_empty() {
            return Err(dir_err(
                "holds no *.rego file".into(),
                "put the policies (package NAME, deny/warn rules) in *.rego files there; examples/policies/ has some",
            ));
        }
        if names.len() > MAX_FILES {
            return Err(dir_err(
                format!("holds {} *.rego files, more than {MAX_FILES}", names.len()),
                "split the policies into fewer files",
            ));
        }
        let mut files = Vec::with_capacity(names.len());
        let mut engine = new_engine();
        for name in names {
            let path = dir.join(&name);
            let text = read_policy(&path, &root)?;
            let package = engine
                .add_policy(path.display().to_string(), text.clone())
                .map_err(|e| PolicyError::Parse {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            let package = package
                .strip_prefix("data.")
                .unwrap_or(&package)
                .to_string();
            files.push(PolicyFile {
                path,
                text,
                package,
            });
        }
        Ok(Policies {
            files,
            limit: EVAL_LIMIT,
        })
    }

    /// The files read, in the order they were loaded.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|f| f.path.as_path())
    }

    /// The packages, each once, in name order.
    fn packages(&self) -> BTreeMap<&str, Vec<&PolicyFile>> {
        let mut by_package: BTreeMap<&str, Vec<&PolicyFile>> = BTreeMap::new();
        for f in &self.files {
            by_package.entry(&f.package).or_default().push(f);
        }
        by_package
    }

    fn engine(&self) -> Result<regorus::Engine, PolicyError> {
        let mut engine = new_engine();
        for f in &self.files {
            engine
                .add_policy(f.path.display().to_string(), f.text.clone())
                .map_err(|e| PolicyError::Parse {
                    path: f.path.clone(),
                    message: e.to_string(),
                })?;
        }
        Ok(engine)
    }

    /// Evaluates every package with `input` (the plan JSON) and returns the findings of
    /// their `deny`/`violation`/`warn` rules, ordered by severity (denials first), rule,
    /// address and message.
    ///
    /// Only those rules (and what they use) are evaluated: unit tests (`test_*` rules, and
    /// every package whose last component ends in `_test`) run only through
    /// [`Policies::run_tests`], so a failing or slow test never touches a plan. The whole
    /// evaluation shares one deadline, [`Policies::time_limit`] from the start, however many
    /// packages and rules there are.
    pub fn evaluate(&self, input: &J) -> Result<Vec<Finding>, PolicyError> {
        let start = Instant::now();
        let mut engine = self.engine()?;
        engine.set_input(regorus::Value::from(input.clone()));
        let mut findings = Vec::new();
        for (package, files) in self.packages() {
            if is_test_package(package) {
                continue;
            }
            for rule in finding_rules(&engine, &files) {
                let severity = severity_of(rule).unwrap_or(Severity::Deny);
                let name = format!("{package}.{rule}");
                let fail = |message: String| PolicyError::Eval {
                    rule: name.clone(),
                    files: files.iter().map(|f| f.path.clone()).collect(),
                    message,
                };
                let Some(remaining) = self.limit.checked_sub(start.elapsed()) else {
                    return Err(fail(self.over_limit()));
                };
                if remaining.is_zero() {
                    return Err(fail(self.over_limit()));
                }
                set_limit(&mut engine, remaining);
                let result = match engine.eval_rule(format!("data.{name}")) {
                    Ok(v) => v,
                    Err(e) => {
                        let message = e.to_string();
                        // regorus words its own limit; say plinth's (the whole evaluation's).
                        return Err(fail(if start.elapsed() >= self.limit {
                            format!("{} ({message})", self.over_limit())
                        } else {
                            message
                        }));
                    }
                };
                if result == regorus::Value::Undefined {
                    continue;
                }
                let result = serde_json::to_value(&result)
                    .map_err(|e| fail(format!("its value is not JSON: {e}")))?;
                let location = declaring_file(&engine, &files, rule);
                collect(&name, severity, &result, location.as_deref(), &mut findings)
                    .map_err(fail)?;
            }
        }
        findings.sort_by(|a, b| {
            (a.severity, &a.rule, &a.address, &a.message)
                .cmp(&(b.severity, &b.rule, &b.address, &b.message))
        });
        findings.dedup();
        Ok(findings)
    }

    /// The time one evaluation (every package, together) may take: [`EVAL_LIMIT`] unless
    /// set with [`Policies::with_time_limit`].
    pub fn time_limit(&self) -> Duration {
        self.limit
    }

    /// The same policies with another limit on one whole evaluation (tests use a short one).
    pub fn with_time_limit(mut self, limit: Duration) -> Policies {
        self.limit = limit;
        self
    }

    fn over_limit(&self) -> String {
        format!(
            "the policies took longer than the {} s one evaluation of all packages may take",
            seconds(self.limit)
        )
    }

    /// Runs the unit tests: every rule named `test_*` of every package must be `true`
    /// (tests set their input with `with input as {...}`). Returns one outcome per test,
    /// in package and name order.
    pub fn run_tests(&self) -> Result<Vec<TestOutcome>, PolicyError> {
        let mut engine = self.engine()?;
        let mut outcomes = Vec::new();
        for (package, files) in self.packages() {
            let mut names: Vec<&str> = files.iter().flat_map(|f| test_names(&f.text)).collect();
            names.sort();
            names.dedup();
            for name in names {
                let declared = files.iter().any(|f| {
                    engine
                        .has_declared_rule_rooted_at(&f.path.display().to_string(), name)
                        .unwrap_or(false)
                });
                if !declared {
                    continue;
                }
                let rule = format!("{package}.{name}");
                let outcome = match engine.eval_rule(format!("data.{rule}")) {
                    Ok(v) if v == regorus::Value::from(true) => TestResult::Passed,
                    Ok(regorus::Value::Undefined) => TestResult::Failed,
                    Ok(v) => TestResult::Error(format!(
                        "is {} rather than true",
                        serde_json::to_string(&v).unwrap_or_default()
                    )),
                    Err(e) => TestResult::Error(e.to_string()),
                };
                outcomes.push(TestOutcome {
                    rule,
                    result: outcome,
                });
            }
        }
        Ok(outcomes)
    }
}

/// The outcome of one policy unit test (see [`Policies::run_tests`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestOutcome {
    /// `PACKAGE.test_NAME`.
    pub rule: String,
    /// What happened.
    pub result: TestResult,
}

/// See [`TestOutcome::result`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestResult {
    /// The rule is true.
    Passed,
    /// The rule is undefined (a condition of its body did not hold).
    Failed,
    /// It failed to evaluate, or is not a boolean.
    Error(String),
}

/// An interpreter with plinth's limits: Rego v1, [`EVAL_LIMIT`].
fn new_engine() -> regorus::Engine {
    let mut engine = regorus::Engine::new();
    set_limit(&mut engine, EVAL_LIMIT);
    engine
}

/// Reads one policy file under the rules in [`Policies::load`].
fn read_policy(path: &Path, root: &Path) -> Result<String, PolicyError> {
    let err = |message: String| PolicyError::File {
        path: path.to_path_buf(),
        message,
    };
    let link = std::fs::symlink_metadata(path).map_err(|e| err(format!("cannot read it: {e}")))?;
    if link.file_type().is_symlink() {
        let target =
            std::fs::canonicalize(path).map_err(|e| err(format!("cannot resolve it: {e}")))?;
        if !target.starts_with(root) {
            return Err(err(
                "is a symlink to a file outside the policy directory".into()
            ));
        }
    }
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read it: {e}")))?;
    if !meta.is_file() {
        return Err(err("is not a regular file".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(err(format!(
            "is {} bytes, more than the {MAX_FILE_BYTES} a policy may have",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read it: {e}")))?;
    // The file may have grown between the check and the read.
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(err(format!(
            "is more than the {MAX_FILE_BYTES} bytes a policy may have"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        err(format!(
            "is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Whether a package holds only unit tests (`plinth.servicebus_test`), as `opa test` names
/// them.
fn is_test_package(package: &str) -> bool {
    package
        .rsplit('.')
        .next()
        .is_some_and(|last| last.ends_with("_test"))
}

/// The rules of a package that give findings (`deny`, `warn_tls`, ...), each once, in name
/// order: every identifier of its files that names such a rule and that one of the files
/// declares as a rule.
fn finding_rules<'a>(engine: &regorus::Engine, files: &[&'a PolicyFile]) -> Vec<&'a str> {
    let mut names: Vec<&str> = files
        .iter()
        .flat_map(|f| identifiers(&f.text))
        .filter(|name| severity_of(name).is_some())
        .collect();
    names.sort();
    names.dedup();
    names.retain(|name| {
        files.iter().any(|f| {
            engine
                .has_declared_rule_rooted_at(&f.path.display().to_string(), name)
                .unwrap_or(false)
        })
    });
    names
}

/// The identifiers of a policy's text (a superset of its rule names).
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// Sets the interpreter's limit for its next evaluation.
fn set_limit(engine: &mut regorus::Engine, limit: Duration) {
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit,
        check_interval: NonZeroU32::new(1000).unwrap_or(NonZeroU32::MIN),
    });
}

/// A duration in seconds, whole when it is (`10`, `0.2`).
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// The severity of a rule by Conftest's naming, or `None` for other rules.
fn severity_of(rule: &str) -> Option<Severity> {
    let is = |prefix: &str| {
        rule == prefix
            || rule
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('_') && rest.len() > 1)
    };
    if is("deny") || is("violation") {
        Some(Severity::Deny)
    } else if is("warn") {
        Some(Severity::Warn)
    } else {
        None
    }
}

/// The one file that declares `rule` of a package, when exactly one does.
fn declaring_file(engine: &regorus::Engine, files: &[&PolicyFile], rule: &str) -> Option<String> {
    let declaring: Vec<&&PolicyFile> = files
        .iter()
        .filter(|f| {
            engine
                .has_declared_rule_rooted_at(&f.path.display().to_string(), rule)
                .unwrap_or(false)
        })
        .collect();
    match declaring.as_slice() {
        [one] => Some(one.path.display().to_string()),
        _ => None,
    }
}

/// Turns a rule's value into findings; `Err` says why the value cannot be read.
fn collect(
    rule: &str,
    severity: Severity,
    value: &J,
    location: Option<&str>,
    out: &mut Vec<Finding>,
) -> Result<(), String> {
    let finding = |message: String, address: Option<String>, fix: Option<String>| Finding {
        source: FindingSource::Policy,
        rule: rule.to_string(),
        severity,
        address,
        message,
        fix,
        location: location.map(str::to_string),
    };
    match value {
        J::Bool(true) => {
            out.push(finding(format!("{rule} is true"), None, None));
            Ok(())
        }
        J::Bool(false) | J::Null => Ok(()),
        J::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    J::String(s) => out.push(finding(clean(s), None, None)),
                    J::Object(o) => {
                        let msg = match o.get("msg").or_else(|| o.get("message")) {
                            Some(J::String(s)) => clean(s),
                            Some(other) => {
                                return Err(format!(
                                    "result {} has a `msg` that is {}, not a string",
                                    i + 1,
                                    kind(other)
                                ));
                            }
                            None => {
                                return Err(format!(
                                    "result {} is an object without `msg` (give {{\"msg\": ..., \"address\": ...}})",
                                    i + 1
                                ));
                            }
                        };
                        let text = |key: &str| -> Result<Option<String>, String> {
                            match o.get(key) {
                                None | Some(J::Null) => Ok(None),
                                Some(J::String(s)) => Ok(Some(clean(s))),
                                Some(other) => Err(format!(
                                    "result {} has an `{key}` that is {}, not a string",
                                    i + 1,
                                    kind(other)
                                )),
                            }
                        };
                        out.push(finding(msg, text("address")?, text("fix")?));
                    }
                    other => {
                        return Err(format!(
                            "result {} is {}: results are strings or objects {{\"msg\": ..., \"address\": ...}}",
                            i + 1,
                            kind(other)
                        ));
                    }
                }
            }
            Ok(())
        }
        other => Err(format!(
            "its value is {}: deny/violation/warn rules are sets (`deny contains msg if {{ ... }}`) or `true`",
            kind(other)
        )),
    }
}

fn kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "a boolean",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "an array",
        J::Object(_) => "an object",
    }
}

/// A policy's message made safe to print: control characters become spaces, runs of
/// whitespace one space, and it is cut at [`MAX_MESSAGE`] characters.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_MESSAGE));
    let mut space = false;
    for (n, c) in s.trim().chars().enumerate() {
        if n >= MAX_MESSAGE {
            out.push('…');
            break;
        }
        let c = if c.is_control() || is_bidi(c) { ' ' } else { c };
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out.trim_end().to_string()
}

/// Bidirectional-text controls, which can make printed text read differently from what it
/// is.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Names of rules that look like unit tests (`test_x if {`, `test_x {`), found by line.
fn test_names(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("test_")?;
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            Some(&line[..5 + len])
        })
        .collect()
}

#[cfg(test)]
mod tests;
