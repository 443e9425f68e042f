//! KEDA's TriggerAuthentications: `identityId`, and the credential for the operator's token.

use super::*;

impl<'p> Chain<'p, '_> {
    /// Whether a credential's subject is KEDA's operator's, in a namespace the plan runs it
    /// in (any, when the plan shows none).
    pub(super) fn trusts_operator(&self, subject: &Side) -> bool {
        subject
            .known()
            .and_then(operator_subject_ns)
            .is_some_and(|ns| {
                self.operator_namespaces.is_empty() || self.operator_namespaces.contains(ns)
            })
    }

    /// The identities whose credentials trust KEDA's operator.
    pub(super) fn keda_identities(&self) -> Vec<usize> {
        self.credentials
            .iter()
            .filter(|c| self.trusts_operator(&c.subject))
            .filter_map(|c| self.identity_by_id(c.parent.as_ref()))
            .collect()
    }

    pub(super) fn trigger_auth_rules(&mut self) {
        let keda_ns = self.keda_ns.clone();
        let keda = keda_subject(&keda_ns);
        let keda_ids = self.keda_identities();
        // The operator's ServiceAccount, the one with an annotation first.
        let operator = self
            .accounts
            .iter()
            .filter(|a| a.operator_ns().is_some())
            .min_by_key(|a| a.client_id.is_missing());
        let mut found = Vec::new();
        let mut resolved = Vec::new();
        for auth in &self.auths {
            if self.partial {
                resolved.push(vec![]);
                continue;
            }
            let addr = auth.obj.address();
            let what = format!(
                "{} {}",
                if auth.cluster_scoped {
                    "ClusterTriggerAuthentication"
                } else {
                    "TriggerAuthentication"
                },
                addr
            );
            let side = if auth.identity_id.is_missing() {
                match operator {
                    Some(op) if !op.client_id.is_missing() => op.client_id.clone(),
                    _ => {
                        found.push((
                            "identity-id",
                            auth.obj.clone(),
                            Some("spec.podIdentity"),
                            format!(
                                "{what} sets no spec.podIdentity.identityId, and this plan gives KEDA's operator's ServiceAccount ({keda_ns}/{KEDA_SA}) no {CLIENT_ID_ANNOTATION} annotation: KEDA's operator has no identity to authenticate as (the AKS add-on does not annotate it, Azure/AKS#5243)"
                            ),
                            format!("set spec.podIdentity.identityId to the identity's client id, or annotate {keda_ns}/{KEDA_SA}'s ServiceAccount with it (a k8s:fields resource)"),
                        ));
                        resolved.push(vec![]);
                        continue;
                    }
                }
            } else {
                auth.identity_id.clone()
            };
            let (yes, overall) = self.matching(&side, CLIENT_ID);
            if yes.is_empty()
                && overall == Tri::No
                && !self.identities.is_empty()
                && (!keda_ids.is_empty()
                    || matches!(&side, Side::From(o) if self.objects.is_azure(&o.address)))
            {
                let mut candidates: Vec<String> = keda_ids
                    .iter()
                    .take(LISTED)
                    .map(|&i| {
                        let ident = &self.identities[i];
                        format!(
                            "{} (client id {})",
                            ident.obj.address(),
                            ident.client_id.show()
                        )
                    })
                    .collect();
                if keda_ids.len() > LISTED {
                    candidates.push(format!("and {} more", keda_ids.len() - LISTED));
                }
                let fix = match keda_ids.first() {
                    Some(&i) => format!(
                        "set identityId = {}",
                        reference(self.identities[i].obj.address(), CLIENT_ID)
                    ),
                    None => format!(
                        "set identityId to the client id (properties.clientId) of the identity whose federated credential trusts {keda}"
                    ),
                };
                let attr = if auth.identity_id.is_missing() {
                    None
                } else {
                    Some("spec.podIdentity.identityId")
                };
                found.push((
                    "identity-id",
                    auth.obj.clone(),
                    attr,
                    format!(
                        "{what} makes KEDA authenticate as {}, which is not the client id of an identity in this plan that trusts {keda}{}",
                        side.show(),
                        if candidates.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", candidates.join(", "))
                        }
                    ),
                    fix,
                ));
            }
            for &i in &yes {
                let ident = &self.identities[i];
                let mine: Vec<&Credential<'_>> = ident
                    .id
                    .as_ref()
                    .and_then(|id| self.index.credential_by_parent.get(id))
                    .map(|cs| cs.iter().map(|&c| &self.credentials[c]).collect())
                    .unwrap_or_default();
                let trusts = mine.iter().any(|c| self.trusts_operator(&c.subject));
                let unknown = mine.iter().any(|c| c.subject.known().is_none());
                if !trusts && !unknown && ident.id.is_some() {
                    let iaddr = ident.obj.address();
                    found.push((
                        "credential",
                        auth.obj.clone(),
                        None,
                        format!(
                            "{what} makes KEDA's operator authenticate as identity {iaddr} with the token of its own ServiceAccount, but no federated credential of {iaddr} trusts {keda}: the scaler fails with AADSTS70021 (No matching federated identity record found)"
                        ),
                        format!(
                            "add a federated credential under {iaddr} with subject = \"{keda}\", the cluster's OIDC issuer and audiences = [\"{AUDIENCE}\"], and restart the operator after it (k8s:rollout-restart of {keda_ns}/Deployment/{KEDA_SA}, on = [the credential])"
                        ),
                    ));
                }
            }
            resolved.push(yes);
        }
        for (auth, r) in self.auths.iter_mut().zip(resolved) {
            auth.resolved = r;
        }
        for (rule, obj, attr, message, fix) in found {
            self.push(rule, &obj, attr.map(path), message, fix);
        }
    }
}
