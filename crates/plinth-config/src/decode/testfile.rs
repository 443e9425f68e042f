//! Test files of `plinth test`: `DIR/tests/*.test.toml`, each a list of `[[run]]`s decoded
//! into [`TestFile`]s with the configuration's own decoder, so every mistake is a located
//! diagnostic (docs/testing.md is the format's reference).
//!
//! Checked here, against the configuration the tests run: keys, run names (present, unique),
//! `command`, variables the configuration declares, `expect_failures` addresses it declares,
//! assertions that are not a bool, and references to runs (`run.NAME`: only earlier runs),
//! outputs and variables. What an assertion refers to beyond that is checked when it is
//! evaluated.

//!
//! `run` decodes the file and its runs, `parts` a run's lists, `refs` the references.

mod parts;
mod refs;
mod run;

use std::path::Path;

use toml::de::DeTable;

use super::Decoder;
use crate::decl::{Condition, Config, ResourceDecl};
use crate::diag::{Diagnostic, Diagnostics};
use crate::files::{ConfigDir, MAX_TOML_BYTES, read_regular};
use crate::node::Node;
use crate::source::{FileId, Loc, Sources};
use crate::syntax::toml_error;

/// The folder of a configuration that holds its test files.
pub const TEST_DIR: &str = "tests";
/// How a test file's name ends.
pub const TEST_SUFFIX: &str = ".test.toml";

/// One `*.test.toml` file: runs that share one state, in file order.
#[derive(Clone, Debug)]
pub struct TestFile {
    /// The file's name (`flagship.test.toml`).
    pub name: String,
    /// The file in the [`Sources`] it was loaded into.
    pub file: FileId,
    /// `[variables]`: values for every run of the file.
    pub variables: Vec<TestVar>,
    /// The `[[run]]`s, in file order.
    pub runs: Vec<TestRun>,
}

/// A variable a test file or run sets: `prefix = "t1"`.
#[derive(Clone, Debug)]
pub struct TestVar {
    /// The configuration's variable.
    pub name: String,
    /// The key in the file.
    pub loc: Loc,
    /// The value, unevaluated (it may refer to earlier runs' outputs).
    pub value: Node,
}

/// What a run does with the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestCommand {
    /// Plan only: the state is left as it was.
    Plan,
    /// Plan and apply: the next run starts from what this one made.
    Apply,
}

impl TestCommand {
    /// `plan` or `apply`, as the file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            TestCommand::Plan => "plan",
            TestCommand::Apply => "apply",
        }
    }
}

/// An address `expect_failures` names (`module.workload.fic`, `check.ready`, `output.x`).
#[derive(Clone, Debug)]
pub struct ExpectedFailure {
    /// The address as written.
    pub address: String,
    /// The string in the file.
    pub loc: Loc,
}

/// A change made to a cloud object outside plinth before a run (`[[run.drift]]`): what a
/// colleague clicking in the portal would do, made through the simulator.
#[derive(Clone, Debug)]
pub struct TestDrift {
    /// The object's address in state (`module.workload.fic_keda`).
    pub address: String,
    /// The `[[run.drift]]` table.
    pub loc: Loc,
    /// What happens to it.
    pub change: DriftChange,
}

/// See [`TestDrift::change`].
#[derive(Clone, Debug)]
pub enum DriftChange {
    /// `patch = { ... }`: merged into the object as a JSON merge patch.
    Patch(serde_json::Value),
    /// `delete = true`: the object is deleted.
    Delete,
}

/// One `[[run]]`.
#[derive(Clone, Debug)]
pub struct TestRun {
    /// `name`: how results and later runs (`run.NAME.output.x`) name it.
    pub name: String,
    /// The `name` value in the file (or the run's table when it has none).
    pub loc: Loc,
    /// `command` (default apply).
    pub command: TestCommand,
    /// `variables`: values for this run only, over the file's.
    pub variables: Vec<TestVar>,
    /// `expect_failures`: the run passes only if each of these failed.
    pub expect_failures: Vec<ExpectedFailure>,
    /// `[[run.assert]]`: conditions over the result, each with its message.
    pub asserts: Vec<Condition>,
    /// `[run.data.NAME]`: data sources read for this run's assertions only (after apply and
    /// after the simulated cloud settled), as `${data.NAME}`.
    pub data: Vec<ResourceDecl>,
    /// `[[run.drift]]`: changes made outside plinth before the run plans.
    pub drift: Vec<TestDrift>,
}

/// Reads every `DIR/tests/*.test.toml` (in name order) into `sources` and decodes them
/// against `config`. No `tests` folder, or one without test files, is an error saying so.
pub fn load_test_files(
    dir: &Path,
    config: &Config,
    sources: &mut Sources,
) -> (Vec<TestFile>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let tests = dir.join(TEST_DIR);
    let mut names: Vec<String> = match std::fs::read_dir(&tests) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(TEST_SUFFIX))
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    if names.is_empty() {
        diags.push(
            Diagnostic::new(format!(
                "{} has no test files ({TEST_DIR}/*{TEST_SUFFIX})",
                dir.display()
            ))
            .help(format!(
                "write one, e.g. {TEST_DIR}/basic{TEST_SUFFIX} with a [[run]] table (see docs/testing.md)"
            )),
        );
        return (Vec::new(), diags);
    }
    let root = match ConfigDir::new(&tests) {
        Ok(r) => r,
        Err(e) => {
            diags.push(Diagnostic::new(format!(
                "cannot read {}: {e}",
                tests.display()
            )));
            return (Vec::new(), diags);
        }
    };
    let mut files = Vec::new();
    for name in names {
        let shown = format!("{TEST_DIR}/{name}");
        let text = match root
            .resolve(&name)
            .and_then(|real| read_regular(&real, MAX_TOML_BYTES))
        {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::new(format!("cannot read {shown}: {e}")).help(e.help()));
                continue;
            }
        };
        let file = sources.add(shown, tests.join(&name), text.clone());
        let table = match DeTable::parse(&text) {
            Ok(t) => t.into_inner(),
            Err(e) => {
                diags.push(toml_error(file, &text, &e));
                sources.set_quote(file, crate::source::Quote::LinesOnly);
                continue;
            }
        };
        let mut dec = Decoder {
            file,
            text: &text,
            diags: &mut diags,
        };
        let tf = dec.test_file(name, &table, config);
        files.push(tf);
    }
    (files, diags)
}
