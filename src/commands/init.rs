//! `plinth init [DIR] [--upgrade]`: fetches every git module source the configuration (and
//! its modules, at any depth) names into `DIR/.plinth/modules/`, and writes `DIR/plinth.lock`
//! with the commit each resolved to. Without `--upgrade` a locked source keeps its commit;
//! with it, every ref is resolved again.

use std::path::Path;

use plinth_fetch::{LOCK_FILE, LockWrite, Mode, Outcome, short};

use crate::Common;
use crate::error::CliError;
use crate::workspace;

pub(super) fn init(dir: &Path, upgrade: bool, common: &Common) -> Result<u8, CliError> {
    let (_, outcome) = workspace::read_config(dir, Mode::Init { upgrade })?;
    if common.json {
        outln!("{}", json(&outcome));
        return Ok(0);
    }
    for r in &outcome.resolved {
        let what = match (&r.previous, r.fetched) {
            (Some(old), _) => format!("upgraded from {} to {}", short(old), short(&r.commit)),
            (None, true) => format!("fetched commit {}", short(&r.commit)),
            (None, false) => format!("commit {} (already fetched)", short(&r.commit)),
        };
        outln!("- {}: {what}", r.source);
    }
    let n = outcome.resolved.len();
    let sources = if n == 1 { "source" } else { "sources" };
    match outcome.lock {
        LockWrite::Written => outln!(
            "Wrote {LOCK_FILE} ({n} git module {sources}); commit it with the configuration."
        ),
        LockWrite::Unchanged => outln!("{LOCK_FILE} is up to date ({n} git module {sources})."),
        LockWrite::Absent => {
            outln!("The configuration has no git module sources: there is nothing to fetch.")
        }
    }
    Ok(0)
}

fn json(outcome: &Outcome) -> serde_json::Value {
    let modules: Vec<serde_json::Value> = outcome
        .resolved
        .iter()
        .map(|r| {
            serde_json::json!({
                "source": r.source,
                "commit": r.commit,
                "fetched": r.fetched,
                "previous_commit": r.previous,
            })
        })
        .collect();
    let lock = match outcome.lock {
        LockWrite::Written => "written",
        LockWrite::Unchanged => "unchanged",
        LockWrite::Absent => "absent",
    };
    serde_json::json!({"type": "init", "modules": modules, "lock": lock})
}
