//! Planning one managed resource or data source instance: the provider's diff against the
//! prior object, lifecycle rules (replace triggers, prevent_destroy, ignore_changes), drift put
//! back, and the change recorded.

use plinth_config::{Diagnostic, ResourceDecl};
use plinth_plan::{Action, Cascade, CascadeVia, ReplaceOrder, ResourceChange};
use plinth_provider::{NullReporter, Request, diff};
use plinth_state::{ResourceState, Status};
use plinth_value::{Path, Value};

use crate::addr::Address;
use crate::addr::DeclKind;
use crate::inputs;
use crate::marks;
use crate::scope::Iteration;

use super::existing::CreateCheck;
use super::join_paths;
use super::planner::Planner;
use super::review;

impl Planner<'_, '_> {
    pub(super) async fn plan_managed(
        &mut self,
        decl: &ResourceDecl,
        m: usize,
        addr: &Address,
        each: Iteration,
        deps: Vec<String>,
    ) -> Result<(), Diagnostic> {
        let (provider, t, schema, mut config) = self.provider_and_config(decl, m, addr, each)?;
        let address = addr.to_string();
        let (settings, settings_deps) = self.settings_at(m, &addr.module, &decl.type_name);
        let settings = settings.clone();
        let settings_deps = settings_deps.to_vec();
        let req = Request::new(&t, &address, &NullReporter).with_settings(&settings);
        let record = self
            .state
            .get(&address)
            .filter(|r| r.mode == plinth_state::DeclKind::Resource);
        // An `[[import]]` of an object state does not hold yet: what it reads is the prior.
        let imported = self
            .read_import(
                &address,
                record,
                provider.as_ref(),
                &req,
                &settings,
                &decl.type_name,
                &config,
            )
            .await?;
        // Refresh built the prior of a record it found unchanged: taken, not built again.
        let refreshed_prior = record.and_then(|_| self.state.take_prior(&address));
        let record = record.or(imported.as_ref().map(|i| &i.record));
        let prior = refreshed_prior
            .or_else(|| record.map(|r| marks::prior(self.input.workspace.registry, r)));
        // The secrets to scrub from a provider's message are found only when there is one.
        let provider_err = |e: plinth_provider::ProviderError, config: &Value| {
            Diagnostic::at(
                format!(
                    "planning `{address}` failed: {}",
                    plinth_value::scrub(&e.to_string(), &config.sensitive_texts())
                ),
                decl.loc.clone(),
            )
        };

        if let Some(p) = &prior {
            inputs::restore_ignored(&mut config, p, &decl.lifecycle.ignore_changes, |path| {
                provider.attribute_path(&t, path)
            });
        }
        // lifecycle.manage: attributes the configuration does not set, enforced (managed.rs).
        let pinned = match (&prior, self.state.recorded(&address)) {
            (Some(p), Some(r)) if !decl.lifecycle.manage.is_empty() && imported.is_none() => {
                let recorded = marks::prior(self.input.workspace.registry, r);
                let m = &decl.lifecycle.manage;
                super::managed::pin(&*provider, &t, &address, m, &recorded, p, &mut config)?
            }
            _ => super::managed::Pinned::default(),
        };

        let mut reason = None;
        let mut cascade = None;
        // Reasons are plain text: renderings style the addresses in them themselves.
        let forced: Option<(String, Option<Cascade>)> =
            if record.is_some_and(|r| r.status == Status::Tainted) {
                Some((
                    "tainted: a previous create or update failed part-way".to_string(),
                    None,
                ))
            } else if self
                .opts
                .replace
                .iter()
                .any(|r| *r == *addr || (r.key.is_none() && r.decl() == addr.decl()))
            {
                Some(("requested with --replace".to_string(), None))
            } else {
                decl.lifecycle
                    .replace_triggered_by
                    .iter()
                    .find_map(|t| {
                        let cause = super::planner::relative(&addr.module, &t.text);
                        let hit = self.action_of(&cause).into_iter().any(|a| {
                            matches!(a, Action::Create | Action::Update | Action::Replace)
                        });
                        hit.then(|| {
                            (
                                format!("replace_triggered_by: {cause} changes"),
                                Some(Cascade {
                                    cause,
                                    via: CascadeVia::ReplaceTriggeredBy,
                                }),
                            )
                        })
                    })
                    .or_else(|| {
                        moved(provider.settings_references(), record, &settings).map(|m| (m, None))
                    })
                    .or_else(|| {
                        // An object lives where its provider's settings point: a replaced
                        // cluster takes its objects with it.
                        settings_deps
                            .iter()
                            .find(|d| {
                                self.index
                                    .get(*d)
                                    .is_some_and(|&i| self.changes[i].action == Action::Replace)
                            })
                            .map(|d| {
                                (
                                    format!("{d}, which its provider's settings name, is replaced"),
                                    Some(Cascade {
                                        cause: d.clone(),
                                        via: CascadeVia::ProviderSettings,
                                    }),
                                )
                            })
                    })
            };

        let (action, mut planned) = match &prior {
            None => (
                Action::Create,
                provider
                    .plan(&req, None, &config)
                    .await
                    .map_err(|e| provider_err(e, &config))?,
            ),
            Some(p) => {
                let mut planned = provider
                    .plan(&req, Some(p), &config)
                    .await
                    .map_err(|e| provider_err(e, &config))?;
                // A value the configuration sets that was on the object and was removed
                // outside plinth is put back, whatever a provider assumes about fields its
                // service does not return (write-only ones look the same).
                if let Some(gone) = self.removed_by_drift.get(&address) {
                    for ip in config.leaf_paths() {
                        if provider
                            .attribute_path(&t, &ip)
                            .is_some_and(|a| gone.iter().any(|g| a.overlaps(g)))
                            && !planned.changed.iter().any(|c| c.overlaps(&ip))
                        {
                            planned.changed.push(ip);
                        }
                    }
                }
                // A managed attribute changed outside plinth is put back (managed.rs).
                for ip in &pinned.drifted {
                    if !planned.changed.iter().any(|c| c.overlaps(ip)) {
                        planned.changed.push(ip.clone());
                    }
                }
                // A change only in what the service owns (a resource version, a uid, a
                // timestamp) is never an update: the service changes those by itself.
                // Replacements keep theirs (another uid means another object).
                planned.changed.retain(|ip| {
                    planned.requires_replace.contains(ip)
                        || !provider
                            .attribute_path(&t, ip)
                            .is_some_and(|a| provider.is_volatile(&t, &a))
                });
                if let Some((f, c)) = forced {
                    reason = Some(f);
                    cascade = c;
                    let fresh = provider
                        .plan(&req, None, &config)
                        .await
                        .map_err(|e| provider_err(e, &config))?;
                    (
                        Action::Replace,
                        plinth_provider::Planned {
                            attributes: fresh.attributes,
                            ..planned
                        },
                    )
                } else if decl.lifecycle.ignore_all_changes {
                    (
                        Action::NoOp,
                        plinth_provider::Planned {
                            attributes: p.attributes.clone(),
                            changed: vec![],
                            requires_replace: vec![],
                        },
                    )
                } else if !planned.requires_replace.is_empty() {
                    (Action::Replace, planned)
                } else if !planned.changed.is_empty() {
                    (Action::Update, planned)
                } else {
                    (
                        Action::NoOp,
                        plinth_provider::Planned {
                            attributes: p.attributes.clone(),
                            ..planned
                        },
                    )
                }
            }
        };
        if action == Action::Replace && decl.lifecycle.prevent_destroy {
            let why = if planned.requires_replace.is_empty() {
                reason.clone().unwrap_or_default()
            } else {
                format!(
                    "{} cannot change in place",
                    join_paths(&planned.requires_replace)
                )
            };
            return Err(Diagnostic::at(format!("`{address}` has lifecycle.prevent_destroy, but this plan would replace it ({why})"), decl.loc.clone())
                .label("prevent_destroy = true")
                .help("revert the change that forces replacement, or remove prevent_destroy if destroying it is intended"));
        }
        let drift = action == Action::Update
            && imported.is_none()
            && prior.as_ref().is_some_and(|p| {
                // Drift only when the configuration is exactly what was last applied (in
                // both directions: a key removed from the configuration is an intended change).
                !matches!(p.inputs, Value::Null)
                    && diff::changed_paths(&config, &p.inputs, &diff::ExactEq).is_empty()
                    && diff::changed_paths(&p.inputs, &config, &diff::ExactEq).is_empty()
            });
        let drift = drift
            || (action == Action::Update
                && imported.is_none()
                && (!pinned.drifted.is_empty() || pinned.as_applied));
        // What the provider planned (a dry run's answer) carries no marks of its own.
        marks::mark_with(
            &*provider,
            &t,
            Some(&schema),
            &config,
            &mut planned.attributes,
        );
        let complete = action == Action::NoOp;
        // A no-op's `after` stays in the scope until the plan is done (after_in_values).
        let noop_annotations =
            complete.then(|| review::annotations(&*provider, &t, &planned.attributes));
        if complete {
            let attributes = std::mem::take(&mut planned.attributes);
            self.values.set(addr, attributes, complete);
            self.after_in_values
                .push((self.changes.len(), addr.clone()));
        } else {
            self.values.set(addr, planned.attributes.clone(), complete);
        }
        let replace_order =
            (action == Action::Replace).then_some(if decl.lifecycle.create_before_destroy {
                ReplaceOrder::CreateThenDelete
            } else {
                ReplaceOrder::DeleteThenCreate
            });
        let id = match action {
            Action::Create | Action::Replace => provider.planned_id(&t, &config),
            _ => prior.as_ref().and_then(|p| p.id.clone()),
        };
        if action == Action::Create
            && let Some(id) = &id
        {
            self.create_checks.push(CreateCheck {
                address: address.clone(),
                settings: settings.clone(),
                provider: provider.clone(),
                type_name: t.clone(),
                id: id.clone(),
                config: config.clone(),
                loc: decl.loc.clone(),
            });
        }
        let changed_inputs = if action == Action::NoOp {
            vec![]
        } else {
            planned.changed
        };
        let replace_inputs = if action == Action::Replace {
            planned.requires_replace
        } else {
            vec![]
        };
        // One path language: the plan names attribute paths, which resolve in `before` and
        // `after` (a write-only input stays an input path, see `review::attribute_of`).
        let pairs: Vec<(Path, Path)> = changed_inputs
            .iter()
            .chain(&replace_inputs)
            .map(|ip| (ip.clone(), review::attribute_of(&*provider, &t, ip)))
            .collect();
        let changed_paths = review::attribute_paths(&*provider, &t, &changed_inputs);
        let replace_paths = review::attribute_paths(&*provider, &t, &replace_inputs);
        // The prior is not needed past here: its attributes move into `before` (one copy of
        // every object's attributes fewer; at 100,000 resources a no-op plan made 100,000).
        let (prior_inputs, mut before) = prior.map(|p| (p.inputs, p.attributes)).unzip();
        let mut after = planned.attributes;
        if action != Action::NoOp {
            let gone = self
                .removed_by_drift
                .get(&address)
                .map_or(&[][..], Vec::as_slice);
            review::show_write_only(
                &pairs,
                prior_inputs.as_ref(),
                &config,
                gone,
                before.as_mut(),
                &mut after,
            );
        }
        let bookkeeping = if matches!(action, Action::Create | Action::Replace) {
            let refs = self.read_paths(m, &decl.name);
            review::bookkeeping(&*provider, &t, &after, &refs)
        } else {
            vec![]
        };
        let annotations =
            noop_annotations.unwrap_or_else(|| review::annotations(&*provider, &t, &after));
        self.push(ResourceChange {
            address,
            name: decl.name.clone(),
            type_name: decl.type_name.clone(),
            kind: DeclKind::Resource,
            action,
            replace_order,
            id,
            before,
            after: (!complete).then_some(after),
            // A no-op has nothing to apply: its inputs are not kept (10,000 of them are memory).
            // An import records the configuration as the object's inputs at apply.
            config: (action != Action::NoOp || imported.is_some()).then_some(config),
            changed_paths,
            attribute_paths: vec![],
            replace_paths,
            reason,
            drift,
            depends_on: deps,
            moved_from: None,
            importing: imported.map(|i| i.importing),
            annotations,
            bookkeeping,
            cascade,
        });
        Ok(())
    }

    pub(super) async fn plan_data(
        &mut self,
        decl: &ResourceDecl,
        m: usize,
        addr: &Address,
        each: Iteration,
        deps: Vec<String>,
    ) -> Result<(), Diagnostic> {
        let (provider, t, schema, config) = self.provider_and_config(decl, m, addr, each)?;
        let address = addr.to_string();
        // Reading now would see what is about to change: defer to apply (as Terraform does)
        // when anything this data source depends on, by reference or depends_on, changes.
        // So does one whose preconditions are unknown: nothing is read before they hold.
        let pending_dep = self.stopped.read_later(&address)
            || deps.iter().any(|d| {
                self.action_of(d).iter().any(|a| {
                    matches!(
                        a,
                        Action::Create | Action::Update | Action::Replace | Action::Delete
                    )
                })
            });
        let before = self
            .state
            .get(&address)
            .map(|r| marks::prior(self.input.workspace.registry, r).attributes);
        let (settings, _) = self.settings_at(m, &addr.module, &decl.type_name);
        let (after, complete) =
            if config.is_wholly_known() && settings.is_wholly_known() && !pending_dep {
                let reporter = crate::reporter::SinkReporter(self.events);
                let req = Request::new(&t, &address, &reporter).with_settings(settings);
                let obs = provider.read_data(&req, &config).await.map_err(|e| {
                    Diagnostic::at(format!("reading `{address}` failed: {e}"), decl.loc.clone())
                })?;
                let mut attrs = obs.attributes;
                marks::mark_with(&*provider, &t, Some(&schema), &config, &mut attrs);
                (attrs, true)
            } else {
                (Value::Unknown, false)
            };
        self.values.set(addr, after.clone(), complete);
        let annotations = if complete {
            review::annotations(&*provider, &t, &after)
        } else {
            vec![]
        };
        self.push(ResourceChange {
            address,
            name: decl.name.clone(),
            type_name: decl.type_name.clone(),
            kind: DeclKind::Data,
            action: Action::Read,
            replace_order: None,
            id: None,
            before,
            after: Some(after),
            config: Some(config),
            changed_paths: vec![],
            attribute_paths: vec![],
            replace_paths: vec![],
            reason: (!complete).then(|| {
                "read during apply: its configuration depends on values known only after apply"
                    .to_string()
            }),
            drift: false,
            depends_on: deps,
            moved_from: None,
            importing: None,
            annotations,
            bookkeeping: vec![],
            cascade: None,
        });
        Ok(())
    }
}

/// Why an object must be replaced because its provider's settings now point elsewhere (a
/// Kubernetes object whose `cluster` changed): compared on the keys that say where objects
/// live, between the settings recorded with the object and the planned ones (when known).
pub(super) fn moved(
    keys: &[&str],
    record: Option<&ResourceState>,
    planned: &Value,
) -> Option<String> {
    let recorded = Value::from(record?.settings.clone()?);
    keys.iter().find_map(|k| {
        let path = Path::root().key(k);
        let now = planned.get(&path).unwrap_or(Value::Null);
        let was = recorded.get(&path).unwrap_or(Value::Null);
        (now.is_wholly_known() && now != was).then(|| {
            format!(
                "its provider's {k} changed from {} to {}: it is created where the settings now point and deleted where it was",
                was.render(),
                now.render()
            )
        })
    })
}
