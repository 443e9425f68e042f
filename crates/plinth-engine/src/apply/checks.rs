//! `[check.NAME]` blocks at the end of an apply, with actual values: in every module instance
//! the plan has objects in (and the root), the scoped data sources are read now, then the
//! assertions evaluated. Never a failure of the run: a false assertion or a failed read is a
//! failed check in `ApplyReport::checks`.

use std::collections::{BTreeSet, HashMap};

use plinth_addr::ModuleStep;
use plinth_plan::{CheckResult, CheckStatus};
use plinth_provider::Request;

use super::runner::Runner;
use crate::addr::Address;
use crate::marks;
use crate::plan::{check_address, judge};
use crate::scope::{ConditionScope, DeclValue, Inst};
use crate::settings::prefix_of;

/// A scoped data source of a check, ready to be read: everything the request needs, owned,
/// so that no borrow of the runner (which is not `Sync`) lives across the read's `await`.
struct ScopedRead {
    name: String,
    shown: String,
    address: String,
    type_name: String,
    provider: std::sync::Arc<dyn plinth_provider::Provider>,
    short_type: String,
    config: plinth_value::Value,
    settings: plinth_value::Value,
}

impl Runner<'_, '_> {
    /// Every check of every module instance the plan touches, in module instance order.
    /// Takes `&mut self` only so that the future stays `Send`: the runner is not `Sync`.
    pub(super) async fn apply_checks(&mut self) -> Vec<CheckResult> {
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
            let config = self.tree.get(m).config;
            for check in &config.checks {
                out.push(self.apply_check(&inst, check).await);
            }
        }
        out
    }

    async fn apply_check(
        &mut self,
        inst: &[ModuleStep],
        check: &plinth_config::CheckDecl,
    ) -> CheckResult {
        let address = check_address(inst, &check.name);
        let fail = |message: String| CheckResult {
            address: address.clone(),
            status: CheckStatus::Fail,
            messages: vec![message],
        };
        // What to read, prepared while the scope borrows the runner ...
        let reads = match self.scoped_reads(inst, check) {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        // ... the reads, with owned values only ...
        let events = self.events;
        let mut data = HashMap::new();
        for read in reads {
            let value = match read {
                Err(name) => (name, DeclValue::Unknown),
                Ok(r) => match read_now(events, self.input.workspace.registry, r).await {
                    Ok(v) => v,
                    Err(message) => return fail(message),
                },
            };
            data.insert(value.0, value.1);
        }
        // ... and the assertions in a scope built again.
        let scope = match self.scope_at(inst) {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let ctx = ConditionScope {
            data: Some(&data),
            ..ConditionScope::new(&scope)
        };
        judge(self.input.workspace.config, address, check, &ctx)
    }

    /// The scoped data sources of `check` evaluated in `inst`'s scope: each ready to read,
    /// or `Err(name)` when its inputs are unknown (what they refer to failed or did not run).
    #[allow(clippy::type_complexity)]
    fn scoped_reads(
        &self,
        inst: &[ModuleStep],
        check: &plinth_config::CheckDecl,
    ) -> Result<Vec<Result<ScopedRead, String>>, String> {
        let scope = self.scope_at(inst)?;
        let registry = self.input.workspace.registry;
        let mut out = Vec::new();
        for d in &check.data {
            let Some((provider, t)) = registry.lookup(&d.type_name) else {
                return Err(format!("`{}`: unknown type `{}`", d.address(), d.type_name));
            };
            let mut config = d
                .inputs
                .eval(&scope)
                .map_err(|e| format!("`{}`: {}", d.address(), e.message))?;
            if let Some(schema) = provider.schema(&t) {
                plinth_provider::diff::mark_sensitive(&schema, &mut config);
            }
            if !config.is_wholly_known() {
                out.push(Err(d.name.clone()));
                continue;
            }
            let settings = self.settings_in(inst, prefix_of(&d.type_name))?;
            let address = Address {
                module: inst.to_vec(),
                ..Address::new(crate::addr::DeclKind::Data, d.name.clone(), None)
            }
            .to_string();
            out.push(Ok(ScopedRead {
                name: d.name.clone(),
                shown: d.address(),
                address,
                type_name: d.type_name.clone(),
                provider: provider.clone(),
                short_type: t,
                config,
                settings,
            }));
        }
        Ok(out)
    }
}

/// Reads one scoped data source now.
async fn read_now(
    events: &dyn crate::events::EventSink,
    registry: &plinth_provider::Registry,
    r: ScopedRead,
) -> Result<(String, DeclValue), String> {
    let reporter = crate::reporter::SinkReporter(events);
    let req = Request::new(&r.short_type, &r.address, &reporter).with_settings(&r.settings);
    let obs = r.provider.read_data(&req, &r.config).await.map_err(|e| {
        format!(
            "reading `{}` failed: {}",
            r.shown,
            plinth_value::scrub(&e.to_string(), &r.config.sensitive_texts())
        )
    })?;
    let mut attrs = obs.attributes;
    marks::mark_attributes(registry, &r.type_name, &r.config, &mut attrs);
    Ok((
        r.name,
        DeclValue::Single(Inst {
            value: attrs,
            complete: true,
        }),
    ))
}
