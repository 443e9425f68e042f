//! The ServiceAccounts' links: the client-id annotation names an identity that trusts them.

use super::*;

impl<'p> Chain<'p, '_> {
    pub(super) fn account_rules(&mut self) {
        let mut found = Vec::new();
        for account in &self.accounts {
            let (Some(ns), Some(name)) = (account.ns.as_deref(), account.name.as_deref()) else {
                continue;
            };
            let addr = account.obj.address();
            let subject = format!("system:serviceaccount:{ns}:{name}");
            let trusting: Vec<&Credential<'_>> = self
                .index
                .credential_by_subject
                .get(&subject)
                .map(|cs| cs.iter().map(|&c| &self.credentials[c]).collect())
                .unwrap_or_default();
            let unknown_subjects = self.index.unknown_subject;
            let a = &account.client_id;
            if trusting.is_empty() {
                if a.is_missing() || unknown_subjects || self.partial {
                    continue;
                }
                for i in self.matching(a, CLIENT_ID).0 {
                    {
                        let i = self.identities[i].obj.address();
                        found.push((
                            "credential",
                            account.obj.clone(),
                            Some(annotation_path()),
                            format!(
                                "ServiceAccount {ns}/{name} ({addr}) names identity {i} in its {CLIENT_ID_ANNOTATION} annotation, but no federated credential of {i} trusts {subject}: Entra ID refuses its pods' tokens (AADSTS70021)"
                            ),
                            format!(
                                "add a federated credential under {i} (azure:{CREDENTIAL}@2024-11-30, parent = its id) with subject = \"{subject}\", the cluster's OIDC issuer and audiences = [\"{AUDIENCE}\"]"
                            ),
                        ));
                    }
                }
                continue;
            }
            let parents: Vec<usize> = trusting
                .iter()
                .filter_map(|c| self.identity_by_id(c.parent.as_ref()))
                .collect();
            let mut creds: Vec<String> = trusting
                .iter()
                .take(LISTED)
                .map(|c| c.obj.address().to_string())
                .collect();
            if trusting.len() > LISTED {
                creds.push(format!("and {} more", trusting.len() - LISTED));
            }
            if a.is_missing() {
                let who = parents
                    .first()
                    .map(|&i| self.identities[i].obj.address().to_string())
                    .unwrap_or_else(|| self.parent_name(trusting[0]));
                found.push((
                    "client-id",
                    account.obj.clone(),
                    None,
                    format!(
                        "ServiceAccount {ns}/{name} ({addr}) is trusted by federated credential {} of identity {who}, but has no {CLIENT_ID_ANNOTATION} annotation: the workload identity webhook gives its pods no AZURE_CLIENT_ID",
                        creds.join(", ")
                    ),
                    format!(
                        "annotate it with the identity's client id: metadata.annotations = {{ \"{CLIENT_ID_ANNOTATION}\" = {} }}",
                        reference(&who, CLIENT_ID)
                    ),
                ));
                continue;
            }
            if parents.len() < trusting.len() {
                // A credential of an identity outside the plan: its client id is not here.
                continue;
            }
            // Whether the annotation names one of the trusting identities: through the index
            // (conservative: an identity the plan cannot tell about keeps it a Maybe).
            let (named, overall) = self.matching(a, CLIENT_ID);
            let tri = if named.iter().any(|i| parents.contains(i)) {
                Tri::Yes
            } else if overall == Tri::Maybe {
                Tri::Maybe
            } else {
                Tri::No
            };
            if tri == Tri::No {
                let ids: Vec<String> = parents
                    .iter()
                    .take(LISTED)
                    .map(|&i| {
                        let ident = &self.identities[i];
                        format!(
                            "{}'s client id is {}",
                            ident.obj.address(),
                            ident.client_id.show()
                        )
                    })
                    .collect();
                let first = self.identities[parents[0]].obj.address();
                found.push((
                    "client-id",
                    account.obj.clone(),
                    Some(annotation_path()),
                    format!(
                        "ServiceAccount {ns}/{name} ({addr}) has {CLIENT_ID_ANNOTATION} {}, which is not the client id of the identity its federated credential {} belongs to ({}): its pods ask Entra ID for an identity that does not trust them",
                        a.show(),
                        creds.join(", "),
                        ids.join("; ")
                    ),
                    format!(
                        "set the annotation to the identity's client id: {}",
                        reference(first, CLIENT_ID)
                    ),
                ));
            }
        }
        for (rule, obj, attr, message, fix) in found {
            self.push(rule, &obj, attr, message, fix);
        }
    }
}
