//! The workload-identity chain, decided from the ARM resources' content: whether Entra
//! issues a token to a workload (the cluster's workload identity and OIDC issuer, the
//! identity with the client id, a federated identity credential matching issuer, subject and
//! audience — created before the workload's pods started), which Service Bus queue a host and
//! name reach, and whether a principal holds a data role at the queue's scope or above. Also
//! the queue's message count, which the workloads change. Role assignments and federated
//! credentials count only once propagated ([`clock`]): until then Azure answers as if they
//! did not exist (the same 401 and AADSTS70021 texts).

use serde_json::{Value, json};

use super::clock;
use super::kube::s;
use crate::arm::{self, Resource, roles};

const AUDIENCE: &str = "api://AzureADTokenExchange";
/// The issuer of service account tokens when the OIDC issuer is off.
const DEFAULT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
const UAI: &str = "microsoft.managedidentity/userassignedidentities";
const FIC: &str = "microsoft.managedidentity/userassignedidentities/federatedidentitycredentials";
const SBNS: &str = "microsoft.servicebus/namespaces";
const RA: &str = "microsoft.authorization/roleassignments";

/// The Azure side of one cluster's round: its AKS resource and the ARM store.
pub(super) struct Azure<'a> {
    /// The cluster's AKS resource body (`None` while it is being deleted).
    pub aks: Option<&'a Value>,
    pub store: &'a mut arm::Store,
}

/// A token Entra would issue for a workload identity.
pub(super) struct Identity {
    pub principal_id: String,
}

impl Azure<'_> {
    /// Whether Entra issues a token for the identity with `client_id` to a workload whose
    /// service account token has `subject` (issued by this cluster's OIDC issuer). With
    /// `started`, the workload's pods started at that logical time and hold on to what they
    /// got then: a credential created (or changed) later does not help them until a restart.
    pub(super) fn workload_identity(
        &self,
        webhook: bool,
        client_id: Option<&str>,
        subject: &str,
        started: Option<u64>,
    ) -> Result<Identity, String> {
        let enabled = self
            .aks
            .and_then(|a| a.pointer("/properties/securityProfile/workloadIdentity/enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !enabled || !webhook {
            return Err("DefaultAzureCredential: failed to acquire a token. WorkloadIdentityCredential: no token file specified. Check pod configuration or set TokenFilePath in the options".into());
        }
        let Some(client_id) = client_id else {
            return Err("DefaultAzureCredential: failed to acquire a token. WorkloadIdentityCredential: no client ID specified. Check pod configuration or set ClientID in the options".into());
        };
        let issuer = self
            .aks
            .filter(|a| a.pointer("/properties/oidcIssuerProfile/enabled") == Some(&json!(true)))
            .map(|a| s(a, "/properties/oidcIssuerProfile/issuerURL"))
            .filter(|i| !i.is_empty())
            .unwrap_or(DEFAULT_ISSUER);
        let uai = self.store.resources.iter().find(|(_, r)| {
            live_of_type(r, UAI)
                && s(&r.body, "/properties/clientId").eq_ignore_ascii_case(client_id)
        });
        let Some((uai_key, uai)) = uai else {
            return Err(format!(
                "WorkloadIdentityCredential authentication failed. AADSTS700016: Application with identifier '{client_id}' was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ));
        };
        let prefix = format!("{uai_key}/federatedidentitycredentials/");
        let matching: Vec<&Resource> = self
            .store
            .resources
            .iter()
            .filter(|(k, r)| k.starts_with(&prefix) && live_of_type(r, FIC))
            .map(|(_, r)| r)
            // Not yet propagated to the token exchange: Entra answers as if it did not exist.
            .filter(|r| clock::credential_effective(&self.store.settings, r.updated_ms))
            .filter(|r| {
                s(&r.body, "/properties/issuer") == issuer
                    && s(&r.body, "/properties/subject") == subject
                    && r.body
                        .pointer("/properties/audiences")
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(AUDIENCE)))
            })
            .collect();
        let no_match = format!(
            "WorkloadIdentityCredential authentication failed. AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: '{AUDIENCE}'."
        );
        if matching.is_empty() {
            return Err(no_match);
        }
        if let Some(started) = started
            && !matching.iter().any(|f| f.tick < started)
        {
            let fic = s(&matching[0].body, "/name");
            return Err(format!(
                "{no_match} (the keda-operator pods started before the federated identity credential '{fic}' existed and keep failing with the credential they started with: restart them, e.g. kubectl rollout restart deployment keda-operator -n kube-system)"
            ));
        }
        Ok(Identity {
            principal_id: s(&uai.body, "/properties/principalId").to_string(),
        })
    }

    /// The ARM key of queue `queue` of the namespace behind `host`.
    pub(super) fn queue(&self, host: &str, queue: &str) -> Result<String, String> {
        let unknown = || format!("dial tcp: lookup {host}: no such host");
        let name = host
            .to_ascii_lowercase()
            .strip_suffix(".servicebus.windows.net")
            .map(str::to_string)
            .ok_or_else(unknown)?;
        let (ns_key, _) = self
            .store
            .resources
            .iter()
            .find(|(_, r)| live_of_type(r, SBNS) && s(&r.body, "/name").eq_ignore_ascii_case(&name))
            .ok_or_else(unknown)?;
        let key = format!("{ns_key}/queues/{}", queue.to_ascii_lowercase());
        match self.store.resources.get(&key) {
            Some(r) if r.deleting_until_ms.is_none() => Ok(key),
            _ => Err(format!(
                "(NotFound) The messaging entity 'sb://{host}/{queue}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions."
            )),
        }
    }

    /// Whether `principal` holds one of `role_names` at `target`'s scope or above.
    pub(super) fn has_role(&self, principal: &str, target: &str, role_names: &[&str]) -> bool {
        let guids: Vec<&str> = role_names
            .iter()
            .filter_map(|n| roles::by_name(n))
            .map(|i| roles::BUILT_IN[i].1)
            .collect();
        self.store.resources.values().any(|r| {
            if !live_of_type(r, RA)
                || !clock::role_assignment_effective(&self.store.settings, r.created_ms)
            {
                return false;
            }
            let p = &r.body["properties"];
            let role = s(p, "/roleDefinitionId")
                .rsplit('/')
                .next()
                .unwrap_or_default();
            let scope = s(p, "/scope").trim_end_matches('/').to_ascii_lowercase();
            s(p, "/principalId").eq_ignore_ascii_case(principal)
                && guids.iter().any(|g| g.eq_ignore_ascii_case(role))
                && (scope.is_empty() || target == scope || target.starts_with(&format!("{scope}/")))
        })
    }

    /// The active message count of queue `key`.
    pub(super) fn queue_count(&self, key: &str) -> i64 {
        queue_count(self.store, key)
    }

    /// Sets the message count of queue `key` (a producer sent, a consumer received).
    pub(super) fn set_queue_count(&mut self, key: &str, count: i64) {
        set_queue_count(self.store, key, count)
    }
}

fn live_of_type(r: &Resource, lower_type: &str) -> bool {
    r.deleting_until_ms.is_none()
        && r.body
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(lower_type))
}

fn queue_count(store: &arm::Store, key: &str) -> i64 {
    store
        .resources
        .get(key)
        .and_then(|r| {
            r.body
                .pointer("/properties/countDetails/activeMessageCount")
        })
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

fn set_queue_count(store: &mut arm::Store, key: &str, count: i64) {
    let Some(r) = store.resources.get_mut(key) else {
        return;
    };
    let p = &mut r.body["properties"];
    p["messageCount"] = json!(count);
    p["sizeInBytes"] = json!(count * 256);
    p["accessedAt"] = json!(arm::rfc3339(arm::now_ms()));
    if !p.get("countDetails").is_some_and(Value::is_object) {
        p["countDetails"] = json!({"deadLetterMessageCount": 0, "scheduledMessageCount": 0, "transferMessageCount": 0, "transferDeadLetterMessageCount": 0});
    }
    p["countDetails"]["activeMessageCount"] = json!(count);
}
