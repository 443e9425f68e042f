//! `plinth test`: the configuration's test files (`tests/*.test.toml`), each against a fresh
//! simulated cloud and state, run by run; per-run results, a JUnit XML report with
//! `--junit`, and exit 1 unless everything passed (docs/testing.md).
//!
//! `runner` runs a file (over `vars`: a run's variables; `sim`: its simulated cloud;
//! `expect`: judging what failed); `report` prints; `junit` writes the XML.

mod expect;
mod junit;
mod report;
mod runner;
mod sim;
mod vars;

use std::path::Path;

use plinth_config::TestFile;

use crate::Common;
use crate::error::CliError;
use crate::workspace;

/// Runs the tests of `dir` (only the files `filters` name, when given).
pub(super) async fn test_cmd(
    dir: &Path,
    junit: Option<&Path>,
    filters: &[String],
    common: &Common,
) -> Result<u8, CliError> {
    if common.json {
        return Err(CliError::help(
            "plinth test has no JSON output",
            "drop --json; pass --junit FILE for a machine-readable report",
        ));
    }
    let loaded = workspace::load_unresolved(dir)?;
    let problems = plinth_engine::validate(&loaded.config, &loaded.registry);
    if !problems.is_empty() {
        return Err(CliError::Config(loaded.config.sources.clone(), problems));
    }
    let mut sources = loaded.config.sources.clone();
    let (files, diags) = plinth_config::load_test_files(&loaded.dir, &loaded.config, &mut sources);
    if !diags.is_empty() {
        return Err(CliError::Config(sources, diags));
    }
    let files = select(files, filters)?;
    let base = (common.var_files.clone(), common.vars.clone());
    let mut suite = runner::Suite {
        loaded,
        sources: &sources,
        common,
        base_vars: &base,
    };
    let mut results = Vec::new();
    for file in &files {
        outln!("{}/{}... in progress", plinth_config::TEST_DIR, file.name);
        let result = runner::run_file(&mut suite, file).await?;
        report::print_file(&result);
        results.push(result);
    }
    if let Some(path) = junit {
        std::fs::write(path, junit::junit_xml(&results)).map_err(|e| {
            CliError::msg(format!(
                "cannot write the JUnit report {}: {e}",
                path.display()
            ))
        })?;
    }
    Ok(if report::print_summary(&results) {
        0
    } else {
        1
    })
}

/// The files `filters` name (`flagship`, `flagship.test.toml` or `tests/flagship.test.toml`);
/// all of them without filters. A filter that names no file is an error listing them.
fn select(files: Vec<TestFile>, filters: &[String]) -> Result<Vec<TestFile>, CliError> {
    if filters.is_empty() {
        return Ok(files);
    }
    let names = |f: &TestFile| {
        let stem = f
            .name
            .trim_end_matches(plinth_config::TEST_SUFFIX)
            .to_string();
        [
            stem,
            f.name.clone(),
            format!("{}/{}", plinth_config::TEST_DIR, f.name),
        ]
    };
    for filter in filters {
        if !files.iter().any(|f| names(f).contains(filter)) {
            let all: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
            return Err(CliError::help(
                format!("--filter {filter}: there is no test file of that name"),
                format!("the test files are: {}", all.join(", ")),
            ));
        }
    }
    Ok(files
        .into_iter()
        .filter(|f| filters.iter().any(|x| names(f).contains(x)))
        .collect())
}
