//! The workload-identity chain, checked on a plan.
//!
//! A pod (or KEDA's operator) on AKS reaches Azure Service Bus through a chain of objects
//! that live on both sides: the cluster's OIDC issuer, a managed identity's federated
//! credential trusting one ServiceAccount's tokens from that issuer, the ServiceAccount's
//! `azure.workload.identity/client-id` annotation (or a KEDA TriggerAuthentication's
//! `identityId`) naming the identity, the identity's data role on the queue, and a restart of
//! KEDA's operator after its credential changes. A broken link shows up only minutes after
//! apply, as `KEDAScalerFailed` (kedacore/keda#4219, #4597, Azure/AKS#5243). plinth plans
//! both sides at once, so [`check`] looks at every link in the plan and reports each broken
//! one as a [`Finding`] (`identity-chain`, a warning) that names both ends and the fix.
//!
//! The links ([`RULES`]):
//! - `audience`: a federated credential accepts `api://AzureADTokenExchange`;
//! - `issuer`: its issuer is the OIDC issuer of a cluster in the plan (when there is one);
//! - `oidc-issuer`, `workload-identity`: that cluster has the OIDC issuer and workload
//!   identity enabled;
//! - `subject`: its subject `system:serviceaccount:NS:NAME` is a ServiceAccount the plan
//!   declares (`k8s:v1/ServiceAccount`, a `k8s:fields` or `k8s:manifests` object of kind
//!   ServiceAccount) or KEDA's operator, `<ns>:keda-operator` in any namespace (the AKS
//!   add-on's `kube-system`, Helm's `keda`); only credentials whose subject is a service
//!   account's or whose issuer is a cluster's are checked (not GitHub Actions', say);
//! - `client-id`: a ServiceAccount a credential trusts carries the client id of that
//!   credential's identity;
//! - `credential`: an identity a ServiceAccount or a TriggerAuthentication names has a
//!   credential for the ServiceAccount whose token is exchanged (KEDA's operator's, for a
//!   TriggerAuthentication);
//! - `identity-id`: a TriggerAuthentication (`provider: azure-workload`) names, by
//!   `identityId` or through the operator's annotation, an identity KEDA's operator may act as;
//! - `data-role`: that identity holds `Azure Service Bus Data Owner` (the Manage claim the
//!   scaler's read of the message count needs) on the queue (or topic subscription, or
//!   topic), its namespace or above, for every ScaledJob/ScaledObject `azure-servicebus`
//!   trigger authenticating with it (a custom role, whose data actions the plan does not
//!   show, is not judged);
//! - `principal-id`: a role assignment's `principalId` is not an identity's client id;
//! - `restart`: a `k8s:rollout-restart` of `<ns>/Deployment/keda-operator` follows
//!   every change of the operator's credential or client-id annotation (its `on` names it,
//!   or it runs in this plan after it).
//!
//! Values known only after apply are compared by where they come from: with the
//! configuration, `${var.oidc_issuer}` in a module is followed to the call's
//! `${aks.properties.oidcIssuerProfile.issuerURL}`, so a first plan is checked as fully as a
//! plan after apply. A value that is no plain reference (a function call, text around it) is
//! not comparable, and nothing is said about it: the check never guesses. Pure: no I/O.

#![warn(missing_docs)]

mod model;
mod origin;
mod roles;
mod rules;

use plinth_config::Config;
use plinth_plan::{Finding, Plan, PlanMode};

/// The names of the links, as [`Finding::rule`] gives them.
pub const RULES: &[&str] = &[
    "audience",
    "issuer",
    "oidc-issuer",
    "workload-identity",
    "subject",
    "client-id",
    "credential",
    "identity-id",
    "data-role",
    "principal-id",
    "restart",
];

/// Checks the workload-identity chain of a plan: every object the plan leaves in place
/// (created, updated, replaced, read or unchanged; not deleted), so that a plan with nothing
/// to do is checked too. `config` is the configuration the plan was made from: with it,
/// findings are located (`file:line:col`), unknown values are compared by origin, and the
/// restart actions' `on` lists are read; without it (a saved plan alone), only known values
/// are compared. A destroy plan has no chain left to check.
pub fn check(plan: &Plan, config: Option<&Config>) -> Vec<Finding> {
    if plan.mode == PlanMode::Destroy {
        return vec![];
    }
    let tracer = origin::Tracer::new(config);
    rules::Chain::new(plan, &tracer).run()
}

#[cfg(test)]
mod tests;
