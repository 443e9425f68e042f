//! Batched reads ([`Provider::batch_key`], [`Provider::read_batch`]): objects of one curated
//! type under one parent are read with ARM's list of that collection (and its `nextLink`
//! pages) instead of one GET each, when the list's items are the very bodies a GET answers.
//!
//! Which types, and the evidence (Azure/azure-rest-api-specs x-ms-examples, and the recorded
//! sessions in `../shared/reference/azure-arm/recordings`):
//!
//! - user-assigned identities: `UserAssignedIdentities_ListByResourceGroup`
//!   (msi 2024-11-30 `IdentityListByResourceGroup.json`): items carry `id`, `name`, `type`,
//!   `location`, `tags` and `properties.{clientId, principalId, tenantId, isolationScope}`,
//!   what `IdentityGet.json` answers.
//! - federated identity credentials: `FederatedIdentityCredentials_List`
//!   (msi 2024-11-30 `FederatedIdentityCredentialList.json`): `properties.{issuer, subject,
//!   audiences}`, as `FederatedIdentityCredentialGet.json`.
//! - Service Bus queues: `Queues_ListByNamespace` (servicebus 2024-01-01
//!   `Queues/SBQueueListByNameSpace.json`): every property of `SBQueueGet.json`, counts and
//!   timestamps included.
//! - Service Bus namespaces: the recording `test_sb_namespace_curd.yaml` lists the namespaces
//!   of a resource group; its item is byte for byte the body the GET before it answered (sku,
//!   tags, every property).
//! - role assignments: `RoleAssignments_ListForScope` (authorization 2022-04-01
//!   `RoleAssignments_ListForScope.json`): items as `RoleAssignments_Get.json`. An assignment
//!   whose scope is in a resource group (the group, or a queue in it) is listed from the
//!   group without a filter, which answers the assignments at, above and below the group
//!   (learn.microsoft.com, "List Azure role assignments using the REST API": no filter lists
//!   at, above and below the scope; `atScope()` only at the scope and above), so one list
//!   holds the assignments of every queue of the group. One at a subscription is listed with
//!   `$filter=atScope()` (not the whole subscription's). Inherited and unrelated ones are in
//!   the answers too: items are matched by id, so they never stand for one of ours.
//! - resource groups: `ResourceGroups_List` answers `ResourceGroupListResult`, a list of the
//!   same `ResourceGroup` definition GET answers (id, name, type, location, managedBy, tags,
//!   `properties.provisioningState`); the collection is the subscription's.
//! - AKS managed clusters: read alone. `ManagedClustersListByResourceGroup.json` (2025-10-01)
//!   shows items without `eTag`, `azurePortalFQDN`, the agent pools' `eTag` and
//!   `nodeImageVersion`, all of which `ManagedClustersGet.json` has.
//! - any type plinth does not curate: read alone (nothing says its list is complete).
//!
//! Reading a batch: the first page of the collection, then `nextLink` pages, each one read
//! token through the [`ArmClient`](crate::client::ArmClient) (retries, `Retry-After`,
//! client-side buckets). Items are matched to the requested ids case-insensitively. An object
//! state records that is not in the list is confirmed with its own GET (a list read page by
//! page is no snapshot, and "gone" is drift to report); a planned create's existence check
//! takes a list that came whole in one answer at its word.
//! When the pages read exceed the objects still missing (the collection is much bigger than
//! the batch), listing stops and the rest are read with GETs (eight at a time). A 404 on the collection whose
//! code says the parent is missing (`ResourceGroupNotFound`, `ParentResourceNotFound`,
//! `ResourceNotFound`) answers every object absent, as their GETs would (a GET under a missing
//! parent is a 404, which [`Provider::read`] answers as `None`). Any other failure of the list
//! falls back to a GET per object not yet found, so each answers exactly what its own read
//! says (its own error included) rather than one error for all.

use std::collections::HashMap;

use futures::stream::{self, StreamExt};
use plinth_provider::{BatchRead, Observed, Prior, Provider, ProviderError, Request};

use super::AzureProvider;
use super::shape::{id_mismatch, id_of, observed, parse_type};
use crate::request::ArmRequest;
use crate::retry::ReporterObserver;
use crate::types::{self, ArmType};

/// The ARM error codes of a 404 on a collection that mean its parent does not exist.
const PARENT_MISSING: &[&str] = &[
    "ResourceGroupNotFound",
    "ParentResourceNotFound",
    "ResourceNotFound",
];

/// How many of a batch's objects not answered by the list are read with GETs at once.
const READS_AT_ONCE: usize = 8;

/// The curated types whose list items are as complete as a GET (see the module docs).
const LISTABLE: &[&str] = &[
    types::RG,
    types::IDENTITY,
    types::FIC,
    types::SB_NAMESPACE,
    types::SB_QUEUE,
    types::ROLE_ASSIGNMENT,
];

/// The collection an object of `t` with resource id `id` is listed in: its URL path, and
/// whether the list takes `$filter=atScope()` (role assignments at a subscription). `None` when `t` is not
/// listable or `id` is not an id of `t`.
pub(super) fn collection(t: &ArmType, id: &str) -> Option<(String, bool)> {
    if !LISTABLE.iter().any(|l| t.is(l)) || id_mismatch(t, id).is_some() {
        return None;
    }
    let parent = types::parent_of(id, t);
    if parent.is_empty() {
        return None;
    }
    if t.is(types::ROLE_ASSIGNMENT) {
        let segs: Vec<&str> = parent.split('/').collect();
        let in_group = segs.len() >= 5 && segs[3].eq_ignore_ascii_case("resourceGroups");
        let scope = if in_group {
            segs[..5].join("/")
        } else {
            parent.clone()
        };
        return Some((
            format!("{scope}/providers/Microsoft.Authorization/roleAssignments"),
            !in_group,
        ));
    }
    let path = if t.is_resource_group() {
        format!("{parent}/resourceGroups")
    } else if t.is_child() {
        format!("{parent}/{}", t.types.last()?)
    } else {
        format!("{parent}/providers/{}/{}", t.namespace, t.types[0])
    };
    Some((path, false))
}

/// The id [`Provider::read`] reads for `prior`: its id, else the one its inputs name.
fn id_to_read(t: &ArmType, prior: &Prior, sub: Option<&str>) -> Option<String> {
    match &prior.id {
        Some(id) => Some(id.clone()),
        None => id_of(t, &prior.inputs, sub).ok().flatten(),
    }
}

impl AzureProvider {
    /// [`Provider::batch_key`]: the collection (lowercased, ARM paths are case-insensitive)
    /// and the api-version.
    pub(super) fn key_of(&self, req: &Request<'_>, prior: &Prior) -> Option<String> {
        let t = ArmType::parse(req.type_name)?;
        let id = id_to_read(&t, prior, self.subscription())?;
        let (path, _) = collection(&t, &id)?;
        Some(format!(
            "{}?api-version={}",
            path.to_ascii_lowercase(),
            t.api_version
        ))
    }

    /// [`Provider::read_batch`]: see the module docs.
    pub(super) async fn read_many(
        &self,
        reads: &[BatchRead<'_>],
    ) -> Vec<Result<Option<Observed>, ProviderError>> {
        let mut out: Vec<Option<Result<Option<Observed>, ProviderError>>> =
            (0..reads.len()).map(|_| None).collect();
        // What each read asks for; a read whose id or collection is not known is read alone.
        let mut wanted: HashMap<String, Vec<usize>> = HashMap::new();
        let mut ids: Vec<Option<String>> = Vec::with_capacity(reads.len());
        let mut list: Option<Listing> = None;
        for (i, r) in reads.iter().enumerate() {
            let target = parse_type(r.req.type_name).ok().and_then(|t| {
                let id = id_to_read(&t, r.prior, self.subscription())?;
                let (path, filter) = collection(&t, &id)?;
                Some((t, id, path, filter))
            });
            match target {
                Some((t, id, path, filter)) => {
                    let same = list.as_ref().is_none_or(|l| {
                        l.path.eq_ignore_ascii_case(&path) && l.t.api_version == t.api_version
                    });
                    if same {
                        wanted.entry(id.to_ascii_lowercase()).or_default().push(i);
                        if list.is_none() {
                            list = Some(Listing {
                                t,
                                path,
                                at_scope: filter,
                            });
                        }
                        ids.push(Some(id));
                    } else {
                        ids.push(None);
                    }
                }
                None => ids.push(None),
            }
        }
        if let Some(listing) = &list
            && let Some(first) = reads.first()
        {
            match self
                .list_into(first, listing, &mut wanted, &ids, &mut out)
                .await
            {
                Listed::Absent => {
                    for idx in wanted.drain().flat_map(|(_, v)| v) {
                        out[idx] = Some(Ok(None));
                    }
                }
                Listed::Whole => {
                    for idx in wanted.drain().flat_map(|(_, v)| v) {
                        if !reads[idx].recorded {
                            out[idx] = Some(Ok(None));
                        }
                    }
                }
                Listed::Rest => {}
            }
        }
        // Everything not answered by the list: its own read, a few at a time (the client's
        // buckets still pace them).
        let rest: Vec<usize> = (0..reads.len()).filter(|&i| out[i].is_none()).collect();
        let mut alone = stream::iter(rest)
            .map(|i| async move { (i, self.read(&reads[i].req, reads[i].prior).await) })
            .buffer_unordered(READS_AT_ONCE);
        while let Some((i, answer)) = alone.next().await {
            out[i] = Some(answer);
        }
        out.into_iter()
            .map(|a| a.unwrap_or_else(|| Err(ProviderError::new("not read"))))
            .collect()
    }

    /// Lists the collection, answering in `out` every wanted id it finds (and removing it
    /// from `wanted`). Stops at the last page, when nothing is missing any more, or when the
    /// pages read exceed the objects still missing. A list that fails leaves the rest to
    /// their own reads; a parent that does not exist answers [`Listed::Absent`].
    async fn list_into(
        &self,
        first: &BatchRead<'_>,
        listing: &Listing,
        wanted: &mut HashMap<String, Vec<usize>>,
        ids: &[Option<String>],
        out: &mut [Option<Result<Option<Observed>, ProviderError>>],
    ) -> Listed {
        let Ok(client) = self.client() else {
            return Listed::Rest;
        };
        let obs = ReporterObserver {
            reporter: first.req.reporter,
            address: first.req.address,
        };
        let call = client.call(&obs);
        let path = listing.path.as_str();
        let mut req = ArmRequest::get(path, &listing.t.api_version);
        if listing.at_scope {
            req = req.query("$filter", "atScope()");
        }
        let mut pages = 0usize;
        loop {
            let resp = match call.send(&req).await {
                Ok(resp) => resp,
                Err(crate::Error::Arm(e))
                    if pages == 0
                        && e.status == 404
                        && PARENT_MISSING
                            .iter()
                            .any(|c| c.eq_ignore_ascii_case(&e.code)) =>
                {
                    return Listed::Absent;
                }
                Err(e) => {
                    tracing::debug!(
                        collection = path,
                        "listing failed, reading the rest one by one: {e}"
                    );
                    return Listed::Rest;
                }
            };
            pages += 1;
            let mut body = resp.body;
            if let Some(items) = body.get_mut("value").and_then(|v| v.as_array_mut()) {
                for item in items.drain(..) {
                    let Some(key) = item
                        .get("id")
                        .and_then(|v| v.as_str())
                        .map(str::to_ascii_lowercase)
                    else {
                        continue;
                    };
                    let Some(idxs) = wanted.remove(&key) else {
                        continue;
                    };
                    for idx in idxs {
                        let id = ids[idx].as_deref().unwrap_or(&key);
                        out[idx] = Some(Ok(Some(observed(id, item.clone()))));
                    }
                }
            }
            let missing: usize = wanted.values().map(Vec::len).sum();
            if missing == 0 || pages > missing {
                return Listed::Rest;
            }
            match body.get("nextLink").and_then(|v| v.as_str()) {
                Some(next) if !next.is_empty() => req = ArmRequest::follow(next),
                // The whole collection in one answer: what it lacks is absent for an
                // existence check (1,000 creates in an existing, empty resource group cost
                // one list, not 1,001 requests). A recorded object it lacks is still read
                // alone: "gone" is drift to report, worth a GET (an RP's list may lag its
                // GET), and so is anything missing from a list of several pages.
                _ if pages == 1 => return Listed::Whole,
                _ => return Listed::Rest,
            }
        }
    }
}

/// The collection a batch is listed from.
struct Listing {
    /// The type of its objects (its api-version is the list's).
    t: ArmType,
    /// The collection's URL path.
    path: String,
    /// Whether the list takes `$filter=atScope()`.
    at_scope: bool,
}

/// How a listing ended.
enum Listed {
    /// The whole collection came in one answer without the objects still wanted: those not
    /// recorded in state are absent, the others are read alone.
    Whole,
    /// The parent does not exist: every object still wanted is absent.
    Absent,
    /// Whatever the list did not answer is read with its own GET.
    Rest,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> ArmType {
        ArmType::parse(s).unwrap()
    }

    const RG: &str = "/subscriptions/s/resourceGroups/g";

    #[test]
    fn collections_per_type() {
        let mi = t("Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30");
        let id = format!("{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a");
        assert_eq!(
            collection(&mi, &id),
            Some((
                format!("{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"),
                false
            ))
        );
        let fic = t(
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30",
        );
        assert_eq!(
            collection(&fic, &format!("{id}/federatedIdentityCredentials/f")),
            Some((format!("{id}/federatedIdentityCredentials"), false))
        );
        let rg = t("Microsoft.Resources/resourceGroups@2025-04-01");
        assert_eq!(
            collection(&rg, RG),
            Some(("/subscriptions/s/resourceGroups".to_string(), false))
        );
        // Role assignments in a group: the group's list (no filter: at, above and below); at
        // a subscription: its list at the scope and above.
        let ra = t("Microsoft.Authorization/roleAssignments@2022-04-01");
        let in_group = Some((
            format!("{RG}/providers/Microsoft.Authorization/roleAssignments"),
            false,
        ));
        assert_eq!(
            collection(
                &ra,
                &format!("{id}/providers/Microsoft.Authorization/roleAssignments/x")
            ),
            in_group
        );
        assert_eq!(
            collection(
                &ra,
                &format!("{RG}/providers/Microsoft.Authorization/roleAssignments/y")
            ),
            in_group
        );
        assert_eq!(
            collection(
                &ra,
                "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/z"
            ),
            Some((
                "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments".to_string(),
                true
            ))
        );
        // AKS lists are thinner than its GET; uncurated types are not known to be complete;
        // an id of another type is read alone (and refused there).
        let aks = t("Microsoft.ContainerService/managedClusters@2025-10-01");
        assert_eq!(
            collection(
                &aks,
                &format!("{RG}/providers/Microsoft.ContainerService/managedClusters/k")
            ),
            None
        );
        let web = t("Microsoft.Web/sites@2024-04-01");
        assert_eq!(
            collection(&web, &format!("{RG}/providers/Microsoft.Web/sites/w")),
            None
        );
        assert_eq!(collection(&mi, RG), None);
    }
}
