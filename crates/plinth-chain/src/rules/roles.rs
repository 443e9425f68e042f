//! The data role on the trigger's Service Bus entity, and a principal id that is a client id.

use super::*;

impl<'p> Chain<'p, '_> {
    pub(super) fn data_role_rules(&mut self) {
        // (name, whether it is sensitive, lower-case id, address).
        let namespaces: Vec<(String, bool, Option<String>, String)> = self
            .objects
            .azure_of(SB_NAMESPACE)
            .filter_map(|o| {
                let (name, sensitive) = marked_str(&o.get(&path("name"))?)?;
                Some((name, sensitive, lower(o.str("id")), o.address().to_string()))
            })
            .collect();
        let by_name: HashMap<String, usize> = namespaces
            .iter()
            .enumerate()
            .map(|(i, (name, ..))| (name.to_ascii_lowercase(), i))
            .collect();
        let auths: HashMap<(bool, Option<&str>, &str), usize> = self
            .auths
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let ns = if a.cluster_scoped {
                    None
                } else {
                    a.ns.as_deref()
                };
                Some(((a.cluster_scoped, ns, a.name.as_deref()?), i))
            })
            .collect();
        let mut found = Vec::new();
        for kind in ["ScaledJob", "ScaledObject"] {
            for scaler in self.objects.kind(kind) {
                let Some(all) = scaler.get(&path("spec.triggers")) else {
                    continue;
                };
                let Some(triggers) = all.as_list() else {
                    continue;
                };
                let sns = scaler.namespace();
                for (n, trigger) in triggers.iter().enumerate() {
                    // A trigger's value, and whether it (or the list) is sensitive.
                    let m = |p: &str| {
                        let (v, sensitive) = marked_str(&trigger.get(&path(p))?)?;
                        Some((v, sensitive || all.is_sensitive()))
                    };
                    let s = |p: &str| m(p).map(|(v, _)| v);
                    if s("type").as_deref() != Some("azure-servicebus") {
                        continue;
                    }
                    let Some(auth_name) = s("authenticationRef.name") else {
                        continue;
                    };
                    let cluster_scoped = s("authenticationRef.kind").as_deref()
                        == Some("ClusterTriggerAuthentication");
                    let ns = if cluster_scoped { None } else { sns.as_deref() };
                    let Some(auth) = auths
                        .get(&(cluster_scoped, ns, auth_name.as_str()))
                        .map(|&a| &self.auths[a])
                    else {
                        continue;
                    };
                    if auth.resolved.is_empty() {
                        continue;
                    }
                    let Some((ns_name, ns_hidden)) = m("metadata.namespace") else {
                        continue;
                    };
                    let ns_name = namespace_name(&ns_name).to_string();
                    let ns_shown = bare(&ns_name, ns_hidden);
                    let saddr = scaler.address();
                    let at = format!("spec.triggers[{n}].metadata.namespace");
                    let Some((_, _, ns_id, _)) = by_name
                        .get(&ns_name.to_ascii_lowercase())
                        .map(|&i| &namespaces[i])
                    else {
                        if !namespaces.is_empty() {
                            let declared: Vec<String> = namespaces
                                .iter()
                                .map(|(name, hidden, _, a)| {
                                    format!("{a} is {}", quote(name, *hidden))
                                })
                                .collect();
                            found.push((
                                "data-role",
                                scaler.clone(),
                                Some(at),
                                format!(
                                    "{kind} {saddr}'s azure-servicebus trigger reads Service Bus namespace {}, which this plan does not declare ({}): no role in this plan lets KEDA read it",
                                    quote(&ns_name, ns_hidden),
                                    declared.join(", ")
                                ),
                                format!("name the namespace the queue is in: metadata.namespace = {}", reference(&namespaces[0].3, "name")),
                            ));
                        }
                        continue;
                    };
                    let Some(ns_id) = ns_id else { continue };
                    let (entity, what) = match (m("metadata.queueName"), m("metadata.topicName")) {
                        (Some((q, hidden)), _) => (
                            format!("{ns_id}/queues/{}", q.to_ascii_lowercase()),
                            format!("queue {ns_shown}/{}", bare(&q, hidden)),
                        ),
                        (None, Some((t, hidden))) => match m("metadata.subscriptionName") {
                            // The scaler reads the subscription's message count.
                            Some((sub, sub_hidden)) => (
                                format!(
                                    "{ns_id}/topics/{}/subscriptions/{}",
                                    t.to_ascii_lowercase(),
                                    sub.to_ascii_lowercase()
                                ),
                                format!(
                                    "subscription {ns_shown}/{}/{}",
                                    bare(&t, hidden),
                                    bare(&sub, sub_hidden)
                                ),
                            ),
                            None => (
                                format!("{ns_id}/topics/{}", t.to_ascii_lowercase()),
                                format!("topic {ns_shown}/{}", bare(&t, hidden)),
                            ),
                        },
                        (None, None) => (ns_id.clone(), format!("namespace {ns_shown}")),
                    };
                    for &i in &auth.resolved {
                        let ident = &self.identities[i];
                        let mut maybe = false;
                        let mut covering_weak = Vec::new();
                        let mut elsewhere = Vec::new();
                        let mut ok = false;
                        for (r, who) in self.roles_of(i) {
                            let role = &self.roles[r];
                            let (Some(r), Some(scope)) = (role.role, role.scope.as_ref()) else {
                                // A custom role (or an unknown one) may grant it, where its
                                // scope covers the entity.
                                maybe |= role.scope.as_ref().is_none_or(|s| covers(s, &entity));
                                continue;
                            };
                            let Some(r) = r else { continue };
                            if who == Tri::Maybe {
                                maybe |= r.manage && covers(scope, &entity);
                                continue;
                            }
                            match (covers(scope, &entity), r.manage) {
                                (true, true) => ok = true,
                                (true, false) => covering_weak.push(format!(
                                    "{} ({})",
                                    r.name,
                                    role.obj.address()
                                )),
                                (false, _) => elsewhere.push(format!(
                                    "{} on {} ({})",
                                    r.name,
                                    bare(scope, role.scope_sensitive),
                                    role.obj.address()
                                )),
                            }
                        }
                        if ok || maybe {
                            continue;
                        }
                        let iaddr = ident.obj.address();
                        let has = if !covering_weak.is_empty() {
                            format!(
                                "holds only {} there, and the scaler reads the message count through Service Bus's administration API, which needs the Manage claim of {MANAGE_ROLE}",
                                covering_weak.join(", ")
                            )
                        } else if !elsewhere.is_empty() {
                            format!("holds {}, which does not cover it", elsewhere.join(", "))
                        } else {
                            "holds no Service Bus data role on it, its namespace or above"
                                .to_string()
                        };
                        found.push((
                            "data-role",
                            scaler.clone(),
                            Some(at.clone()),
                            format!(
                                "identity {iaddr}, as which KEDA reads {what} for {kind} {saddr}, {has}: the scaler fails with 401 (Manage,EntityRead claims required)"
                            ),
                            format!(
                                "assign {MANAGE_ROLE} to {iaddr}: an azure:{ROLE_ASSIGNMENT}@2022-04-01 with parent = the queue's (or namespace's) id, roleDefinitionId = \"${{azure.role_definition_id(\\\"{MANAGE_ROLE}\\\")}}\" and principalId = {}",
                                reference(iaddr, PRINCIPAL_ID)
                            ),
                        ));
                    }
                }
            }
        }
        for (rule, obj, attr, message, fix) in found {
            self.push(rule, &obj, attr.map(|a| path(&a)), message, fix);
        }
    }

    /// A role assignment's principalId is an identity's client id: a classic slip (the two
    /// are GUIDs side by side on the identity).
    pub(super) fn principal_rules(&mut self) {
        let mut found = Vec::new();
        for role in &self.roles {
            for i in self.matching(&role.principal, CLIENT_ID).0 {
                let ident = &self.identities[i];
                if self.names(&role.principal, ident, CLIENT_ID) == Tri::Yes
                    && self.names(&role.principal, ident, PRINCIPAL_ID) != Tri::Yes
                {
                    let iaddr = ident.obj.address();
                    found.push((
                        role.obj.clone(),
                        format!(
                            "role assignment {} names identity {iaddr}'s client id as its principalId: Azure needs the principal (object) id, so the role goes to no one (PrincipalNotFound) or to another principal",
                            role.obj.address()
                        ),
                        format!("set principalId = {}", reference(iaddr, PRINCIPAL_ID)),
                    ));
                }
            }
        }
        for (obj, message, fix) in found {
            self.push("principal-id", &obj, Some(path(PRINCIPAL_ID)), message, fix);
        }
    }
}
