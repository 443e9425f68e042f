//! A test file's tables: the file, its `[variables]` and each `[[run]]`.

use std::collections::BTreeMap;

use plinth_addr::DeclKind;
use plinth_expr::did_you_mean;
use toml::de::{DeTable, DeValue};

use super::{TestCommand, TestFile, TestRun, TestVar};
use crate::decl::Config;
use crate::decode::Decoder;
use crate::diag::Diagnostic;
use crate::source::Loc;

const FILE_KEYS: &[&str] = &["variables", "run"];
const RUN_KEYS: &[&str] = &[
    "name",
    "command",
    "variables",
    "expect_failures",
    "assert",
    "data",
    "drift",
];

impl Decoder<'_> {
    pub(super) fn test_file(&mut self, name: String, t: &DeTable<'_>, config: &Config) -> TestFile {
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
            drift: Vec::new(),
        };
        let mut ok = true;
        for (k, v) in t {
            let kloc = self.loc(k.span());
            let vloc = self.loc(v.span());
            match k.get_ref().as_ref() {
                "name" => {
                    let n = self.string_value(v, "a run's `name`")?;
                    if !crate::decode::is_identifier(&n) {
                        self.err(
                            Diagnostic::at(format!("`{n}` is not a valid run name"), vloc)
                                .label(
                                    "expected letters, digits, `_` and `-`, starting with a letter",
                                )
                                .help(format!(
                                    "rename it, e.g. name = \"{}\"",
                                    crate::decode::sanitize(&n)
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
                "variables" => match self.expect_table(v, "a run's `variables`", &kloc) {
                    Some(t) => run.variables = self.test_vars(t, config),
                    None => ok = false,
                },
                // A list with a mistake is reported and left out; decoding goes on, so one
                // run reports every problem.
                "expect_failures" => match self.expect_failures(v, config) {
                    Some(e) => run.expect_failures = e,
                    None => ok = false,
                },
                "assert" => match self.asserts(v, &kloc) {
                    Some(a) => run.asserts = a,
                    None => ok = false,
                },
                "drift" => match self.drift(v, &kloc, config) {
                    Some(d) => run.drift = d,
                    None => ok = false,
                },
                "data" => {
                    let Some(t) = self.expect_table(v, "a run's `data`", &kloc) else {
                        ok = false;
                        continue;
                    };
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
                        let Some(body) =
                            self.expect_table(body, &format!("[run.data.{dn}]"), &nloc)
                        else {
                            ok = false;
                            continue;
                        };
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
}
