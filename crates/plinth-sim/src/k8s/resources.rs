//! The resource types the simulated API server serves, and the discovery and OpenAPI documents
//! that describe them to clients such as kubectl.

use serde_json::{Value, json};

/// One resource type.
pub(crate) struct Res {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Only get/list (objects are made by the cluster itself).
    pub read_only: bool,
    /// A KEDA custom resource: served only while the add-on is enabled.
    pub keda: bool,
    /// Has a status subresource (status is ignored in writes to the main resource).
    pub has_status: bool,
    /// Carries `metadata.generation`, bumped on changes outside metadata and status.
    pub generation: bool,
}

impl Res {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, `serviceaccounts`: how messages and the store name the type.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Deployment.apps`, `ServiceAccount`: how validation messages name the kind.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

const fn res(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> Res {
    Res {
        group,
        version,
        plural,
        singular,
        kind,
        namespaced,
        short_names: &[],
        categories: &[],
        read_only: false,
        keda: false,
        has_status: false,
        generation: false,
    }
}

pub(crate) static RESOURCES: &[Res] = &[
    Res {
        short_names: &["ns"],
        has_status: true,
        ..res("", "v1", "namespaces", "namespace", "Namespace", false)
    },
    Res {
        short_names: &["sa"],
        ..res(
            "",
            "v1",
            "serviceaccounts",
            "serviceaccount",
            "ServiceAccount",
            true,
        )
    },
    Res {
        short_names: &["cm"],
        ..res("", "v1", "configmaps", "configmap", "ConfigMap", true)
    },
    res("", "v1", "secrets", "secret", "Secret", true),
    Res {
        short_names: &["po"],
        categories: &["all"],
        read_only: true,
        has_status: true,
        ..res("", "v1", "pods", "pod", "Pod", true)
    },
    Res {
        short_names: &["ev"],
        read_only: true,
        ..res("", "v1", "events", "event", "Event", true)
    },
    Res {
        short_names: &["deploy"],
        categories: &["all"],
        has_status: true,
        generation: true,
        ..res(
            "apps",
            "v1",
            "deployments",
            "deployment",
            "Deployment",
            true,
        )
    },
    Res {
        short_names: &["rs"],
        categories: &["all"],
        has_status: true,
        generation: true,
        ..res(
            "apps",
            "v1",
            "replicasets",
            "replicaset",
            "ReplicaSet",
            true,
        )
    },
    Res {
        categories: &["all"],
        has_status: true,
        generation: true,
        ..res("batch", "v1", "jobs", "job", "Job", true)
    },
    Res {
        short_names: &["sj"],
        keda: true,
        has_status: true,
        generation: true,
        ..res(
            "keda.sh",
            "v1alpha1",
            "scaledjobs",
            "scaledjob",
            "ScaledJob",
            true,
        )
    },
    Res {
        short_names: &["so"],
        keda: true,
        has_status: true,
        generation: true,
        ..res(
            "keda.sh",
            "v1alpha1",
            "scaledobjects",
            "scaledobject",
            "ScaledObject",
            true,
        )
    },
    Res {
        short_names: &["ta", "triggerauth"],
        keda: true,
        has_status: true,
        generation: true,
        ..res(
            "keda.sh",
            "v1alpha1",
            "triggerauthentications",
            "triggerauthentication",
            "TriggerAuthentication",
            true,
        )
    },
    Res {
        short_names: &["cta", "clustertriggerauth"],
        keda: true,
        has_status: true,
        generation: true,
        ..res(
            "keda.sh",
            "v1alpha1",
            "clustertriggerauthentications",
            "clustertriggerauthentication",
            "ClusterTriggerAuthentication",
            false,
        )
    },
];

/// The API groups (other than core) in discovery order, with their one version.
const GROUPS: &[(&str, &str, bool)] = &[
    ("apps", "v1", false),
    ("batch", "v1", false),
    ("keda.sh", "v1alpha1", true),
];

/// The resource `plural` of `group/version`, if served (KEDA types only while `keda` is on).
pub(crate) fn find(group: &str, version: &str, plural: &str, keda: bool) -> Option<&'static Res> {
    RESOURCES.iter().find(|r| {
        r.group == group && r.version == version && r.plural == plural && (keda || !r.keda)
    })
}

/// Whether `group/version` is served.
pub(crate) fn group_version_served(group: &str, version: &str, keda: bool) -> bool {
    RESOURCES
        .iter()
        .any(|r| r.group == group && r.version == version && (keda || !r.keda))
}

const VERBS_RW: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const VERBS_RO: &[&str] = &["get", "list", "watch"];

pub(crate) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "31",
        "gitVersion": "v1.31.2",
        "gitCommit": "5864a4677267e6adeae276ad85882a8714d69d9d",
        "gitTreeState": "clean",
        "buildDate": "2024-10-22T20:28:14Z",
        "goVersion": "go1.22.8",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub(crate) fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_json(name: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{name}/{version}"), "version": version});
    json!({"name": name, "versions": [gv.clone()], "preferredVersion": gv})
}

pub(crate) fn api_group_list(keda: bool) -> Value {
    let groups: Vec<Value> = GROUPS
        .iter()
        .filter(|(_, _, k)| keda || !k)
        .map(|(g, v, _)| group_json(g, v))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub(crate) fn api_group(group: &str, keda: bool) -> Option<Value> {
    let (g, v, _) = GROUPS
        .iter()
        .find(|(g, _, k)| *g == group && (keda || !k))?;
    let mut doc = group_json(g, v);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

fn storage_version_hash(r: &Res) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{}/{}/{}", r.group, r.version, r.kind));
    base64::engine::general_purpose::STANDARD.encode(&digest[..8])
}

pub(crate) fn api_resource_list(group: &str, version: &str, keda: bool) -> Option<Value> {
    if !group_version_served(group, version, keda) {
        return None;
    }
    let mut resources = Vec::new();
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version && (keda || !r.keda))
    {
        let verbs = if r.read_only { VERBS_RO } else { VERBS_RW };
        let mut entry = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": verbs,
        });
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            entry["categories"] = json!(r.categories);
        }
        entry["storageVersionHash"] = json!(storage_version_hash(r));
        resources.push(entry);
        if r.plural == "deployments" {
            resources.push(json!({
                "name": "deployments/scale",
                "singularName": "",
                "namespaced": true,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            }));
        }
        if r.plural == "pods" {
            resources.push(json!({
                "name": "pods/log",
                "singularName": "",
                "namespaced": true,
                "kind": "Pod",
                "verbs": ["get"],
            }));
        }
        if r.has_status && !r.read_only {
            resources.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn served_group_versions(keda: bool) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = vec![("", "v1")];
    out.extend(
        GROUPS
            .iter()
            .filter(|(_, _, k)| keda || !k)
            .map(|(g, v, _)| (*g, *v)),
    );
    out
}

/// The OpenAPI v3 document of one group/version: just enough for kubectl to learn that PATCH
/// accepts `fieldValidation` (so it leaves validation to the server).
pub(crate) fn openapi_v3_group_version(group: &str, version: &str, keda: bool) -> Option<Value> {
    if !group_version_served(group, version, keda) {
        return None;
    }
    let mut paths = serde_json::Map::new();
    let prefix = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version && (keda || !r.keda))
    {
        let item = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
        } else {
            format!("{prefix}/{}/{{name}}", r.plural)
        };
        let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
        let query = |name: &str| json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}});
        paths.insert(
            item,
            json!({
                "get": {
                    "operationId": format!("read{}", r.kind),
                    "responses": {"200": {"description": "OK"}},
                    "x-kubernetes-action": "get",
                    "x-kubernetes-group-version-kind": gvk,
                },
                "patch": {
                    "operationId": format!("patch{}", r.kind),
                    "parameters": [query("dryRun"), query("fieldManager"), query("fieldValidation"), query("force")],
                    "responses": {"200": {"description": "OK"}},
                    "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": gvk,
                },
                "parameters": [
                    {"name": "name", "in": "path", "required": true, "schema": {"type": "string"}},
                ],
            }),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.31.2"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}

/// The OpenAPI v3 discovery document: one entry per served group/version.
pub(crate) fn openapi_v3_root(keda: bool) -> Value {
    use sha2::Digest;
    let mut paths = serde_json::Map::new();
    for (g, v) in served_group_versions(keda) {
        let doc = openapi_v3_group_version(g, v, keda).unwrap_or_default();
        let hash = sha2::Sha256::digest(doc.to_string().as_bytes());
        let hex: String = hash.iter().take(16).map(|b| format!("{b:02X}")).collect();
        let p = gv_path(g, v);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={hex}")}),
        );
    }
    json!({"paths": paths})
}

/// A minimal OpenAPI v2 document in the protobuf encoding kubectl asks for (gnostic's
/// `Document { swagger: "2.0", info: { title, version }, paths: {} }`): no definitions, so
/// kubectl's client-side validation, used for types the v3 document does not cover, passes
/// and kubectl goes on to report unknown kinds the way it does against a real cluster.
pub(crate) fn openapi_v2_protobuf() -> Vec<u8> {
    fn field(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
        out.push(tag << 3 | 2);
        out.push(u8::try_from(bytes.len()).expect("short field"));
        out.extend_from_slice(bytes);
    }
    let mut info = Vec::new();
    field(&mut info, 1, b"Kubernetes");
    field(&mut info, 2, b"v1.31.2");
    let mut doc = Vec::new();
    field(&mut doc, 1, b"2.0");
    field(&mut doc, 2, &info);
    field(&mut doc, 8, &[]);
    doc
}
