//! What an apply actually did, counted from the operations that finished (not from the
//! plan): the final "Apply complete! Resources: ..." line and its JSON twin.

use std::collections::BTreeMap;

use plinth_plan::Summary;

/// The outcomes of one address's operations in this run.
#[derive(Clone, Copy, Debug, Default)]
struct Outcomes {
    created: bool,
    updated: bool,
    deleted: bool,
    ran: bool,
}

/// Operations that finished, by address.
#[derive(Debug, Default)]
pub struct Tally {
    by_address: BTreeMap<String, Outcomes>,
    succeeded: usize,
    failed: usize,
    skipped: usize,
}

/// What the counts add up to, as the final line says it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Objects created (not as half of a replacement).
    pub added: usize,
    /// Objects updated in place.
    pub changed: usize,
    /// Objects destroyed and created again (either order).
    pub replaced: usize,
    /// Objects destroyed (not as half of a replacement).
    pub destroyed: usize,
    /// Actions that ran.
    pub actions: usize,
    /// Operations that succeeded (a replacement is two).
    pub succeeded: usize,
    /// Operations that failed.
    pub failed: usize,
    /// Operations that did not run.
    pub skipped: usize,
}

impl Tally {
    /// An operation finished: `action` (`create`, `update`, `delete`, `read`, `run`, or a
    /// failed `precondition`/`postcondition`) with `ok` telling whether it succeeded.
    pub fn finished(&mut self, address: &str, action: &str, ok: bool) {
        if !ok {
            self.failed += 1;
            return;
        }
        self.succeeded += 1;
        let o = self.by_address.entry(address.to_string()).or_default();
        match action {
            "create" => o.created = true,
            "update" => o.updated = true,
            "delete" => o.deleted = true,
            "run" => o.ran = true,
            _ => {}
        }
    }

    /// An operation was skipped.
    pub fn skipped(&mut self) {
        self.skipped += 1;
    }

    /// The counts so far.
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            succeeded: self.succeeded,
            failed: self.failed,
            skipped: self.skipped,
            ..Counts::default()
        };
        for o in self.by_address.values() {
            match (o.created, o.deleted) {
                (true, true) => c.replaced += 1,
                (true, false) => c.added += 1,
                (false, true) => c.destroyed += 1,
                (false, false) => {}
            }
            if o.updated {
                c.changed += 1;
            }
            if o.ran {
                c.actions += 1;
            }
        }
        c
    }
}

impl Counts {
    /// `Resources: 13 added, 0 changed, 0 replaced, 0 destroyed. 1 action ran.` — the
    /// state-only changes (imports, moves, forgets: recorded before any operation) from
    /// the plan's `summary`, the rest from what ran.
    pub fn resources_line(&self, summary: &Summary) -> String {
        let imported = if summary.import > 0 {
            // Imports first, as Terraform: "Resources: 1 imported, 0 added, ...".
            format!("{} imported, ", summary.import)
        } else {
            String::new()
        };
        let mut line = format!(
            "Resources: {imported}{} added, {} changed, {} replaced, {} destroyed",
            self.added, self.changed, self.replaced, self.destroyed
        );
        if summary.moved > 0 {
            line.push_str(&format!(", {} moved", summary.moved));
        }
        if summary.forget > 0 {
            line.push_str(&format!(", {} forgotten", summary.forget));
        }
        line.push('.');
        line.push_str(&self.actions_sentence());
        line
    }

    /// ` 1 action ran.`, or nothing when no action ran.
    pub fn actions_sentence(&self) -> String {
        match self.actions {
            0 => String::new(),
            1 => " 1 action ran.".into(),
            n => format!(" {n} actions ran."),
        }
    }

    /// The counts for `--json`'s `apply_complete`.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "added": self.added,
            "changed": self.changed,
            "replaced": self.replaced,
            "destroyed": self.destroyed,
            "actions_ran": self.actions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_ran_a_replacement_once_and_failures_apart() {
        let mut t = Tally::default();
        t.finished("rg", "create", true);
        t.finished("app", "update", true);
        // A replacement: delete then create (or create then delete of the deposed).
        t.finished("db", "delete", true);
        t.finished("db", "create", true);
        t.finished("old", "delete", true);
        t.finished("action.restart", "run", true);
        t.finished("data.sub", "read", true);
        t.finished("bad", "create", false);
        t.skipped();
        let c = t.counts();
        assert_eq!(
            c,
            Counts {
                added: 1,
                changed: 1,
                replaced: 1,
                destroyed: 1,
                actions: 1,
                succeeded: 7,
                failed: 1,
                skipped: 1,
            }
        );
        assert_eq!(
            c.resources_line(&Summary::default()),
            "Resources: 1 added, 1 changed, 1 replaced, 1 destroyed. 1 action ran."
        );
    }

    #[test]
    fn a_replacement_whose_create_failed_counts_as_destroyed() {
        let mut t = Tally::default();
        t.finished("db", "delete", true);
        t.finished("db", "create", false);
        let c = t.counts();
        assert_eq!((c.replaced, c.destroyed, c.failed), (0, 1, 1));
    }

    #[test]
    fn state_only_changes_come_from_the_plan() {
        let summary = Summary {
            import: 1,
            moved: 2,
            forget: 1,
            ..Summary::default()
        };
        let mut t = Tally::default();
        t.finished("a", "run", true);
        t.finished("b", "run", true);
        assert_eq!(
            t.counts().resources_line(&summary),
            "Resources: 1 imported, 0 added, 0 changed, 0 replaced, 0 destroyed, 2 moved, 1 forgotten. 2 actions ran."
        );
    }
}
