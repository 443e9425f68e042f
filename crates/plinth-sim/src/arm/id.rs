//! ARM paths and resource ids: segments, what an id says about itself (subscription,
//! resource group, type, name, parent, scope), query strings, and the case-insensitive key
//! resources are stored under.

use std::collections::HashMap;

/// A parsed ARM path.
#[derive(Debug)]
pub(crate) struct Path {
    pub segs: Vec<String>,
}

impl Path {
    pub(super) fn parse(path: &str) -> Path {
        Path {
            segs: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(crate::entra::url_decode)
                .collect(),
        }
    }

    pub(super) fn seg_is(&self, i: usize, s: &str) -> bool {
        self.segs.get(i).is_some_and(|x| x.eq_ignore_ascii_case(s))
    }

    pub(super) fn join(segs: &[String]) -> String {
        let mut out = String::new();
        for s in segs {
            out.push('/');
            out.push_str(s);
        }
        out
    }

    /// Index of the last `providers` segment.
    pub(super) fn last_providers(&self) -> Option<usize> {
        self.segs
            .iter()
            .rposition(|s| s.eq_ignore_ascii_case("providers"))
    }
}

/// What a resource id says about itself.
#[derive(Debug, Clone)]
pub(crate) struct IdInfo {
    pub id: String,
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    /// `Microsoft.Resources/resourceGroups`, `Microsoft.ServiceBus/namespaces/queues`, …
    pub rtype: String,
    pub name: String,
    /// Parent resource id (nested resources) or scope (extension / top-level resources).
    pub parent: Option<String>,
    /// For extension resources (role assignments): the scope they are attached to.
    pub scope: String,
}

impl IdInfo {
    pub fn type_is(&self, t: &str) -> bool {
        self.rtype.eq_ignore_ascii_case(t)
    }
}

/// The keywords, namespaces and types of the ids the simulator models, in ARM's casing.
const CANONICAL: &[&str] = &[
    "subscriptions",
    "resourceGroups",
    "providers",
    "Microsoft.Resources",
    "Microsoft.ContainerService",
    "Microsoft.ServiceBus",
    "Microsoft.ManagedIdentity",
    "Microsoft.Authorization",
    "managedClusters",
    "agentPools",
    "namespaces",
    "queues",
    "topics",
    "userAssignedIdentities",
    "federatedIdentityCredentials",
    "roleAssignments",
    "roleDefinitions",
];

fn canonical_word(s: &str) -> String {
    CANONICAL
        .iter()
        .find(|c| c.eq_ignore_ascii_case(s))
        .map_or_else(|| s.to_string(), |c| (*c).to_string())
}

/// The segments of an id with its keywords (`subscriptions`, `resourceGroups`,
/// `providers`), provider namespaces and type names in ARM's casing, whatever casing the
/// request used; names keep theirs. ARM answers ids so.
fn canonical_segments(segs: &[String]) -> Vec<String> {
    let mut out = segs.to_vec();
    let mut i = 0;
    while i < out.len() {
        out[i] = canonical_word(&out[i]);
        // After `providers` comes the namespace, then type/name pairs; after any other
        // keyword, a name.
        if out[i] == "providers" && i + 1 < out.len() {
            out[i + 1] = canonical_word(&out[i + 1]);
        }
        i += 2;
    }
    out
}

/// Parses a resource id; `None` if it is not one (odd segments after the namespace, …).
/// The id and type come back in ARM's casing ([`canonical_segments`]).
pub(crate) fn parse_id(id: &str) -> Option<IdInfo> {
    let mut p = Path::parse(id);
    p.segs = canonical_segments(&p.segs);
    let segs = &p.segs;
    let subscription = if p.seg_is(0, "subscriptions") {
        segs.get(1).cloned()
    } else {
        None
    };
    let resource_group = if subscription.is_some() && p.seg_is(2, "resourcegroups") {
        segs.get(3).cloned()
    } else {
        None
    };
    let full = Path::join(segs);
    match p.last_providers() {
        None => {
            if segs.len() == 4 && resource_group.is_some() {
                return Some(IdInfo {
                    id: full,
                    subscription: subscription.clone(),
                    resource_group: resource_group.clone(),
                    rtype: "Microsoft.Resources/resourceGroups".into(),
                    name: segs[3].clone(),
                    parent: Some(Path::join(&segs[..2])),
                    scope: Path::join(&segs[..2]),
                });
            }
            None
        }
        Some(i) => {
            let rest = &segs[i + 1..];
            if rest.len() < 3 || rest.len().is_multiple_of(2) {
                return None;
            }
            let mut rtype = rest[0].clone();
            for pair in rest[1..].chunks(2) {
                rtype.push('/');
                rtype.push_str(&pair[0]);
            }
            let scope = Path::join(&segs[..i]);
            let parent = if rest.len() > 3 {
                Some(Path::join(&segs[..segs.len() - 2]))
            } else {
                Some(scope.clone())
            };
            Some(IdInfo {
                id: full,
                subscription,
                resource_group,
                rtype,
                name: segs[segs.len() - 1].clone(),
                parent,
                scope,
            })
        }
    }
}

pub(super) fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    q.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                crate::entra::url_decode(k).to_ascii_lowercase(),
                crate::entra::url_decode(v),
            )
        })
        .collect()
}

/// The key a resource is stored under: its id, lower-cased (ARM ids are case-insensitive).
pub(super) fn key(id: &str) -> String {
    id.to_ascii_lowercase()
}
