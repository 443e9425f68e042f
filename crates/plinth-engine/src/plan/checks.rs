//! `[check.NAME]` blocks at the end of a plan: in every instance of the module declaring
//! them, the scoped data sources are read (unless their inputs are unknown or what they
//! refer to changes in this plan: the check is then unknown), then the assertions are
//! evaluated with the planned values. Never an error: a false assertion, a failed read or an
//! assertion that cannot be evaluated is a failed check with a message.

use std::collections::HashMap;

use plinth_addr::ModuleStep;
use plinth_config::{CheckDecl, Config, ResourceDecl};
use plinth_plan::{Action, CheckResult, CheckStatus};
use plinth_provider::Request;

use crate::addr::{Address, DeclKind};
use crate::marks;
use crate::scope::{ConditionScope, DeclValue, Inst, Iteration, Outcome, eval_condition};

use super::planner::{Planner, relative};

/// `check.NAME`, with its module instance's prefix.
pub(crate) fn check_address(inst: &[ModuleStep], name: &str) -> String {
    if inst.is_empty() {
        format!("check.{name}")
    } else {
        format!("{}.check.{name}", Address::module_instance(inst.to_vec()))
    }
}

/// A scoped data source could not be read: why, or `None` when its value is unknown.
pub(crate) type ReadProblem = Option<String>;

/// Evaluates a check's assertions once its scoped data is known (`data`): the result.
pub(crate) fn judge(
    config: &Config,
    address: String,
    check: &CheckDecl,
    ctx: &ConditionScope<'_, '_>,
) -> CheckResult {
    let mut messages = Vec::new();
    let mut unknown = false;
    for a in &check.asserts {
        match eval_condition(a, ctx) {
            Ok(Outcome::True) => {}
            Ok(Outcome::Unknown) => unknown = true,
            Ok(Outcome::False(m)) => messages.push(m),
            Err(d) => messages.push(match &d.loc {
                Some(loc) => format!("{} ({})", d.message, config.sources.describe(loc)),
                None => d.message,
            }),
        }
    }
    let status = if !messages.is_empty() {
        CheckStatus::Fail
    } else if unknown {
        CheckStatus::Unknown
    } else {
        CheckStatus::Pass
    };
    CheckResult {
        address,
        status,
        messages,
    }
}

impl Planner<'_, '_> {
    /// Every check of every module instance planned, in module and file order.
    pub(super) async fn plan_checks(&mut self) -> Vec<CheckResult> {
        let mut out = Vec::new();
        for m in 0..self.tree.modules.len() {
            let config = self.tree.get(m).config;
            if config.checks.is_empty() {
                continue;
            }
            for inst in self.instances[m].clone() {
                for check in &config.checks {
                    out.push(self.plan_check(m, &inst, check).await);
                }
            }
        }
        out
    }

    async fn plan_check(&self, m: usize, inst: &[ModuleStep], check: &CheckDecl) -> CheckResult {
        let address = check_address(inst, &check.name);
        let mut data = HashMap::new();
        for d in &check.data {
            match self.read_scoped(m, inst, d).await {
                Ok(v) => {
                    data.insert(d.name.clone(), v);
                }
                Err(Some(problem)) => {
                    return CheckResult {
                        address,
                        status: CheckStatus::Fail,
                        messages: vec![problem],
                    };
                }
                Err(None) => {
                    data.insert(d.name.clone(), DeclValue::Unknown);
                }
            }
        }
        let scope = self.scope_in(m, inst, Iteration::None);
        let ctx = ConditionScope {
            data: Some(&data),
            ..ConditionScope::new(&scope)
        };
        judge(self.input.workspace.config, address, check, &ctx)
    }

    /// Reads one scoped data source of a check now; `Err(None)` when it cannot be read
    /// before apply (unknown inputs or settings, or what it refers to changes).
    async fn read_scoped(
        &self,
        m: usize,
        inst: &[ModuleStep],
        d: &ResourceDecl,
    ) -> Result<DeclValue, ReadProblem> {
        let addr = Address {
            module: inst.to_vec(),
            ..Address::new(DeclKind::Data, d.name.clone(), None)
        };
        let (provider, t, schema, config) = self
            .provider_and_config(d, m, &addr, Iteration::None)
            .map_err(|e| Some(format!("`{}`: {}", d.address(), e.message)))?;
        let pending = crate::refs::node_refs(&d.inputs)
            .into_iter()
            .any(|((k, n), _)| {
                let text = Address::new(k, n, None).to_string();
                self.action_of(&relative(inst, &text)).iter().any(|a| {
                    matches!(
                        a,
                        Action::Create | Action::Update | Action::Replace | Action::Delete
                    )
                })
            });
        let (settings, _) = self.settings_at(m, inst, &d.type_name);
        if pending || !config.is_wholly_known() || !settings.is_wholly_known() {
            return Err(None);
        }
        let reporter = crate::reporter::SinkReporter(self.events);
        let address = addr.to_string();
        let req = Request::new(&t, &address, &reporter).with_settings(settings);
        let obs = provider.read_data(&req, &config).await.map_err(|e| {
            Some(format!(
                "reading `{}` failed: {}",
                d.address(),
                plinth_value::scrub(&e.to_string(), &config.sensitive_texts())
            ))
        })?;
        let mut attrs = obs.attributes;
        marks::mark_with(&*provider, &t, Some(&schema), &config, &mut attrs);
        Ok(DeclValue::Single(Inst {
            value: attrs,
            complete: true,
        }))
    }
}
