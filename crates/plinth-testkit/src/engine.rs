//! `Engine`: one configuration, a provider registry and an in-memory state backend, driven
//! through `plinth_engine::plan` and `plinth_engine::apply` as the CLI drives them (apply
//! opens a writer on the current state and compacts it afterwards). Every crate's engine
//! tests build on it, whatever providers they register.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use plinth_config::{Config, Diagnostics, Sources};
use plinth_engine::{
    ApplyInput, ApplyOptions, ApplyReport, Collect, EngineError, PlanInput, PlanOptions,
};
use plinth_plan::{Action, Plan, PlanMode};
use plinth_provider::{Provider, Registry};
use plinth_state::{Backend, MemoryBackend, State};
use plinth_value::Value;
use tokio::sync::watch;

/// Loads a configuration from one TOML text (as `main.toml`) and resolves its variables
/// from their defaults; panics with the rendered diagnostics when it does not load.
pub fn load(toml: &str) -> (Config, BTreeMap<String, Value>) {
    let mut sources = Sources::new();
    sources.add("main.toml".into(), "main.toml".into(), toml.to_string());
    let mut config = match plinth_config::load_sources(sources) {
        Ok(c) => c,
        Err((s, d)) => panic!("config does not load:\n{}", d.render(&s, false)),
    };
    let vars = plinth_config::resolve_variables(&mut config, &Default::default())
        .unwrap_or_else(|d| panic!("variables: {}", d.render(&config.sources, false)));
    (config, vars)
}

/// A configuration, a provider registry and an in-memory state backend.
pub struct Engine {
    /// The providers plans and applies use.
    pub registry: Registry,
    /// The state: every apply writes here, every plan reads from here.
    pub backend: MemoryBackend,
    /// The loaded configuration.
    pub config: Config,
    /// The configuration's resolved variables.
    pub vars: BTreeMap<String, Value>,
    /// The environment expressions see (`env.X`); empty unless a test sets it.
    pub env: BTreeMap<String, String>,
    /// `--parallelism` of `plan`, `plan_mode` and `try_plan` (default 4).
    pub plan_parallelism: usize,
    /// `--parallelism` of apply (default 16, the CLI's).
    pub parallelism: usize,
}

impl Engine {
    /// An engine over `toml` with `providers` and the `core` provider registered.
    pub fn with_providers(
        toml: &str,
        providers: impl IntoIterator<Item = Arc<dyn Provider>>,
    ) -> Self {
        let mut registry = Registry::new();
        for p in providers {
            registry.register(p);
        }
        registry.register(Arc::new(plinth_provider_core::CoreProvider::new()));
        let (config, vars) = load(toml);
        Engine {
            registry,
            backend: MemoryBackend::new(),
            config,
            vars,
            env: BTreeMap::new(),
            plan_parallelism: 4,
            parallelism: ApplyOptions::default().parallelism,
        }
    }

    /// Replaces the configuration (state and objects are kept).
    pub fn set_config(&mut self, toml: &str) {
        let (config, vars) = load(toml);
        self.config = config;
        self.vars = vars;
    }

    /// The current state (empty before the first apply).
    pub fn state(&self) -> State {
        self.backend.current().unwrap_or_default()
    }

    /// The id state records for `address`; panics when there is none.
    pub fn id(&self, address: &str) -> String {
        crate::state_id(&self.state(), address).unwrap_or_else(|| panic!("{address} has no id"))
    }

    /// The engine's view of this harness's configuration.
    pub fn workspace(&self) -> plinth_engine::Workspace<'_> {
        plinth_engine::Workspace {
            config: &self.config,
            vars: &self.vars,
            env: &self.env,
            registry: &self.registry,
            dir: std::path::Path::new("/test"),
        }
    }

    /// Diagnostics rendered against the configuration's sources, without colour.
    pub fn render(&self, d: &Diagnostics) -> String {
        d.render(&self.config.sources, false)
    }

    /// Plans with `opts` against the current state.
    pub async fn try_plan_with(&self, opts: PlanOptions) -> Result<Plan, Diagnostics> {
        let state = self.backend.current();
        let input = PlanInput {
            workspace: self.workspace(),
            state: state.as_ref(),
        };
        plinth_engine::plan(&input, &opts, &Collect::default()).await
    }

    /// Plans in `mode` with `plan_parallelism`.
    pub async fn try_plan_mode(&self, mode: PlanMode) -> Result<Plan, Diagnostics> {
        self.try_plan_with(PlanOptions {
            mode,
            parallelism: self.plan_parallelism,
            ..Default::default()
        })
        .await
    }

    /// A normal plan with `plan_parallelism`.
    pub async fn try_plan(&self) -> Result<Plan, Diagnostics> {
        self.try_plan_mode(PlanMode::default()).await
    }

    /// Plans with `opts`; panics with the rendered diagnostics when planning fails.
    pub async fn plan_with(&self, opts: PlanOptions) -> Plan {
        match self.try_plan_with(opts).await {
            Ok(p) => p,
            Err(d) => panic!("plan failed:\n{}", self.render(&d)),
        }
    }

    /// Plans in `mode`; panics when planning fails.
    pub async fn plan_mode(&self, mode: PlanMode) -> Plan {
        match self.try_plan_mode(mode).await {
            Ok(p) => p,
            Err(d) => panic!("plan failed:\n{}", self.render(&d)),
        }
    }

    /// A normal plan; panics when planning fails.
    pub async fn plan(&self) -> Plan {
        self.plan_mode(PlanMode::default()).await
    }

    /// Applies `plan`, with interrupts delivered through `interrupt`, while `during` runs
    /// alongside (e.g. to open gates and send interrupts). Compacts state afterwards, as the
    /// CLI does.
    pub async fn apply_during<F: Future<Output = ()>>(
        &self,
        plan: &Plan,
        interrupt: watch::Receiver<u32>,
        during: F,
    ) -> (Result<ApplyReport, EngineError>, Arc<Collect>) {
        let events = Arc::new(Collect::default());
        let mut writer = self
            .backend
            .open_writer(self.backend.current().unwrap_or_default())
            .expect("open writer");
        let input = ApplyInput {
            workspace: self.workspace(),
            plan,
        };
        let opts = ApplyOptions {
            parallelism: self.parallelism,
        };
        // Tests run with paused time: a hung apply trips this timeout at once instead of
        // hanging the test binary.
        let (result, ()) = tokio::time::timeout(Duration::from_secs(10 * 24 * 3600), async {
            tokio::join!(
                plinth_engine::apply(&input, &opts, writer.as_mut(), events.as_ref(), interrupt),
                during
            )
        })
        .await
        .expect("apply did not finish (hung)");
        writer.compact().expect("compact");
        (result, events)
    }

    /// Applies `plan`; the report may list failed and skipped operations.
    pub async fn try_apply(&self, plan: &Plan) -> Result<ApplyReport, EngineError> {
        let (_tx, rx) = watch::channel(0u32);
        self.apply_during(plan, rx, async {}).await.0
    }

    /// Applies `plan`; panics when apply cannot run at all (the report may still list
    /// failures: see `apply_ok`).
    pub async fn apply(&self, plan: &Plan) -> ApplyReport {
        match self.try_apply(plan).await {
            Ok(r) => r,
            Err(EngineError::Config(d)) => panic!("apply failed:\n{}", self.render(&d)),
            Err(e) => panic!("apply failed: {e}"),
        }
    }

    /// Applies `plan` and asserts that every operation succeeded.
    pub async fn apply_ok(&self, plan: &Plan) -> ApplyReport {
        let report = self.apply(plan).await;
        assert!(
            report.ok(),
            "apply reported problems: {:?} skipped {:?}",
            report.failures,
            report.skipped
        );
        report
    }

    /// Plans and applies; asserts the apply succeeded.
    pub async fn up(&self) -> (Plan, ApplyReport) {
        let plan = self.plan().await;
        let report = self.apply_ok(&plan).await;
        (plan, report)
    }

    /// Asserts that a fresh plan has nothing to do and shows no drift.
    pub async fn assert_converged(&self) {
        self.converged_plan().await;
    }

    /// Asserts `assert_converged`, and that refresh found no drift at all — not even in
    /// attributes the service changes by itself (which a normal plan does not show).
    pub async fn assert_converged_without_drift(&self) {
        let plan = self.converged_plan().await;
        assert!(plan.drift.is_empty(), "drift: {:#?}", plan.drift);
    }

    async fn converged_plan(&self) -> Plan {
        let plan = self.plan().await;
        let pending: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| c.action != Action::NoOp && c.action != Action::Read)
            .map(|c| format!("{} {}: {:?}", c.action, c.address, c.changed_paths))
            .collect();
        assert!(pending.is_empty(), "second plan is not empty: {pending:#?}");
        assert!(
            !plan.has_changes(),
            "second plan has changes: outputs {:?}",
            plan.outputs
        );
        // Changes the service makes by itself (what the provider calls volatile) are not
        // shown by a normal plan, so no apply writes them into state: they stay in the plan's
        // drift list, unshown, for a refresh-only plan to report. Changes to other attributes
        // the configuration does not set are shown ("not managed here") and fail this.
        let shown: Vec<_> = plan.drift.iter().filter(|d| d.is_reportable()).collect();
        assert!(shown.is_empty(), "second plan shows drift: {shown:?}");
        plan
    }
}
