//! `[check.NAME]` blocks at the end of an apply, with actual values: in every module instance
//! the plan has objects in (and the root), the scoped data sources are read now, then the
//! assertions evaluated. Never a failure of the run: a false assertion or a failed read is a
//! failed check in `ApplyReport::checks`.

use std::collections::{BTreeSet, HashMap};

use plinth_addr::ModuleStep;
use plinth_config::ResourceDecl;
use plinth_plan::{CheckResult, CheckStatus};
use plinth_provider::Request;

use super::runner::Runner;
use crate::addr::Address;
use crate::marks;
use crate::plan::{check_address, judge};
use crate::scope::{ConditionScope, DeclValue, Inst};
use crate::settings::prefix_of;

impl Runner<'_, '_> {
    /// Every check of every module instance the plan touches, in module instance order.
    pub(super) async fn apply_checks(&self) -> Vec<CheckResult> {
        let mut insts: BTreeSet<Vec<ModuleStep>> = std::iter::once(Vec::new()).collect();
        for c in &self.input.plan.changes {
            if let Ok(a) = c.address.parse::<Address>() {
                insts.insert(a.module);
            }
        }
        let mut out = Vec::new();
        for inst in insts {
            let Some(m) = self.tree.of_instance(&inst) else {
                continue;
            };
            for check in &self.tree.get(m).config.checks {
                out.push(self.apply_check(&inst, check).await);
            }
        }
        out
    }

    async fn apply_check(
        &self,
        inst: &[ModuleStep],
        check: &plinth_config::CheckDecl,
    ) -> CheckResult {
        let address = check_address(inst, &check.name);
        let fail = |message: String| CheckResult {
            address: address.clone(),
            status: CheckStatus::Fail,
            messages: vec![message],
        };
        let scope = match self.scope_at(inst) {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let mut data = HashMap::new();
        for d in &check.data {
            match self.read_scoped(inst, d, &scope).await {
                Ok(v) => {
                    data.insert(d.name.clone(), v);
                }
                Err(message) => return fail(message),
            }
        }
        let ctx = ConditionScope {
            data: Some(&data),
            ..ConditionScope::new(&scope)
        };
        judge(self.input.workspace.config, address, check, &ctx)
    }

    /// Reads one scoped data source of a check now; its value is unknown when its inputs are
    /// (what they refer to failed or did not run).
    async fn read_scoped(
        &self,
        inst: &[ModuleStep],
        d: &ResourceDecl,
        scope: &crate::scope::Scope<'_>,
    ) -> Result<DeclValue, String> {
        let registry = self.input.workspace.registry;
        let Some((provider, t)) = registry.lookup(&d.type_name) else {
            return Err(format!("`{}`: unknown type `{}`", d.address(), d.type_name));
        };
        let mut config = d
            .inputs
            .eval(scope)
            .map_err(|e| format!("`{}`: {}", d.address(), e.message))?;
        if let Some(schema) = provider.schema(&t) {
            plinth_provider::diff::mark_sensitive(&schema, &mut config);
        }
        if !config.is_wholly_known() {
            return Ok(DeclValue::Unknown);
        }
        let settings = self.settings_in(inst, prefix_of(&d.type_name))?;
        let address = Address {
            module: inst.to_vec(),
            ..Address::new(crate::addr::DeclKind::Data, d.name.clone(), None)
        }
        .to_string();
        let reporter = crate::reporter::SinkReporter(self.events);
        let req = Request::new(&t, &address, &reporter).with_settings(&settings);
        let obs = provider.read_data(&req, &config).await.map_err(|e| {
            format!(
                "reading `{}` failed: {}",
                d.address(),
                plinth_value::scrub(&e.to_string(), &config.sensitive_texts())
            )
        })?;
        let mut attrs = obs.attributes;
        marks::mark_attributes(registry, &d.type_name, &config, &mut attrs);
        Ok(DeclValue::Single(Inst {
            value: attrs,
            complete: true,
        }))
    }
}
