//! Planning: refresh what state knows, evaluate the configuration in dependency order, and
//! decide one action per address (SPEC §3).

use std::collections::{HashMap, HashSet};

use plinth_config::{Diagnostic, Diagnostics};
use plinth_plan::{Action, PLAN_FORMAT, Plan, PlanMode};
use plinth_state::State;
use plinth_value::Path;

use crate::addr::{Address, DeclKind};
use crate::events::EventSink;
use crate::graph;
use crate::scope::Values;
use crate::settings::{Settings, SettingsTables};
use crate::validate;
use crate::workspace::Workspace;

mod actions;
mod checks;
mod conditions;
mod deletes;
mod existing;
mod expand;
pub(crate) mod imports;
pub(crate) mod managed;
mod modules;
mod moves;
mod planner;
mod removed;
mod resources;
mod review;
mod targets;

pub(crate) use checks::{check_address, judge};
use existing::find_existing;
use planner::Planner;
use targets::{check_addresses, targeted};

/// What to plan.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// Normal, destroy (`--destroy`) or refresh-only (`--refresh-only`).
    pub mode: PlanMode,
    /// Limit the plan to these addresses and what they depend on.
    pub targets: Vec<Address>,
    /// Replace these even if nothing changed.
    pub replace: Vec<Address>,
    /// Skip refreshing (plan from state as recorded).
    pub skip_refresh: bool,
    /// How many refreshes run at once.
    pub parallelism: usize,
    /// Read every object with its own request, never a collection at once (`--per-object-reads`:
    /// slower; to compare with batched reads, or to rule them out).
    pub per_object_reads: bool,
}

impl PlanOptions {
    fn reading(&self) -> crate::reads::Reading {
        crate::reads::Reading {
            parallelism: self.parallelism.max(1),
            batch: !self.per_object_reads,
        }
    }
}

/// Everything a plan is made from. The engine does no I/O of its own: the configuration is
/// already read, the state already loaded, and the providers do the talking.
pub struct PlanInput<'a> {
    /// The configuration, variables, environment and providers to plan with.
    pub workspace: Workspace<'a>,
    /// The state as loaded; `None` when there is none yet.
    pub state: Option<&'a State>,
}

/// Makes a plan.
pub async fn plan(
    input: &PlanInput<'_>,
    opts: &PlanOptions,
    events: &dyn EventSink,
) -> Result<Plan, Diagnostics> {
    let traced = crate::events::Traced(events);
    let events: &dyn EventSink = &traced;
    let config = input.workspace.config;
    let mut diags = validate::validate(config, input.workspace.registry);
    if !diags.is_empty() {
        return Err(diags);
    }
    let graph = graph::build(config, input.workspace.registry).map_err(Diagnostics::from)?;
    let tree = crate::tree::ModTree::new(config);
    let tables = SettingsTables::new(config, input.workspace.registry);
    // A target may name something only in state (e.g. to destroy it alone); a replacement
    // must be in the configuration.
    check_addresses(config, &opts.targets, "--target", input.state, &mut diags);
    check_addresses(config, &opts.replace, "--replace", None, &mut diags);
    diags.clone().into_result()?;

    let empty = State::new();
    let loaded = input.state.unwrap_or(&empty);
    let (mut refreshed, drift) = if opts.skip_refresh {
        (crate::refresh::Refreshed::unchanged(loaded), Vec::new())
    } else {
        // Objects that exist are read with settings as state records them (the cluster
        // they live in, say).
        let existing = tables.eval_from_state(
            config,
            input.workspace.vars,
            input.workspace.env,
            input.workspace.registry,
            loaded.resources.values(),
        )?;
        let lifecycle = managed::by_address(&tree, loaded);
        let report = crate::refresh::Report {
            all: opts.mode == PlanMode::RefreshOnly,
            unmanaged: opts.mode == PlanMode::Normal,
            lifecycle: &lifecycle,
        };
        crate::refresh::refresh(
            loaded,
            input.workspace.registry,
            &existing,
            report,
            opts.reading(),
            events,
        )
        .await?
    };

    // Records the configuration now declares under another address are renamed before any
    // resource is planned (a destroy deletes them where they are; refresh-only moves nothing).
    let moved = if opts.mode == PlanMode::Normal {
        moves::resolve(&tree, &mut refreshed)?
    } else {
        Vec::new()
    };
    // Old address -> new address, and the reverse.
    let moved_to: HashMap<String, String> = moved
        .iter()
        .map(|m| (m.from.to_string(), m.to.to_string()))
        .collect();
    let moved_from: HashMap<&str, &str> = moved_to
        .iter()
        .map(|(f, t)| (t.as_str(), f.as_str()))
        .collect();
    let new_address = |address: &str| -> String {
        moved_to
            .get(address)
            .cloned()
            .unwrap_or_else(|| address.to_string())
    };

    // Imports are expanded before the walk (their ids need only variables, locals and
    // each); destroy and refresh-only plans ignore them.
    let imports = if opts.mode == PlanMode::Normal {
        imports::expand(&input.workspace, &tree)?
    } else {
        imports::Imports::default()
    };
    let mut planner = Planner {
        input,
        opts,
        graph: &graph,
        state: &refreshed,
        values: Values::default(),
        // One change per record or declaration, usually: grown from empty, 100,000 changes
        // would sit in a vector of 131,072 (and be copied at every doubling).
        changes: Vec::with_capacity(loaded.resources.len().max(config.resources.len())),
        after_in_values: Vec::new(),
        index: HashMap::new(),
        by_decl: HashMap::new(),
        create_checks: Vec::new(),
        diags: Diagnostics::default(),
        produced: HashSet::new(),
        outputs: Vec::new(),
        protected: Vec::new(),
        events,
        tables: &tables,
        settings: Settings::new(),
        settings_deps: HashMap::new(),
        module_settings: HashMap::new(),
        tree: &tree,
        instances: {
            let mut v = vec![Vec::new(); tree.modules.len()];
            v[crate::tree::ROOT].push(Vec::new());
            v
        },
        call_iters: HashMap::new(),
        by_static: HashMap::new(),
        imports,
        stopped: Default::default(),
        read_paths: HashMap::new(),
        removed_by_drift: drift
            .iter()
            .filter(|d| d.action == Action::Update)
            .filter_map(|d| {
                let (before, after) = (d.before.as_ref()?, d.after.as_ref()?);
                let gone: Vec<Path> = d
                    .changed_paths
                    .iter()
                    .filter(|p| before.get(p).is_some() && after.get(p).is_none())
                    .cloned()
                    .collect();
                (!gone.is_empty()).then(|| (new_address(&d.address), gone))
            })
            .collect(),
    };
    let order = graph
        .dag
        .topo_order()
        .map_err(|_| Diagnostics::from(Diagnostic::new("dependency cycle")))?;
    if opts.mode != PlanMode::Destroy {
        for id in &order {
            planner.plan_decl(*id).await;
        }
    }
    planner.plan_deletes();
    let unplanned = planner.imports.unplanned(&planner.produced);
    planner.diags.extend(unplanned);
    if opts.mode == PlanMode::Normal {
        moves::still_declared(
            &tree,
            &planner.instances,
            &planner.produced,
            &mut planner.diags,
        );
        moves::onto_unmade(
            &tree,
            &moved,
            &planner.instances,
            &planner.produced,
            &mut planner.diags,
        );
    }
    // Checks see every change planned; they warn, never block (a destroy has none).
    let checks = if opts.mode == PlanMode::Destroy {
        Vec::new()
    } else {
        planner.plan_checks().await
    };
    let Planner {
        mut changes,
        after_in_values,
        diags: pd,
        outputs,
        protected,
        create_checks,
        mut values,
        index,
        by_decl,
        by_static,
        produced,
        ..
    } = planner;
    // A no-op's `after` is what the scope holds for it (see `Planner::after_in_values`).
    for (i, addr) in after_in_values {
        let c = &mut changes[i];
        c.after = values.take(&addr).or_else(|| c.before.clone());
    }
    // The scope's values and the indexes hold a copy of every resource: freeing them is a
    // tenth of a 10,000-resource plan. Nothing needs to wait for it.
    drop_elsewhere((values, index, by_decl, produced, by_static));
    diags.extend(pd);
    // Each move is carried by the change at its new address (whatever that change is).
    if !moved_from.is_empty() {
        for c in &mut changes {
            if let Some(from) = moved_from.get(c.address.as_str()) {
                c.moved_from = Some(from.to_string());
            }
        }
    }
    diags.extend(find_existing(create_checks, opts.reading(), events).await);
    diags.clone().into_result()?;

    if opts.mode == PlanMode::RefreshOnly {
        changes.clear();
    }
    let mut warnings = Vec::new();
    let mut outputs = outputs;
    if !opts.targets.is_empty() {
        let targets = moves::retarget(&opts.targets, &moved);
        let keep = targeted(&changes, &targets, opts.mode == PlanMode::Destroy);
        changes.retain(|c| keep.contains(&c.address));
        // Outputs outside the target keep their last values: only those that refer to a
        // targeted change are planned (an output removed from the configuration, or one of a
        // destroy that refers to nothing targeted, stays as it is).
        let kept: HashSet<(DeclKind, String)> = changes
            .iter()
            .filter_map(|c| c.address.parse::<Address>().ok())
            .map(|a| (a.kind, a.name))
            .collect();
        outputs.retain(|o| {
            config
                .outputs
                .iter()
                .find(|d| d.name == o.name)
                .is_some_and(|d| {
                    let refs = crate::refs::node_refs(&d.value).into_iter().map(|(r, _)| r);
                    crate::refs::through_locals(config, refs)
                        .iter()
                        .any(|r| kept.contains(r))
                })
        });
        warnings.push(
            "this plan is limited by --target: changes to other resources are not shown and will not be applied; use --target for exceptional cases, not routinely".to_string(),
        );
    }
    // prevent_destroy refuses a delete only if it is still in the plan after --target
    // (which is how the error's help says to leave such a resource out).
    for (address, d) in protected {
        if changes.iter().any(|c| c.address == address) {
            diags.push(d);
        }
    }
    diags.clone().into_result()?;
    Ok(Plan {
        format: PLAN_FORMAT.to_string(),
        mode: opts.mode,
        created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        lineage: input.state.map(|s| s.lineage.clone()).unwrap_or_default(),
        serial: input.state.map(|s| s.serial).unwrap_or(0),
        config_digest: input.workspace.digest(),
        config_dir: input.workspace.dir.display().to_string(),
        variables: input.workspace.vars.clone(),
        changes,
        outputs: if opts.mode == PlanMode::RefreshOnly {
            Vec::new()
        } else {
            outputs
        },
        drift,
        warnings,
        targets: opts.targets.iter().map(|t| t.to_string()).collect(),
        checks,
        findings: vec![],
    })
}

/// Drops a large value on another thread, off the caller's critical path.
pub(super) fn drop_elsewhere<T: Send + 'static>(value: T) {
    if std::thread::Builder::new()
        .name("plinth-drop".into())
        .spawn(move || drop(value))
        .is_err()
    {
        // No thread to spare: dropping here is only slower.
    }
}

pub(super) fn join_paths(paths: &[Path]) -> String {
    paths
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
