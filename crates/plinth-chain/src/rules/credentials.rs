//! The federated credentials' links: audience, issuer, the cluster's OIDC issuer and
//! workload identity, the subject.

use super::*;

impl<'p> Chain<'p, '_> {
    pub(super) fn credentials_rules(&mut self) {
        let mut flagged_clusters = BTreeSet::new();
        let mut found = Vec::new();
        for cred in &self.credentials {
            let addr = cred.obj.address();
            // Only credentials for Kubernetes service accounts are this chain's: one for
            // GitHub Actions (issuer https://token.actions.githubusercontent.com, subject
            // repo:org/x:ref:refs/heads/main) has nothing to do with the cluster.
            let (yes, overall) = self.issuer_matching(&cred.issuer);
            let from_cluster = yes.is_some()
                || matches!(&cred.issuer, Side::From(o) if self.index.cluster_by_address.contains_key(&o.address));
            let for_kubernetes = from_cluster
                || cred
                    .subject
                    .known()
                    .is_some_and(|s| s.starts_with(SA_PREFIX));
            if !for_kubernetes {
                continue;
            }

            // Audience.
            match cred.obj.get(&path("properties.audiences")) {
                Some(v) if v.is_unknown() => {}
                Some(v) => {
                    let items = v.as_list().unwrap_or_default();
                    let has = items.iter().any(|a| a.as_str() == Some(AUDIENCE));
                    let unknown = items.iter().any(Value::is_unknown);
                    if !has && !unknown {
                        let shown: Vec<String> = items
                            .iter()
                            .filter_map(marked_str)
                            .map(|(a, sensitive)| quote(&a, sensitive || v.is_sensitive()))
                            .collect();
                        found.push((
                            "audience",
                            cred.obj.clone(),
                            Some("properties.audiences"),
                            format!(
                                "federated credential {addr} accepts the audience {}, not {AUDIENCE}: Entra ID's token exchange, which the workload identity webhook's tokens are for, is refused (AADSTS700212)",
                                if shown.is_empty() { "list []".to_string() } else { shown.join(", ") }
                            ),
                            format!("set audiences = [\"{AUDIENCE}\"]"),
                        ));
                    }
                }
                None => found.push((
                    "audience",
                    cred.obj.clone(),
                    None,
                    format!("federated credential {addr} has no audiences: Entra ID exchanges only tokens for {AUDIENCE}"),
                    format!("set audiences = [\"{AUDIENCE}\"]"),
                )),
            }

            // Issuer: the OIDC issuer of a cluster in the plan.
            if !self.clusters.is_empty() {
                if let Some(i) = yes {
                    flagged_clusters.insert(i);
                } else if overall == Tri::No {
                    let mut clusters: Vec<String> = self
                        .clusters
                        .iter()
                        .take(LISTED)
                        .map(|c| match &c.issuer {
                            Side::Known { .. } => {
                                format!("{}'s is {}", c.obj.address(), c.issuer.show())
                            }
                            Side::Missing => format!(
                                "{} has none (its OIDC issuer is not enabled)",
                                c.obj.address()
                            ),
                            _ => format!("{}'s is known only after apply", c.obj.address()),
                        })
                        .collect();
                    if self.clusters.len() > LISTED {
                        clusters.push(format!("and {} more", self.clusters.len() - LISTED));
                    }
                    let slash = match (&cred.issuer, self.clusters.first().map(|c| &c.issuer)) {
                        (Side::Known { value: a, .. }, Some(Side::Known { value: b, .. }))
                            if a.trim_end_matches('/') == b.trim_end_matches('/') =>
                        {
                            " (they differ only in the trailing slash, and Entra ID compares issuers exactly)"
                        }
                        _ => "",
                    };
                    let first = self.clusters[0].obj.address();
                    found.push((
                        "issuer",
                        cred.obj.clone(),
                        Some("properties.issuer"),
                        format!(
                            "federated credential {addr} trusts the issuer {}, which is not the OIDC issuer of a cluster in this plan ({}){slash}: Entra ID refuses the cluster's service account tokens (AADSTS700211: no matching federated identity record for the presented issuer)",
                            cred.issuer.show(),
                            clusters.join("; ")
                        ),
                        format!(
                            "take the issuer from the cluster: issuer = {} (through a module input when the credential is in another module)",
                            reference(first, ISSUER_URL)
                        ),
                    ));
                }
            }

            // Subject: a declared ServiceAccount, or KEDA's operator.
            if let Some(subject) = cred.subject.known() {
                let hidden = matches!(
                    cred.subject,
                    Side::Known {
                        sensitive: true,
                        ..
                    }
                );
                match parse_subject(subject) {
                    None => found.push((
                        "subject",
                        cred.obj.clone(),
                        Some("properties.subject"),
                        format!(
                            "federated credential {addr} trusts the subject {}, which is not a Kubernetes service account's (system:serviceaccount:NAMESPACE:NAME): no pod's token matches it",
                            cred.subject.show()
                        ),
                        "write the subject as system:serviceaccount:NAMESPACE:NAME of the ServiceAccount the pods run as".into(),
                    )),
                    Some(_) if operator_subject_ns(subject).is_some() => {}
                    Some((ns, name)) if self.objects.any_kubernetes && !self.partial => {
                        let declared = self.index.accounts.contains(&(ns.to_string(), name.to_string()));
                        let unknown = self.index.unknown_account;
                        if !declared && !unknown {
                            let account = bare(&format!("{ns}/{name}"), hidden);
                            let names: Vec<String> = self
                                .accounts
                                .iter()
                                .filter_map(|a| Some(format!("{}/{}", a.ns.as_deref()?, a.name.as_deref()?)))
                                .collect();
                            let fix = match self.accounts.iter().find(|a| {
                                a.operator_ns().is_none()
                            }) {
                                Some(a) => format!(
                                    "declare ServiceAccount {account} (k8s:v1/ServiceAccount), or trust the one the pods run as: subject = \"system:serviceaccount:{}:{}\"",
                                    a.ns.as_deref().unwrap_or("default"),
                                    a.name.as_deref().unwrap_or_default()
                                ),
                                None => format!("declare ServiceAccount {account} (k8s:v1/ServiceAccount) and run the pods as it"),
                            };
                            found.push((
                                "subject",
                                cred.obj.clone(),
                                Some("properties.subject"),
                                format!(
                                    "federated credential {addr} trusts {}, but this plan declares no ServiceAccount {account} ({}) and it is not KEDA's operator ({KEDA_SA}, in {KEDA_NS} for the AKS add-on): no pod gets a token it accepts",
                                    cred.subject.show(),
                                    if names.is_empty() { "it declares none".to_string() } else { format!("it declares {}", names.join(", ")) }
                                ),
                                fix,
                            ));
                        }
                    }
                    Some(_) => {}
                }
            }
        }
        // The clusters whose issuer a credential trusts have the OIDC issuer and workload
        // identity on.
        for i in flagged_clusters {
            let c = &self.clusters[i];
            let addr = c.obj.address();
            for (rule, attr, what, why) in [
                (
                    "oidc-issuer",
                    "properties.oidcIssuerProfile.enabled",
                    "the OIDC issuer",
                    "Entra ID cannot read the keys its service account tokens are signed with",
                ),
                (
                    "workload-identity",
                    "properties.securityProfile.workloadIdentity.enabled",
                    "workload identity",
                    "the webhook that gives pods their projected token and AZURE_* environment does not run",
                ),
            ] {
                let on = c.obj.get(&path(attr));
                let enabled = match &on {
                    Some(v) if v.is_unknown() => continue,
                    Some(v) => v.as_bool() == Some(true),
                    None => false,
                };
                if !enabled {
                    found.push((
                        rule,
                        c.obj.clone(),
                        Some(attr),
                        format!(
                            "cluster {addr} is the issuer federated credentials trust, but {what} is not enabled on it ({attr} is {}): {why}",
                            on.map_or("not set".to_string(), |v| v.to_string())
                        ),
                        format!("set {attr} = true"),
                    ));
                }
            }
        }
        for (rule, obj, attr, message, fix) in found {
            self.push(rule, &obj, attr.map(path), message, fix);
        }
    }
}
