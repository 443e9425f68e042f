//! Whether a saved plan may still be applied: it was made against this configuration and
//! this state, and neither changed since (SPEC §8: a saved plan is refused when the state's
//! lineage or serial, or the configuration, changed).

use std::fmt;

use plinth_plan::Plan;
use plinth_state::State;

/// Why a saved plan is stale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stale {
    /// The configuration files or the resolved variables differ from the plan's.
    Configuration {
        /// The configuration directory the plan was made from.
        dir: String,
    },
    /// The plan was made with no state, and state exists now.
    StateAppeared {
        /// The serial of the state that exists now.
        serial: u64,
    },
    /// The state is another one (a different lineage).
    OtherState {
        /// The lineage the plan was made against.
        planned: String,
        /// The lineage of the state now.
        now: String,
    },
    /// The state changed since the plan was made.
    StateChanged {
        /// The serial the plan was made against.
        planned: u64,
        /// The serial of the state now.
        now: u64,
    },
    /// The plan was made against a state that no longer exists.
    StateGone,
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stale::Configuration { dir } => write!(
                f,
                "the configuration in {dir} changed since the plan was made"
            ),
            Stale::StateAppeared { serial } => write!(
                f,
                "it was made when no state existed, but state now exists (serial {serial})"
            ),
            Stale::OtherState { planned, now } => write!(
                f,
                "it was made against state lineage {planned}, but the state's lineage is {now}"
            ),
            Stale::StateChanged { planned, now } => write!(
                f,
                "the state changed since the plan was made (serial {planned} then, {now} now)"
            ),
            Stale::StateGone => f.write_str("it was made against a state that no longer exists"),
        }
    }
}

/// Checks that `plan` may be applied to the configuration whose digest is `config_digest`
/// (see [`crate::config_digest`]) and to `state` as loaded now.
pub fn check_fresh(plan: &Plan, config_digest: &str, state: Option<&State>) -> Result<(), Stale> {
    check_config(plan, config_digest)?;
    check_state(plan, state)
}

/// The configuration half of [`check_fresh`], which needs no state (and so no lock).
pub fn check_config(plan: &Plan, config_digest: &str) -> Result<(), Stale> {
    if config_digest != plan.config_digest {
        return Err(Stale::Configuration {
            dir: plan.config_dir.clone(),
        });
    }
    Ok(())
}

/// The state half of [`check_fresh`].
pub fn check_state(plan: &Plan, state: Option<&State>) -> Result<(), Stale> {
    match state {
        Some(s) if plan.lineage.is_empty() => Err(Stale::StateAppeared { serial: s.serial }),
        Some(s) if s.lineage != plan.lineage => Err(Stale::OtherState {
            planned: plan.lineage.clone(),
            now: s.lineage.clone(),
        }),
        Some(s) if s.serial != plan.serial => Err(Stale::StateChanged {
            planned: plan.serial,
            now: s.serial,
        }),
        None if !plan.lineage.is_empty() => Err(Stale::StateGone),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(lineage: &str, serial: u64) -> Plan {
        let mut p: Plan = serde_json::from_value(serde_json::json!({
            "format": plinth_plan::PLAN_FORMAT, "mode": "normal", "created_at": "",
            "lineage": lineage, "serial": serial, "config_digest": "d", "config_dir": "/c",
            "variables": {}, "changes": [], "outputs": [], "drift": [], "warnings": [], "targets": []
        }))
        .expect("a plan");
        p.config_digest = "d".into();
        p
    }

    fn state(lineage: &str, serial: u64) -> State {
        let mut s = State::new();
        s.lineage = lineage.into();
        s.serial = serial;
        s
    }

    #[test]
    fn each_change_since_the_plan_is_named() {
        assert_eq!(
            check_fresh(&plan("L", 3), "d", Some(&state("L", 3))),
            Ok(())
        );
        assert_eq!(check_fresh(&plan("", 0), "d", None), Ok(()));
        assert_eq!(
            check_fresh(&plan("L", 3), "x", Some(&state("L", 3))),
            Err(Stale::Configuration { dir: "/c".into() })
        );
        assert_eq!(
            check_fresh(&plan("", 0), "d", Some(&state("L", 1))),
            Err(Stale::StateAppeared { serial: 1 })
        );
        assert!(matches!(
            check_fresh(&plan("L", 3), "d", Some(&state("M", 3))),
            Err(Stale::OtherState { .. })
        ));
        assert_eq!(
            check_fresh(&plan("L", 3), "d", Some(&state("L", 4))),
            Err(Stale::StateChanged { planned: 3, now: 4 })
        );
        assert_eq!(check_fresh(&plan("L", 3), "d", None), Err(Stale::StateGone));
    }
}
