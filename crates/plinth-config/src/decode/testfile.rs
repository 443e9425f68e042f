//! Test files of `plinth test`: `DIR/tests/*.test.toml`, each a list of `[[run]]`s decoded
//! into [`TestFile`]s with the configuration's own decoder, so every mistake is a located
//! diagnostic (docs/testing.md is the format's reference).
//!
//! Checked here, against the configuration the tests run: keys, run names (present, unique),
//! `command`, variables the configuration declares, `expect_failures` addresses it declares,
//! assertions that are not a bool, and references to runs (`run.NAME`: only earlier runs),
//! outputs and variables. What an assertion refers to beyond that is checked when it is
//! evaluated.

use std::collections::BTreeMap;
use std::path::Path;

use plinth_addr::{Address, DeclKind};
use plinth_expr::did_you_mean;
use toml::de::{DeTable, DeValue};

use super::Decoder;
use crate::decl::{Condition, Config, ResourceDecl};
use crate::diag::{Diagnostic, Diagnostics};
use crate::files::{ConfigDir, MAX_TOML_BYTES, read_regular};
use crate::node::{Node, NodeKind};
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

const FILE_KEYS: &[&str] = &["variables", "run"];
const RUN_KEYS: &[&str] = &[
    "name",
    "command",
    "variables",
    "expect_failures",
    "assert",
    "data",
];

impl Decoder<'_> {
    fn test_file(&mut self, name: String, t: &DeTable<'_>, config: &Config) -> TestFile {
        let mut tf = TestFile {
            name,
            file: self.file,
            variables: Vec::new(),
            runs: Vec::new(),
        };
        let mut runs = None;
        for (k, v) in t {
            let kloc = self.loc(k.span());
            match k.get_ref().as_ref() {
                "variables" => {
                    if let Some(t) = self.expect_table(v, "[variables]", &kloc) {
                        tf.variables = self.test_vars(t, config);
                    }
                }
                "run" => match v.get_ref() {
                    DeValue::Array(items) => runs = Some(items),
                    _ => self.err(
                        Diagnostic::at("`run` must be an array of tables", kloc)
                            .label("expected [[run]]")
                            .help("write each run as a [[run]] table with a name"),
                    ),
                },
                other => self.unknown_key(other, kloc, FILE_KEYS, "a test file"),
            }
        }
        let Some(items) = runs else {
            self.err(
                Diagnostic::at("the test file has no [[run]]", self.loc(0..0))
                    .help("add a [[run]] table with a name, e.g. [[run]] name = \"applies\""),
            );
            return tf;
        };
        // Every run's name, to tell a later run from one that does not exist.
        let all: Vec<String> = items
            .iter()
            .filter_map(|i| match i.get_ref() {
                DeValue::Table(t) => t.iter().find(|(k, _)| k.get_ref() == "name"),
                _ => None,
            })
            .filter_map(|(_, v)| v.get_ref().as_str().map(str::to_string))
            .collect();
        let mut seen: BTreeMap<String, Loc> = BTreeMap::new();
        for item in items {
            let iloc = self.loc(item.span());
            let DeValue::Table(body) = item.get_ref() else {
                self.err(
                    Diagnostic::at("each `run` must be a table", iloc)
                        .help("write each run as a [[run]] table"),
                );
                continue;
            };
            if let Some(run) = self.test_run(body, iloc, config, &seen, &all) {
                seen.insert(run.name.clone(), run.loc.clone());
                tf.runs.push(run);
            }
        }
        for v in &tf.variables {
            self.check_refs(&v.value, config, &seen, &[], &[], false);
        }
        tf
    }

    fn test_vars(&mut self, t: &DeTable<'_>, config: &Config) -> Vec<TestVar> {
        let mut out = Vec::new();
        for (k, v) in t {
            let loc = self.loc(k.span());
            let name = k.get_ref().to_string();
            if config.variable(&name).is_none() {
                let names = config.variables.iter().map(|v| v.name.as_str());
                let help = match did_you_mean(&name, names) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => {
                        "a test sets only variables the configuration declares ([variable.NAME])"
                            .to_string()
                    }
                };
                self.err(
                    Diagnostic::at(
                        format!("the configuration declares no variable `{name}`"),
                        loc,
                    )
                    .label("unknown variable")
                    .help(help),
                );
                continue;
            }
            let value = self.node(v);
            out.push(TestVar { name, loc, value });
        }
        out
    }

    fn test_run(
        &mut self,
        t: &DeTable<'_>,
        loc: Loc,
        config: &Config,
        earlier: &BTreeMap<String, Loc>,
        all: &[String],
    ) -> Option<TestRun> {
        let mut name: Option<(String, Loc)> = None;
        let mut run = TestRun {
            name: String::new(),
            loc: loc.clone(),
            command: TestCommand::Apply,
            variables: Vec::new(),
            expect_failures: Vec::new(),
            asserts: Vec::new(),
            data: Vec::new(),
        };
        let mut ok = true;
        for (k, v) in t {
            let kloc = self.loc(k.span());
            let vloc = self.loc(v.span());
            match k.get_ref().as_ref() {
                "name" => {
                    let n = self.string_value(v, "a run's `name`")?;
                    if !super::is_identifier(&n) {
                        self.err(
                            Diagnostic::at(format!("`{n}` is not a valid run name"), vloc)
                                .label(
                                    "expected letters, digits, `_` and `-`, starting with a letter",
                                )
                                .help(format!(
                                    "rename it, e.g. name = \"{}\"",
                                    super::sanitize(&n)
                                )),
                        );
                        return None;
                    }
                    name = Some((n, vloc));
                }
                "command" => match self.string_value(v, "a run's `command`")?.as_str() {
                    "plan" => run.command = TestCommand::Plan,
                    "apply" => run.command = TestCommand::Apply,
                    other => {
                        let help = match did_you_mean(other, ["plan", "apply"]) {
                            Some(s) => format!("did you mean \"{s}\"?"),
                            None => "write command = \"plan\" or \"apply\" (the default)".into(),
                        };
                        self.err(
                            Diagnostic::at(format!("unknown run command `{other}`"), vloc)
                                .label("expected \"plan\" or \"apply\"")
                                .help(help),
                        );
                        ok = false;
                    }
                },
                "variables" => {
                    let t = self.expect_table(v, "a run's `variables`", &kloc)?;
                    run.variables = self.test_vars(t, config);
                }
                "expect_failures" => run.expect_failures = self.expect_failures(v, config)?,
                "assert" => run.asserts = self.asserts(v, &kloc)?,
                "data" => {
                    let t = self.expect_table(v, "a run's `data`", &kloc)?;
                    for (dn, body) in t {
                        let nloc = self.loc(dn.span());
                        let dn = dn.get_ref().to_string();
                        if config
                            .resources
                            .iter()
                            .any(|r| r.mode == DeclKind::Data && r.name == dn)
                        {
                            self.err(
                                Diagnostic::at(format!("the configuration already declares `data.{dn}`"), nloc)
                                    .help("name the run's data source differently; assertions see the configuration's own data sources already"),
                            );
                            ok = false;
                            continue;
                        }
                        let body = self.expect_table(body, &format!("[run.data.{dn}]"), &nloc)?;
                        match self.resource(DeclKind::Data, dn, nloc, body) {
                            Some(d) => run.data.push(d),
                            None => ok = false,
                        }
                    }
                }
                other => {
                    self.unknown_key(other, kloc, RUN_KEYS, "a run");
                    ok = false;
                }
            }
        }
        let Some((name, nloc)) = name else {
            self.err(
                Diagnostic::at("a run has no `name`", loc)
                    .label("this [[run]]")
                    .help("add name = \"...\": results and later runs (run.NAME.output.x) name it"),
            );
            return None;
        };
        if let Some(first) = earlier.get(&name) {
            self.err(
                Diagnostic::at(format!("run `{name}` is defined twice"), nloc)
                    .related(first.clone(), "first defined here")
                    .help("run names are unique in a test file; rename one"),
            );
            return None;
        }
        for v in &run.variables {
            ok &= self.check_refs(&v.value, config, earlier, &[&name], all, false);
        }
        for a in &run.asserts {
            ok &= self.check_refs(&a.condition, config, earlier, &[&name], all, true);
            ok &= self.check_refs(&a.message, config, earlier, &[&name], all, true);
        }
        for d in &run.data {
            ok &= self.check_refs(&d.inputs, config, earlier, &[&name], all, false);
        }
        run.name = name;
        run.loc = nloc;
        ok.then_some(run)
    }

    fn expect_failures(
        &mut self,
        v: &toml::Spanned<DeValue<'_>>,
        config: &Config,
    ) -> Option<Vec<ExpectedFailure>> {
        let DeValue::Array(items) = v.get_ref() else {
            self.err(
                Diagnostic::at("`expect_failures` must be a list of addresses", self.loc(v.span()))
                    .help("write e.g. expect_failures = [\"module.workload.fic_workload\", \"check.ready\"]"),
            );
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            let loc = self.loc(item.span());
            let address = self.string_value(item, "an `expect_failures` entry")?;
            if let Err(why) = declared(config, &address) {
                self.err(
                    Diagnostic::at(format!("`expect_failures` names `{address}`: {why}"), loc.clone())
                        .label("not declared")
                        .help("name a resource, data source, output or check the configuration declares (module.NAME.x inside a module)"),
                );
                return None;
            }
            out.push(ExpectedFailure { address, loc });
        }
        Some(out)
    }

    fn asserts(&mut self, v: &toml::Spanned<DeValue<'_>>, kloc: &Loc) -> Option<Vec<Condition>> {
        let DeValue::Array(items) = v.get_ref() else {
            self.err(
                Diagnostic::at("`assert` must be a list of tables", kloc.clone()).help(
                    "write each assertion as a [[run.assert]] table with condition and message",
                ),
            );
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            let loc = self.loc(item.span());
            let t = self.expect_table(item, "an assertion", &loc)?;
            let (mut condition, mut message) = (None, None);
            for (k, v) in t {
                match k.get_ref().as_ref() {
                    "condition" => condition = Some(self.node(v)),
                    "message" => message = Some(self.node(v)),
                    other => {
                        self.unknown_key(
                            other,
                            self.loc(k.span()),
                            &["condition", "message"],
                            "an assertion",
                        );
                        return None;
                    }
                }
            }
            let (Some(condition), Some(message)) = (condition, message) else {
                self.err(
                    Diagnostic::at("an assertion needs both `condition` and `message`", loc)
                        .help("write condition = \"${...}\" (true when the run is right) and message = \"what is wrong otherwise\""),
                );
                return None;
            };
            let not_bool = match &condition.kind {
                NodeKind::Lit(v) => {
                    (!matches!(v, plinth_value::Value::Bool(_))).then(|| v.type_name())
                }
                NodeKind::Template(t) if t.single_expr().is_none() => Some("string"),
                NodeKind::Template(_) => None,
                NodeKind::List(_) => Some("list"),
                NodeKind::Table(_) => Some("table"),
            };
            if let Some(found) = not_bool {
                self.err(
                    Diagnostic::at(format!("an assertion's condition must be a bool, found a {found}"), condition.loc.clone())
                        .label("expected true or false")
                        .help("write one expression that is true or false, e.g. condition = \"${output.name != \\\"\\\"}\""),
                );
                return None;
            }
            out.push(Condition {
                loc,
                condition,
                message,
            });
        }
        Some(out)
    }

    /// Reports references to runs, outputs and variables that do not exist: `run.NAME` must
    /// be a run before this one (`current` names this run, which is not done yet when its own
    /// values are evaluated); `plan` only in assertions. True when all are fine.
    fn check_refs(
        &mut self,
        node: &Node,
        config: &Config,
        earlier: &BTreeMap<String, Loc>,
        current: &[&str],
        all: &[String],
        in_assert: bool,
    ) -> bool {
        let mut ok = true;
        for found in node.references() {
            let r = found.reference;
            let attr = |i: usize| match r.steps.get(i) {
                Some(plinth_expr::RefStep::Attr { name, .. }) => Some(name.as_str()),
                _ => None,
            };
            let problem = match r.root.as_str() {
                "run" => match attr(0) {
                    None => Some((
                        "`run` needs a run's name after it: run.NAME.output.x".to_string(),
                        None,
                    )),
                    Some(n) if current.contains(&n) => Some((
                        format!("`run.{n}` is this run: its outputs are `output.NAME`"),
                        Some(format!("write output.{}", attr(2).unwrap_or("NAME"))),
                    )),
                    Some(n) if !earlier.contains_key(n) && all.iter().any(|a| a == n) => Some((
                        format!(
                            "run `{n}` comes later in the file: a run sees only the runs before it"
                        ),
                        Some(format!(
                            "move run `{n}` before this one, or refer to an earlier run"
                        )),
                    )),
                    Some(n) if !earlier.contains_key(n) => Some((
                        format!("there is no run `{n}` before this one"),
                        Some(match did_you_mean(n, earlier.keys().map(String::as_str)) {
                            Some(s) => format!(
                                "did you mean `run.{s}`? Runs see only the runs before them"
                            ),
                            None => {
                                "runs see only the runs before them in the same file".to_string()
                            }
                        }),
                    )),
                    Some(n) if attr(1) != Some("output") => Some((
                        format!("`run.{n}` has only outputs: write run.{n}.output.NAME"),
                        None,
                    )),
                    Some(_) => attr(2).and_then(|o| unknown_output(config, o)),
                },
                "output" => attr(0).and_then(|o| unknown_output(config, o)),
                "plan" if !in_assert => Some((
                    "`plan` is only known in assertions".to_string(),
                    Some("variables and data are evaluated before the run's plan".to_string()),
                )),
                "var" => attr(0).filter(|v| config.variable(v).is_none()).map(|v| {
                    (
                        format!("the configuration declares no variable `{v}`"),
                        None,
                    )
                }),
                _ => None,
            };
            if let Some((message, help)) = problem {
                self.err(Diagnostic::at(message, found.loc.clone()).maybe_help(help));
                ok = false;
            }
        }
        ok
    }
}

fn unknown_output(config: &Config, name: &str) -> Option<(String, Option<String>)> {
    if config.outputs.iter().any(|o| o.name == name) {
        return None;
    }
    let help = did_you_mean(name, config.outputs.iter().map(|o| o.name.as_str()))
        .map(|s| format!("did you mean `{s}`?"));
    Some((
        format!("the configuration declares no output `{name}`"),
        help,
    ))
}

/// Whether `address` names something `config` declares: a resource, data source, output,
/// check or module call, in the module its `module.NAME` steps lead to (instance keys are
/// not checked: they depend on values).
fn declared(config: &Config, address: &str) -> Result<(), String> {
    // `check.NAME` is not a state address: parse it as an output's and look among checks.
    let (text, is_check) = match address.rfind("check.") {
        Some(i) if i == 0 || address[..i].ends_with('.') => (
            format!("{}output.{}", &address[..i], &address[i + 6..]),
            true,
        ),
        _ => (address.to_string(), false),
    };
    let addr: Address = text.parse().map_err(|e| format!("{e}"))?;
    let mut module = config;
    for step in &addr.module {
        let call = module.module_calls.iter().find(|c| c.name == step.name);
        module = &call
            .ok_or_else(|| format!("there is no module call `{}`", step.name))?
            .module;
    }
    let found = match (is_check, addr.kind) {
        (true, _) => module.checks.iter().any(|c| c.name == addr.name),
        (false, DeclKind::Resource | DeclKind::Data) => module
            .resources
            .iter()
            .any(|r| r.mode == addr.kind && r.name == addr.name),
        (false, DeclKind::Output) => module.outputs.iter().any(|o| o.name == addr.name),
        (false, DeclKind::Action) => module.actions.iter().any(|a| a.name == addr.name),
        _ => return Err("expected a resource, data source, output or check".into()),
    };
    if found || (addr.is_module() && !addr.module.is_empty()) {
        Ok(())
    } else {
        Err("the configuration declares no such object".into())
    }
}
