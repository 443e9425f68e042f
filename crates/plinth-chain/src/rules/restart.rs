//! The keda-operator restarted after its credential or annotation changes.

use super::*;

impl<'p> Chain<'p, '_> {
    pub(super) fn restart_rules(&mut self) {
        // The restarts of KEDA's operator, with the namespace each restarts it in.
        let restarts: Vec<(&ResourceChange, String)> = self
            .objects
            .restarts
            .iter()
            .filter_map(|r| {
                let ns = operator_target_ns(&config_str(r, "target")?)?.to_string();
                Some((*r, ns))
            })
            .collect();
        // What changes the operator's identity, and the namespace of the operator it is for.
        let mut watched: Vec<(Obj<'p>, &str, String)> = self
            .credentials
            .iter()
            .filter_map(|c| {
                let ns = operator_subject_ns(c.subject.known()?)?;
                Some((c.obj.clone(), "federated credential", ns.to_string()))
            })
            .collect();
        watched.extend(self.accounts.iter().filter_map(|a| {
            let ns = a.operator_ns()?;
            (!a.client_id.is_missing())
                .then(|| (a.obj.clone(), "client-id annotation", ns.to_string()))
        }));
        let configured = self.tracer.has_config();
        // Per operator namespace: what the restarts' `on` lists name (instances, and whole
        // declarations), what the restarts that run in this plan come after, and the restarts
        // by module instance.
        let mut on_instances = std::collections::HashSet::new();
        let mut on_decls = std::collections::HashSet::new();
        let mut run_after = std::collections::HashSet::new();
        let mut by_module: HashMap<(&str, Vec<plinth_addr::ModuleStep>), &str> = HashMap::new();
        for (r, ns) in &restarts {
            for a in self.tracer.action_on(&r.address).unwrap_or_default() {
                if a.key.is_some() {
                    on_instances.insert((ns.as_str(), a));
                } else {
                    on_decls.insert((ns.as_str(), a));
                }
            }
            if r.action == Action::Run {
                run_after.extend(r.depends_on.iter().map(|d| (ns.as_str(), d.as_str())));
            }
            if let Ok(a) = r.address.parse::<Address>() {
                by_module
                    .entry((ns.as_str(), a.module))
                    .or_insert(r.address.as_str());
            }
        }
        let mut found = Vec::new();
        for (obj, what, ns) in watched {
            let addr = obj.address();
            let Ok(parsed) = addr.parse::<Address>() else {
                continue;
            };
            let key = ns.as_str();
            if on_instances.contains(&(key, parsed.clone()))
                || on_decls.contains(&(key, parsed.decl()))
            {
                continue;
            }
            if obj.changes() && run_after.contains(&(key, addr)) {
                continue;
            }
            if !obj.changes() && !configured {
                continue;
            }
            // The restart of this operator beside it (else any of it), whose `on` the fix
            // adds it to.
            let restart = by_module
                .get(&(key, parsed.module.clone()))
                .copied()
                .or_else(|| {
                    restarts
                        .iter()
                        .find(|(_, n)| *n == ns)
                        .map(|(r, _)| r.address.as_str())
                });
            // Written in the `on` of that action, or of one declared beside it.
            let relative = relative_to(&parsed, Some(restart.unwrap_or(addr)));
            let target = format!("{ns}/Deployment/{KEDA_SA}");
            let fix = match restart {
                Some(r) => format!("add \"{relative}\" to the `on` list of {r}"),
                None => format!(
                    "declare an action: type = \"k8s:rollout-restart\", target = \"{target}\", on = [\"{relative}\"] (beside {addr})"
                ),
            };
            let when = if obj.changes() {
                format!(
                    "{addr} ({what} of {ns}/{KEDA_SA}) changes in this plan, but nothing restarts {target} after it"
                )
            } else {
                format!(
                    "no k8s:rollout-restart of {target} runs when {addr} ({what} of {ns}/{KEDA_SA}) changes"
                )
            };
            found.push((
                obj,
                format!(
                    "{when}: KEDA's operator reads its identity only when it starts (Azure/AKS#5243), so its scalers keep failing with the credential it started with"
                ),
                fix,
            ));
        }
        for (obj, message, fix) in found {
            self.push("restart", &obj, None, message, fix);
        }
    }
}
