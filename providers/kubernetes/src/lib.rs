//! plinth's Kubernetes provider (SPEC §6): any object as `k8s:<apiVersion>/<Kind>`, and the
//! `k8s:rollout-restart` action.
//!
//! - Inputs: `manifest` (the object; `apiVersion` and `kind` default to the type's and must
//!   match it when given; `metadata.namespace` defaults to `default` for namespaced kinds and is
//!   refused for cluster-scoped ones), `force` (take fields other appliers own), `wait`
//!   (`{ condition = "Ready", timeout = "10m" }`, `{ complete = true }` for Jobs,
//!   `{ rollout = true }` for Deployments, StatefulSets and DaemonSets), `delete_timeout`.
//! - Attributes: the object as the API server returns it, without `metadata.managedFields`.
//!   `manifest.x` is attribute `x`.
//! - Ids: `<apiVersion>/<Kind>/<namespace>/<name>` (`<apiVersion>/<Kind>/<name>` when
//!   cluster-scoped): known before the object exists, free of the cluster it lives in.
//! - Where to: the provider's settings (`[provider.kubernetes]`): `cluster` = an AKS resource
//!   id (credentials through [`ClusterCredentials`], `admin = true` for the admin ones), or
//!   `kubeconfig` (+ `context`), or nothing (the default kubeconfig, as kubectl finds it).
//! - Plans: where the cluster exists and serves the kind, a server-side apply dry run
//!   (`dryRun=All`, manager `plinth`); only the paths the manifest sets (now or at the last
//!   apply) are compared between the live object and the dry run's answer, so whatever the
//!   server defaults or normalises is never a diff. Where the cluster does not exist yet (its
//!   settings are unknown) or does not serve the kind yet (a CRD an add-on brings), the plan is
//!   the manifest with what the server fills in "known after apply". A change of apiVersion,
//!   kind, name or namespace replaces the object.
//! - Applies: server-side apply, manager `plinth`. Fields another *applier* owns are a
//!   conflict, reported with that manager unless `force = true`; fields changed by a person's
//!   imperative edit (`kubectl edit`, `annotate`, `label`, `patch`, `scale`, ...: the `Update`
//!   managers listed in `errors::HAND_EDIT_MANAGERS`) are drift and are taken back. Fields
//!   another `Update` manager wrote are a controller's (an autoscaler's `spec.replicas`): a
//!   conflict too, so that plinth does not fight it on every apply.
//! - Connections: one per distinct settings, cached. One that no longer reaches its cluster
//!   (credentials refused, address or certificate not the cluster's, as after an AKS cluster
//!   is replaced under the same id) is made again from fresh credentials, once per call.
//! - Reads: an object of a cluster ARM says does not exist is gone; one of a cluster not
//!   known yet (its settings refer to something not created) is kept as last read.
//! - Deletes: background propagation (a Job's pods go too), then wait until the object is
//!   gone (`delete_timeout`, default 2 minutes).

mod connection;
mod errors;
mod kind;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use kube::core::params::{DeleteParams, GetParams, Patch, PatchParams};
use kube::core::{DynamicObject, Resource};
use plinth_provider::diff;
use plinth_provider::{
    InputSchema, Observed, Planned, Prior, Provider, ProviderError, Request, TypeSchema, ValueKind,
};
use plinth_value::{Map, Path, PathSeg, Value};

use connection::{Absent, Conn, Connections, NoConn, Resolved};
pub use connection::{ClusterCredentials, FnCredentials, Target};
use errors::Retry;
use kind::ROLLOUT_RESTART;
pub use kind::{Gvk, ObjectRef};

/// The field manager plinth writes with.
pub const FIELD_MANAGER: &str = "plinth";
/// The annotation `kubectl rollout restart` sets on a pod template.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(600);
const MAX_POLL: Duration = Duration::from_secs(2);

/// Attribute paths the server fills in.
const SERVER_FILLED: &[&str] = &[
    "metadata.uid",
    "metadata.resourceVersion",
    "metadata.creationTimestamp",
    "metadata.generation",
    "status",
];

/// Kinds without a status (their plans do not promise one).
const NO_STATUS: &[&str] = &[
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "TriggerAuthentication",
    "ClusterTriggerAuthentication",
];

/// The Kubernetes provider.
pub struct KubernetesProvider {
    credentials: Option<Arc<dyn ClusterCredentials>>,
    conns: Connections,
    /// Tries of a call that fails transiently (429, 5xx, connection errors).
    pub retry_attempts: u32,
    /// The first wait between tries (doubled each time).
    pub retry_base: Duration,
    /// The first wait between polls (of a delete, of a `wait`); doubled up to 2 s.
    pub poll_interval: Duration,
    /// How long connecting to an API server may take (default 10 s).
    pub connect_timeout: Duration,
    /// How long one request may wait for its answer (default 30 s); one that waits longer
    /// is retried, then fails as "timed out after 30s talking to the Kubernetes API at ...".
    pub request_timeout: Duration,
}

impl Default for KubernetesProvider {
    fn default() -> Self {
        Self::new()
    }
}

fn p(s: &str) -> Path {
    s.parse().expect("static path")
}

/// How `apply` waits for the object.
#[derive(Clone, Debug, PartialEq)]
enum Wait {
    None,
    Condition(String, Duration),
    Complete(Duration),
    Rollout(Duration),
}

/// How a server-side apply is sent.
#[derive(Clone, Copy)]
struct Apply {
    force: bool,
    dry_run: bool,
}

/// The inputs besides the manifest.
struct Options {
    force: bool,
    wait: Wait,
    delete_timeout: Duration,
}

fn duration_at(config: &Value, path: &Path, default: Duration) -> Result<Duration, ProviderError> {
    match config.get(path).map(|v| v.unmark_all()) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) => humantime::parse_duration(s.trim()).map_err(|e| {
            ProviderError::new(format!(
                "{path}: `{s}` is not a duration ({e}); write e.g. \"30s\" or \"10m\""
            ))
        }),
        Some(Value::Unknown) => Ok(default),
        Some(other) => Err(ProviderError::new(format!(
            "{path} must be a duration such as \"10m\", found {}",
            other.type_name()
        ))),
    }
}

fn options(config: &Value) -> Result<Options, ProviderError> {
    let force = match config.get(&p("force")).map(|v| v.unmark_all()) {
        None | Some(Value::Null) | Some(Value::Unknown) => false,
        Some(Value::Bool(b)) => b,
        Some(other) => {
            return Err(ProviderError::new(format!(
                "force must be a bool, found {}",
                other.type_name()
            )));
        }
    };
    let delete_timeout = duration_at(config, &p("delete_timeout"), DEFAULT_DELETE_TIMEOUT)?;
    let wait = match config.get(&p("wait")).map(|v| v.unmark_all()) {
        None | Some(Value::Null) => Wait::None,
        Some(Value::Map(m)) => {
            for k in m.keys() {
                if !["condition", "complete", "rollout", "timeout"].contains(&k.as_str()) {
                    return Err(ProviderError::new(format!(
                        "wait.{k}: unknown key (expected condition, complete, rollout and timeout)"
                    )));
                }
            }
            let timeout = duration_at(config, &p("wait.timeout"), DEFAULT_WAIT_TIMEOUT)?;
            let flag = |k: &str| -> Result<bool, ProviderError> {
                match m.get(k) {
                    None | Some(Value::Null) => Ok(false),
                    Some(Value::Bool(b)) => Ok(*b),
                    Some(other) => Err(ProviderError::new(format!(
                        "wait.{k} must be a bool, found {}",
                        other.type_name()
                    ))),
                }
            };
            let condition = match m.get("condition") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(other) => {
                    return Err(ProviderError::new(format!(
                        "wait.condition must be a condition type such as \"Ready\", found {}",
                        other.render()
                    )));
                }
            };
            match (condition, flag("complete")?, flag("rollout")?) {
                (Some(c), false, false) => Wait::Condition(c, timeout),
                (None, true, false) => Wait::Complete(timeout),
                (None, false, true) => Wait::Rollout(timeout),
                (None, false, false) => Wait::None,
                _ => {
                    return Err(ProviderError::new(
                        "wait: give one of condition = \"Type\", complete = true or rollout = true",
                    ));
                }
            }
        }
        Some(other) => {
            return Err(ProviderError::new(format!(
                "wait must be a table such as {{ condition = \"Ready\", timeout = \"10m\" }}, found {}",
                other.type_name()
            )));
        }
    };
    Ok(Options {
        force,
        wait,
        delete_timeout,
    })
}

/// The manifest with `apiVersion` and `kind` from the type (checked when given).
fn desired(gvk: &Gvk, config: &Value) -> Result<Value, ProviderError> {
    let manifest = config.get(&p("manifest")).unwrap_or(Value::Null);
    let mut m = match manifest.unmarked() {
        Value::Map(m) => m.clone(),
        Value::Null => {
            return Err(ProviderError::new(
                "`manifest` is required: the object as a table (metadata, spec, ...)",
            ));
        }
        Value::Unknown => {
            return Err(ProviderError::new(
                "`manifest` as a whole is unknown; refer to values inside it instead",
            ));
        }
        other => {
            return Err(ProviderError::new(format!(
                "`manifest` must be a table, found {}",
                other.type_name()
            )));
        }
    };
    for (key, want) in [
        ("apiVersion", gvk.api_version()),
        ("kind", gvk.kind.clone()),
    ] {
        match m.get(key).map(|v| v.unmark_all()) {
            None | Some(Value::Null) => {
                m.insert(key.into(), Value::String(want));
            }
            Some(Value::String(s)) if s == want => {}
            Some(Value::Unknown) => {}
            Some(other) => {
                return Err(ProviderError::new(format!(
                    "manifest.{key} is {} but the type k8s:{} says {want:?}",
                    other.render(),
                    gvk.type_name()
                )));
            }
        }
    }
    let v = Value::Map(m);
    match v.get(&p("metadata.name")).map(|n| n.unmark_all()) {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(Value::Unknown) => {}
        _ => {
            return Err(ProviderError::new(
                "manifest.metadata.name is required (plinth names every object up front)",
            ));
        }
    }
    Ok(v)
}

/// Defaults or refuses `metadata.namespace` by the kind's scope.
fn scope_namespace(v: &mut Value, gvk: &Gvk, namespaced: bool) -> Result<(), ProviderError> {
    let ns = p("metadata.namespace");
    match v.get(&ns).map(|n| n.unmark_all()) {
        None | Some(Value::Null) => {
            if namespaced {
                v.set(&ns, Value::from("default"));
            } else {
                v.remove(&ns);
            }
        }
        Some(Value::String(_)) | Some(Value::Unknown) if !namespaced => {
            return Err(ProviderError::new(format!(
                "{} is cluster-scoped: remove manifest.metadata.namespace",
                gvk.kind
            )));
        }
        _ => {}
    }
    Ok(())
}

/// The object a (namespaced-resolved) manifest names, when its name and namespace are known.
fn object_ref(gvk: &Gvk, v: &Value) -> Option<ObjectRef> {
    let name = v.get(&p("metadata.name"))?.as_str()?.to_string();
    let namespace = match v.get(&p("metadata.namespace")) {
        None => None,
        Some(n) => Some(n.as_str()?.to_string()),
    };
    Some(ObjectRef {
        gvk: gvk.clone(),
        namespace,
        name,
    })
}

/// Paths under the manifest that the comparison looks at: maps are descended into, anything
/// else (scalars, lists, empty maps) is one path. apiVersion, kind, name and namespace are the
/// object's identity and compared apart.
fn compared_paths(manifest: &Value, out: &mut Vec<Path>) {
    fn walk(v: &Value, at: &Path, out: &mut Vec<Path>) {
        match v.unmarked() {
            Value::Map(m) if !m.is_empty() => {
                for (k, child) in m {
                    walk(child, &at.key(k), out);
                }
            }
            _ => out.push(at.clone()),
        }
    }
    walk(manifest, &Path::root(), out);
    out.retain(|path| {
        !IDENTITY.iter().any(|i| path.starts_with(&p(i)))
            && !path.starts_with(&p("status"))
            && !path.starts_with(&p("metadata.managedFields"))
    });
}

const IDENTITY: &[&str] = &["apiVersion", "kind", "metadata.name", "metadata.namespace"];

fn manifest_path(attr: &Path) -> Path {
    let mut segs = vec![PathSeg::Key("manifest".into())];
    segs.extend(attr.segments().iter().cloned());
    Path::from_segments(segs)
}

fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    let norm = |v: Option<&Value>| match v.map(Value::unmark_all) {
        None | Some(Value::Null) => serde_json::Value::Null,
        Some(v) => v.to_json(),
    };
    norm(a) == norm(b)
}

/// The object as attributes: without managedFields; a Secret's data sensitive.
fn attributes_of(gvk: &Gvk, mut obj: serde_json::Value) -> Value {
    if let Some(meta) = obj.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
    }
    let mut v = Value::from(obj);
    mark_secrets(gvk, &mut v);
    v
}

/// The annotation `kubectl apply` (client-side) keeps the whole applied object in: for a
/// Secret, its `stringData` in clear.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Attribute paths of a Secret that hold its content: `data`, `stringData`, and the
/// last-applied annotation (which holds the stringData someone `kubectl apply`-ed).
fn secret_paths() -> Vec<Path> {
    vec![
        p("data"),
        p("stringData"),
        Path::from_segments(vec![
            PathSeg::Key("metadata".into()),
            PathSeg::Key("annotations".into()),
            PathSeg::Key(LAST_APPLIED.into()),
        ]),
    ]
}

fn is_secret(gvk: &Gvk) -> bool {
    gvk.group.is_empty() && gvk.kind == "Secret"
}

fn mark_secrets(gvk: &Gvk, v: &mut Value) {
    if is_secret(gvk) {
        for path in secret_paths() {
            if let Some(inner) = v.get(&path)
                && !inner.is_sensitive()
            {
                v.set(&path, Value::sensitive(inner));
            }
        }
    }
}

/// Built-in kinds without `metadata.generation` (it counts changes of a spec).
const NO_GENERATION: &[&str] = &[
    "Namespace",
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "Service",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
];

/// Attributes of an object not created yet: the manifest, the server's fields unknown.
fn new_object(gvk: &Gvk, manifest: &Value) -> Value {
    let mut v = manifest.clone();
    let builtin = gvk.group.is_empty() || gvk.group.ends_with(".k8s.io");
    for f in SERVER_FILLED {
        if *f == "status" && NO_STATUS.contains(&gvk.kind.as_str()) {
            continue;
        }
        if *f == "metadata.generation" && builtin && NO_GENERATION.contains(&gvk.kind.as_str()) {
            continue;
        }
        if v.get(&p(f)).is_none() {
            v.set(&p(f), Value::Unknown);
        }
    }
    mark_secrets(gvk, &mut v);
    v
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_micros(SystemTime::now()).to_string()
}

/// What a wait found.
enum Progress {
    Done,
    Failed(String),
    Pending(String),
}

fn conditions(obj: &serde_json::Value) -> Vec<&serde_json::Value> {
    obj.pointer("/status/conditions")
        .and_then(|c| c.as_array())
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn condition<'a>(obj: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    conditions(obj).into_iter().find(|c| {
        c["type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case(name))
    })
}

fn describe_condition(c: &serde_json::Value) -> String {
    let mut s = format!(
        "{}={}",
        c["type"].as_str().unwrap_or("?"),
        c["status"].as_str().unwrap_or("?")
    );
    if let Some(r) = c["reason"].as_str().filter(|r| !r.is_empty()) {
        s.push_str(&format!(" ({r})"));
    }
    if let Some(m) = c["message"].as_str().filter(|m| !m.is_empty()) {
        s.push_str(&format!(": {m}"));
    }
    s
}

/// When a condition was reported for an older generation of the object (the controller has
/// not seen the last change yet): the generation it reflects and the object's. The
/// condition's own `observedGeneration` counts, else `status.observedGeneration`.
fn stale_condition(obj: &serde_json::Value, c: &serde_json::Value) -> Option<(i64, i64)> {
    let generation = obj.pointer("/metadata/generation")?.as_i64()?;
    let seen = c
        .get("observedGeneration")
        .and_then(|g| g.as_i64())
        .or_else(|| {
            obj.pointer("/status/observedGeneration")
                .and_then(|g| g.as_i64())
        })?;
    (seen < generation).then_some((seen, generation))
}

fn progress(wait: &Wait, obj: &serde_json::Value) -> Progress {
    match wait {
        Wait::None => Progress::Done,
        Wait::Condition(name, _) => match condition(obj, name) {
            Some(c) if let Some((seen, generation)) = stale_condition(obj, c) => {
                Progress::Pending(format!(
                    "{} is of generation {seen}; the object is at generation {generation}",
                    describe_condition(c)
                ))
            }
            Some(c) if c["status"] == "True" => Progress::Done,
            Some(c) => Progress::Pending(describe_condition(c)),
            None => Progress::Pending(format!("no {name} condition yet")),
        },
        Wait::Complete(_) => {
            if let Some(c) = condition(obj, "Failed").filter(|c| c["status"] == "True") {
                return Progress::Failed(format!(
                    "failed: {}: {}",
                    c["reason"].as_str().unwrap_or("Failed"),
                    c["message"].as_str().unwrap_or("no message")
                ));
            }
            match condition(obj, "Complete") {
                Some(c) if c["status"] == "True" => Progress::Done,
                _ => Progress::Pending(format!(
                    "not complete yet (succeeded: {}, active: {}, failed: {})",
                    obj.pointer("/status/succeeded").unwrap_or(&0.into()),
                    obj.pointer("/status/active").unwrap_or(&0.into()),
                    obj.pointer("/status/failed").unwrap_or(&0.into()),
                )),
            }
        }
        Wait::Rollout(_) => {
            let int = |ptr: &str| obj.pointer(ptr).and_then(|v| v.as_i64());
            if let Some(c) = condition(obj, "Progressing")
                && c["reason"] == "ProgressDeadlineExceeded"
            {
                return Progress::Failed(format!("rollout failed: {}", describe_condition(c)));
            }
            let generation = int("/metadata/generation").unwrap_or(0);
            let observed = int("/status/observedGeneration").unwrap_or(0);
            if observed < generation {
                return Progress::Pending("the controller has not seen the change yet".into());
            }
            let kind = obj["kind"].as_str().unwrap_or_default();
            let (want, updated, ready) = if kind == "DaemonSet" {
                (
                    int("/status/desiredNumberScheduled").unwrap_or(0),
                    int("/status/updatedNumberScheduled").unwrap_or(0),
                    int("/status/numberAvailable").unwrap_or(0),
                )
            } else {
                (
                    int("/spec/replicas").unwrap_or(1),
                    int("/status/updatedReplicas").unwrap_or(0),
                    int(if kind == "StatefulSet" {
                        "/status/readyReplicas"
                    } else {
                        "/status/availableReplicas"
                    })
                    .unwrap_or(0),
                )
            };
            let total = int("/status/replicas").unwrap_or(updated);
            if updated >= want && ready >= want && total <= updated {
                Progress::Done
            } else {
                Progress::Pending(format!(
                    "{updated} of {want} replicas updated, {ready} available, {total} in all"
                ))
            }
        }
    }
}

fn wait_timeout(w: &Wait) -> Duration {
    match w {
        Wait::None => Duration::ZERO,
        Wait::Condition(_, t) | Wait::Complete(t) | Wait::Rollout(t) => *t,
    }
}

/// The request to the object's URL.
fn object_request(r: &Resolved, obj: &ObjectRef) -> kube::core::Request {
    let ns = if r.namespaced {
        obj.namespace.as_deref()
    } else {
        None
    };
    kube::core::Request::new(DynamicObject::url_path(&r.resource, ns))
}

impl KubernetesProvider {
    /// A provider that reaches clusters through kubeconfigs only.
    pub fn new() -> Self {
        KubernetesProvider {
            credentials: None,
            conns: Connections::default(),
            retry_attempts: 5,
            retry_base: Duration::from_millis(500),
            poll_interval: Duration::from_millis(100),
            connect_timeout: connection::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: connection::DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// A provider that also fetches AKS credentials (`cluster = ...`) from `credentials`.
    pub fn with_credentials(credentials: Arc<dyn ClusterCredentials>) -> Self {
        KubernetesProvider {
            credentials: Some(credentials),
            ..Self::new()
        }
    }

    fn retry<'a>(&self, req: &'a Request<'_>) -> Retry<'a> {
        Retry {
            reporter: req.reporter,
            address: req.address,
            attempts: self.retry_attempts,
            base: self.retry_base,
        }
    }

    fn timeouts(&self) -> connection::Timeouts {
        connection::Timeouts {
            connect: self.connect_timeout,
            request: self.request_timeout,
        }
    }

    /// The connection of this request's settings.
    async fn conn(&self, req: &Request<'_>) -> Result<Result<Arc<Conn>, NoConn>, ProviderError> {
        self.conns
            .get(
                req.settings,
                self.credentials.as_deref(),
                Absent::AskAgain,
                self.timeouts(),
            )
            .await
    }

    /// The connection for a plan, which may take a recent "the cluster does not exist" again
    /// instead of asking ARM once per planned object.
    async fn conn_for_plan(
        &self,
        req: &Request<'_>,
    ) -> Result<Result<Arc<Conn>, NoConn>, ProviderError> {
        self.conns
            .get(
                req.settings,
                self.credentials.as_deref(),
                Absent::Reuse,
                self.timeouts(),
            )
            .await
    }

    /// The connection, which must exist (to create, update or run an action).
    async fn require_conn(&self, req: &Request<'_>) -> Result<Arc<Conn>, ProviderError> {
        match self.conn(req).await? {
            Ok(c) => Ok(c),
            Err(NoConn::Unknown) => Err(ProviderError::new(
                "the cluster to use is not known yet ([provider.kubernetes] refers to something not created)",
            )),
            Err(NoConn::ClusterGone) => Err(ProviderError::with_code(
                "ResourceNotFound",
                format!(
                    "the cluster [provider.kubernetes] names does not exist: {}",
                    req.settings
                        .get(&p("cluster"))
                        .map(|c| c.render())
                        .unwrap_or_default()
                ),
            )),
        }
    }

    /// How the cluster serves a kind (discovery, cached per connection): `Ok(None)` when it
    /// does not (yet; absent kinds are asked again: a CRD may appear while plinth runs, e.g.
    /// when an add-on is enabled).
    async fn resolve(
        &self,
        req: &Request<'_>,
        conn: &Arc<Conn>,
        gvk: &Gvk,
    ) -> Result<Option<Resolved>, ProviderError> {
        if let Some(r) = conn.known_kind(gvk) {
            return Ok(Some(r));
        }
        let want = kube::api::GroupVersionKind::gvk(&gvk.group, &gvk.version, &gvk.kind);
        let what = format!("discovering {}", gvk.type_name());
        let found = self
            .on_cluster(req, conn, &what, |client| {
                let want = &want;
                async move { kube::discovery::pinned_kind(&client, want).await }
            })
            .await;
        match found {
            Ok(((resource, caps), used)) => {
                let r = Resolved {
                    resource,
                    namespaced: caps.scope == kube::discovery::Scope::Namespaced,
                };
                used.remember_kind(gvk, &r);
                Ok(Some(r))
            }
            Err(e) if errors::is_not_served(&e) => {
                self.require_api_server(conn).await?;
                Ok(None)
            }
            Err(e) => Err(errors::provider_error(&e, &what)),
        }
    }

    /// Checks that a server that does not serve a kind is a Kubernetes API server at all
    /// (`/version` answers): one that answers 404 for everything is not a cluster whose
    /// CRD is missing, but no cluster (deleted, or the kubeconfig names something else).
    async fn require_api_server(&self, conn: &Arc<Conn>) -> Result<(), ProviderError> {
        let Ok(version) = http::Request::get("/version").body(Vec::new()) else {
            return Ok(());
        };
        match conn.client.request_text(version).await {
            Err(e) if errors::is_not_found(&e) => Err(ProviderError::with_code(
                "NotFound",
                format!(
                    "{} is not a Kubernetes API server (it answers 404 even for /version): the cluster does not exist there; check [provider.kubernetes] (kubeconfig, context or cluster)",
                    conn.server
                ),
            )),
            _ => Ok(()),
        }
    }

    async fn require_kind(
        &self,
        req: &Request<'_>,
        conn: &Arc<Conn>,
        gvk: &Gvk,
    ) -> Result<Resolved, ProviderError> {
        self.resolve(req, conn, gvk).await?.ok_or_else(|| {
            ProviderError::with_code(
                "NotFound",
                format!(
                    "the cluster does not serve {} (apiVersion {}): is its CRD or add-on installed?",
                    gvk.kind,
                    gvk.api_version()
                ),
            )
        })
    }

    /// Runs `f` with the cluster's client, retried while it fails transiently. When the
    /// connection turns out not to reach the cluster any more (its credentials are refused,
    /// the address no longer answers or its certificate is not trusted, or the server answers
    /// 404 even for `/version`), as when the AKS cluster was replaced (same ARM id, new
    /// address, CA and token), the cached connection is forgotten and one is made again from
    /// fresh credentials, and `f` is tried once more with it. Answers the connection that
    /// answered too.
    async fn on_cluster<T, F, Fut>(
        &self,
        req: &Request<'_>,
        conn: &Arc<Conn>,
        what: &str,
        f: F,
    ) -> Result<(T, Arc<Conn>), kube::Error>
    where
        F: Fn(kube::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, kube::Error>>,
    {
        // A call that gave up waiting says how long it waited, and for which server.
        self.on_cluster_inner(req, conn, what, f)
            .await
            .map_err(|e| {
                if errors::is_timeout(&e) {
                    kube::Error::Service(Box::new(errors::TimedOut {
                        after: conn.request_timeout,
                        server: conn.server.clone(),
                    }))
                } else {
                    e
                }
            })
    }

    async fn on_cluster_inner<T, F, Fut>(
        &self,
        req: &Request<'_>,
        conn: &Arc<Conn>,
        what: &str,
        f: F,
    ) -> Result<(T, Arc<Conn>), kube::Error>
    where
        F: Fn(kube::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, kube::Error>>,
    {
        let retry = self.retry(req);
        // A connection made again since `conn` was taken (by another call) is used instead.
        let conn = match self.conn(req).await {
            Ok(Ok(current)) => current,
            _ => conn.clone(),
        };
        // A connection failure is not retried on this client: it is made again first.
        let first = retry
            .run_kube_until(
                what,
                || f(conn.client.clone()),
                errors::is_connection_failure,
            )
            .await;
        let e = match first {
            Ok(v) => return Ok((v, conn)),
            Err(e) => e,
        };
        if !self.is_stale(&conn, &e).await {
            return Err(e);
        }
        self.conns.forget(req.settings, &conn).await;
        match self.conn(req).await {
            Ok(Ok(fresh)) => retry
                .run_kube(what, || f(fresh.client.clone()))
                .await
                .map(|v| (v, fresh)),
            // No fresh credentials now (ARM is unreachable too): retry as with any
            // connection failure, on the client at hand.
            _ if errors::is_connection_failure(&e) => retry
                .run_kube(what, || f(conn.client.clone()))
                .await
                .map(|v| (v, conn.clone())),
            _ => Err(e),
        }
    }

    /// Whether `e` says that `conn` no longer reaches the cluster its settings name.
    async fn is_stale(&self, conn: &Conn, e: &kube::Error) -> bool {
        if errors::is_unauthorized(e) || errors::is_connection_failure(e) {
            return true;
        }
        if !errors::names_no_object(e) {
            return false;
        }
        // The URL is not served: a kind the cluster no longer serves (then `/version` still
        // answers), or a server that is not the cluster's API any more.
        let version = http::Request::get("/version").body(Vec::new());
        match version {
            Ok(r) => conn.client.request_text(r).await.is_err(),
            Err(_) => false,
        }
    }

    /// One JSON call ([`Self::on_cluster`]).
    async fn call(
        &self,
        req: &Request<'_>,
        conn: &Arc<Conn>,
        what: &str,
        build: &(dyn Fn() -> Result<http_request::Req, kube::core::request::Error> + Sync),
    ) -> Result<serde_json::Value, kube::Error> {
        self.on_cluster(req, conn, what, |client| async move {
            let r = build().map_err(kube::Error::BuildRequest)?;
            client.request::<serde_json::Value>(r).await
        })
        .await
        .map(|(v, _)| v)
    }

    async fn get(
        &self,
        req: &Request<'_>,
        conn: &Arc<Conn>,
        r: &Resolved,
        obj: &ObjectRef,
    ) -> Result<Option<serde_json::Value>, ProviderError> {
        let url = object_request(r, obj);
        let what = format!("reading {}", obj.describe());
        match self
            .call(req, conn, &what, &|| {
                url.get(&obj.name, &GetParams::default())
            })
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(e) if errors::is_not_found(&e) => Ok(None),
            Err(e) => Err(errors::provider_error(&e, &what)),
        }
    }

    /// Server-side apply (manager `plinth`). Conflicts only with imperative edits are drift
    /// and taken back; conflicts with other appliers are refused unless `force`.
    async fn apply(
        &self,
        req: &Request<'_>,
        conn: &Arc<Conn>,
        r: &Resolved,
        obj: &ObjectRef,
        manifest: &serde_json::Value,
        how: Apply,
    ) -> Result<serde_json::Value, (kube::Error, ProviderError)> {
        let Apply { force, dry_run } = how;
        let url = object_request(r, obj);
        let what = format!(
            "{} {}",
            if dry_run {
                "dry-run apply of"
            } else {
                "applying"
            },
            obj.describe()
        );
        let params = |force: bool| {
            let mut pp = PatchParams::apply(FIELD_MANAGER);
            pp.force = force;
            pp.dry_run = dry_run;
            pp
        };
        let send = |force: bool| {
            let pp = params(force);
            let url = &url;
            let what = &what;
            async move {
                self.call(req, conn, what, &|| {
                    url.patch(&obj.name, &pp, &Patch::Apply(manifest))
                })
                .await
            }
        };
        match send(force).await {
            Ok(v) => Ok(v),
            Err(e) => match errors::apply_conflicts(&e) {
                Some(c) if !force && errors::only_hand_edit_conflicts(&c) => {
                    send(true).await.map_err(|e| {
                        let pe = errors::provider_error(&e, &what);
                        (e, pe)
                    })
                }
                Some(c) => {
                    let fields: Vec<String> = c
                        .iter()
                        .map(|(m, f)| {
                            let m = errors::conflict_manager(m);
                            match &m.update_using {
                                None => format!("{f} (applied by {:?})", m.name),
                                Some(v) => format!("{f} (written by {:?} using {v})", m.name),
                            }
                        })
                        .collect();
                    let controllers = c
                        .iter()
                        .any(|(m, _)| errors::conflict_manager(m).update_using.is_some());
                    let pe = ProviderError::with_code(
                        "Conflict",
                        format!(
                            "{what}: server-side apply conflict: another field manager owns {}. {}Set `force = true` on this resource to take these fields over, or remove them from its manifest.",
                            fields.join(", "),
                            if controllers {
                                "A manager that writes with an update and is not a hand edit (kubectl edit, label, annotate, patch, scale, ...) is taken to be a controller, such as an autoscaler writing spec.replicas: taking its fields back would fight it on every apply. "
                            } else {
                                ""
                            }
                        ),
                    );
                    Err((e, pe))
                }
                None => {
                    let pe = errors::provider_error(&e, &what);
                    Err((e, pe))
                }
            },
        }
    }

    /// Polls until `wait` is met; returns the object as last read.
    async fn wait_for(
        &self,
        req: &Request<'_>,
        conn: &Arc<Conn>,
        r: &Resolved,
        obj: &ObjectRef,
        wait: &Wait,
        mut current: serde_json::Value,
    ) -> Result<serde_json::Value, ProviderError> {
        let timeout = wait_timeout(wait);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut interval = self.poll_interval;
        loop {
            match progress(wait, &current) {
                Progress::Done => return Ok(current),
                Progress::Failed(why) => {
                    return Err(ProviderError::with_code(
                        "WaitFailed",
                        format!("{} {why}", obj.describe()),
                    ));
                }
                Progress::Pending(why) => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(ProviderError::with_code(
                            "WaitTimeout",
                            format!(
                                "{} did not become ready within {}: {why}",
                                obj.describe(),
                                humantime::format_duration(timeout)
                            ),
                        ));
                    }
                }
            }
            tokio::time::sleep(interval.min(deadline - tokio::time::Instant::now())).await;
            interval = (interval * 2).min(MAX_POLL);
            current = self.get(req, conn, r, obj).await?.ok_or_else(|| {
                ProviderError::with_code(
                    "NotFound",
                    format!("{} was deleted while plinth waited for it", obj.describe()),
                )
            })?;
        }
    }

    /// Creates or updates: apply, then wait as asked.
    async fn put(&self, req: &Request<'_>, config: &Value) -> Result<Observed, ProviderError> {
        let gvk = Gvk::parse(req.type_name)?;
        let opts = options(config)?;
        let mut manifest = desired(&gvk, config)?;
        if let Some(path) = manifest.unknown_paths().first() {
            return Err(ProviderError::new(format!(
                "manifest.{path} is still unknown"
            )));
        }
        let conn = self.require_conn(req).await?;
        let r = self.require_kind(req, &conn, &gvk).await?;
        scope_namespace(&mut manifest, &gvk, r.namespaced)?;
        let obj = object_ref(&gvk, &manifest)
            .ok_or_else(|| ProviderError::new("manifest.metadata.name must be a string"))?;
        let body = manifest.unmark_all().to_json();
        let applied = self
            .apply(
                req,
                &conn,
                &r,
                &obj,
                &body,
                Apply {
                    force: opts.force,
                    dry_run: false,
                },
            )
            .await
            .map_err(|(_, pe)| pe)?;
        let done = self
            .wait_for(req, &conn, &r, &obj, &opts.wait, applied)
            .await?;
        Ok(Observed {
            id: Some(obj.id()),
            attributes: attributes_of(&gvk, done),
        })
    }

    /// The object a prior record names.
    fn prior_ref(&self, gvk: &Gvk, prior: &Prior) -> Option<ObjectRef> {
        if let Some(id) = &prior.id
            && let Ok(r) = ObjectRef::parse_id(id)
        {
            return Some(r);
        }
        let mut m = desired(gvk, &prior.inputs).ok()?;
        scope_namespace(&mut m, gvk, !gvk.guess_cluster_scoped()).ok()?;
        object_ref(gvk, &m)
    }

    /// The plan without asking the cluster: a create is the manifest with the server's
    /// fields unknown; an update compares the manifest with the object directly.
    fn plan_offline(
        &self,
        gvk: &Gvk,
        prior: Option<&Prior>,
        manifest: &Value,
        previous: &Value,
    ) -> Planned {
        let Some(prior) = prior else {
            return Planned {
                attributes: new_object(gvk, manifest),
                changed: Vec::new(),
                requires_replace: Vec::new(),
            };
        };
        let live = &prior.attributes;
        let mut paths = Vec::new();
        compared_paths(manifest, &mut paths);
        let mut changed: Vec<Path> = Vec::new();
        for path in &paths {
            let want = manifest.get(path);
            let is = live.get(path);
            let differs = match &want {
                Some(w) if !w.is_wholly_known() => true,
                Some(w) => {
                    !diff::changed_paths(w, is.as_ref().unwrap_or(&Value::Null), &diff::ExactEq)
                        .is_empty()
                }
                None => false,
            };
            if differs {
                changed.push(manifest_path(path));
            }
        }
        // What the last apply set and the manifest no longer does goes.
        let mut dropped = Vec::new();
        compared_paths(previous, &mut dropped);
        let mut attributes = diff::overlay(live, manifest);
        for path in dropped {
            if manifest.get(&path).is_none()
                && live.get(&path).is_some_and(|v| !matches!(v, Value::Null))
            {
                attributes.remove(&path);
                changed.push(manifest_path(&path));
            }
        }
        if changed.is_empty() {
            attributes = live.clone();
        } else {
            attributes.set(&p("metadata.resourceVersion"), Value::Unknown);
        }
        mark_secrets(gvk, &mut attributes);
        Planned {
            attributes,
            changed,
            requires_replace: Vec::new(),
        }
    }

    async fn restart(&self, req: &Request<'_>, config: &Value) -> Result<(), ProviderError> {
        let target = match config.get(&p("target")).map(|t| t.unmark_all()) {
            Some(Value::String(s)) => s,
            _ => {
                return Err(ProviderError::new(
                    "`target` is required: \"<namespace>/<Kind>/<name>\", e.g. \"kube-system/Deployment/keda-operator\"",
                ));
            }
        };
        let obj = kind::parse_restart_target(&target)?;
        let conn = self.require_conn(req).await?;
        let r = self.require_kind(req, &conn, &obj.gvk).await?;
        let url = object_request(&r, &obj);
        let patch = serde_json::json!({
            "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now_rfc3339()}}}}
        });
        let pp = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let what = format!("restarting {}", obj.describe());
        self.call(req, &conn, &what, &|| {
            url.patch(&obj.name, &pp, &Patch::Strategic(&patch))
        })
        .await
        .map_err(|e| {
            if errors::is_not_found(&e) {
                ProviderError::with_code(
                    "NotFound",
                    format!("{what}: {} not found", obj.describe()),
                )
            } else {
                errors::provider_error(&e, &what)
            }
        })?;
        Ok(())
    }
}

/// The request type kube's request builder makes.
mod http_request {
    pub type Req = http::Request<Vec<u8>>;
}

#[async_trait]
impl Provider for KubernetesProvider {
    fn name(&self) -> &str {
        "k8s"
    }

    fn settings_table(&self) -> &str {
        "kubernetes"
    }

    fn settings_references(&self) -> &[&str] {
        &["cluster"]
    }

    fn settings_reference_accepts(&self, key: &str, type_name: &str) -> bool {
        // Credentials come from `listClusterUserCredential`: only an AKS cluster has them.
        key != "cluster"
            || type_name
                .to_ascii_lowercase()
                .starts_with("azure:microsoft.containerservice/managedclusters@")
    }

    fn schema(&self, type_name: &str) -> Option<TypeSchema> {
        if type_name == ROLLOUT_RESTART {
            return Some(TypeSchema {
                type_name: format!("k8s:{ROLLOUT_RESTART}"),
                description: "Restarts a Deployment, StatefulSet or DaemonSet as `kubectl rollout restart` does (patches spec.template.metadata.annotations[\"kubectl.kubernetes.io/restartedAt\"]); run when what it is `on` changes.".into(),
                inputs: vec![InputSchema::new("target",
                    ValueKind::String,
                    true,
                    "\"<namespace>/<Kind>/<name>\", e.g. \"kube-system/Deployment/keda-operator\".",
                )],
                open: false,
                computed: vec![],
                force_new: vec![],
                sensitive: vec![],
                data_source: false,
                managed: false,
                action: true,
            });
        }
        let gvk = Gvk::parse(type_name).ok()?;
        let secret = is_secret(&gvk);
        Some(TypeSchema {
            type_name: format!("k8s:{type_name}"),
            description: format!(
                "Kubernetes {} (apiVersion {}), applied server-side with field manager `plinth`.",
                gvk.kind,
                gvk.api_version()
            ),
            inputs: vec![
                InputSchema::new(
                    "manifest",
                    ValueKind::Map,
                    true,
                    "The object: metadata, spec, ... (apiVersion and kind default to the type's; metadata.namespace to \"default\" for namespaced kinds).",
                ),
                InputSchema::new(
                    "force",
                    ValueKind::Bool,
                    false,
                    "Take over fields another server-side applier or a controller owns (default false: such conflicts are errors; fields changed by hand with kubectl edit, label, annotate, patch, scale, ... are taken back without it).",
                ),
                InputSchema::new(
                    "wait",
                    ValueKind::Map,
                    false,
                    "Wait after applying: { condition = \"Ready\", timeout = \"10m\" }, { complete = true } (Jobs) or { rollout = true } (Deployments, StatefulSets, DaemonSets).",
                ),
                InputSchema::new(
                    "delete_timeout",
                    ValueKind::Duration,
                    false,
                    "How long a delete waits for the object to be gone (default 2m).",
                ),
            ],
            open: false,
            computed: SERVER_FILLED.iter().map(|s| p(s)).collect(),
            force_new: IDENTITY.iter().map(|s| manifest_path(&p(s))).collect(),
            sensitive: if secret {
                secret_paths()
                    .into_iter()
                    .flat_map(|a| [manifest_path(&a), a])
                    .collect()
            } else {
                vec![]
            },
            data_source: false,
            managed: true,
            action: false,
        })
    }

    fn type_names(&self) -> Vec<String> {
        [
            "v1/Namespace",
            "v1/ServiceAccount",
            "v1/ConfigMap",
            "v1/Secret",
            "v1/Service",
            "apps/v1/Deployment",
            "apps/v1/StatefulSet",
            "apps/v1/DaemonSet",
            "batch/v1/Job",
            "batch/v1/CronJob",
            "keda.sh/v1alpha1/ScaledJob",
            "keda.sh/v1alpha1/ScaledObject",
            "keda.sh/v1alpha1/TriggerAuthentication",
            ROLLOUT_RESTART,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<(Path, String)> {
        let mut out = Vec::new();
        if type_name == ROLLOUT_RESTART {
            if let Some(Value::String(t)) = config.get(&p("target")).map(|t| t.unmark_all())
                && let Err(e) = kind::parse_restart_target(&t)
            {
                out.push((p("target"), e.message));
            }
            return out;
        }
        let gvk = match Gvk::parse(type_name) {
            Ok(g) => g,
            Err(e) => return vec![(Path::root(), e.message)],
        };
        if let Err(e) = desired(&gvk, config) {
            out.push((p("manifest"), e.message));
        }
        if let Err(e) = options(config) {
            out.push((Path::root(), e.message));
        }
        if gvk.guess_cluster_scoped() && config.get(&p("manifest.metadata.namespace")).is_some() {
            out.push((
                p("manifest.metadata.namespace"),
                format!("{} is cluster-scoped: remove the namespace", gvk.kind),
            ));
        }
        out
    }

    fn planned_id(&self, type_name: &str, config: &Value) -> Option<String> {
        let gvk = Gvk::parse(type_name).ok()?;
        let mut m = desired(&gvk, config).ok()?;
        scope_namespace(&mut m, &gvk, !gvk.guess_cluster_scoped()).ok()?;
        object_ref(&gvk, &m).map(|r| r.id())
    }

    fn estimate(&self, _type_name: &str, config: &Value) -> Duration {
        match options(config).map(|o| o.wait) {
            Ok(Wait::None) | Err(_) => Duration::from_secs(1),
            Ok(_) => Duration::from_secs(30),
        }
    }

    async fn plan(
        &self,
        req: &Request<'_>,
        prior: Option<&Prior>,
        config: &Value,
    ) -> Result<Planned, ProviderError> {
        if req.type_name == ROLLOUT_RESTART {
            return Ok(Planned {
                attributes: config.clone(),
                ..Default::default()
            });
        }
        let gvk = Gvk::parse(req.type_name)?;
        let opts = options(config)?;
        let mut manifest = desired(&gvk, config)?;
        let previous = prior
            .and_then(|p| desired(&gvk, &p.inputs).ok())
            .unwrap_or(Value::Null);
        let conn = self.conn_for_plan(req).await?.ok();
        let resolved = match &conn {
            Some(c) => self.resolve(req, c, &gvk).await?,
            None => None,
        };
        let namespaced = resolved
            .as_ref()
            .map_or(!gvk.guess_cluster_scoped(), |r| r.namespaced);
        scope_namespace(&mut manifest, &gvk, namespaced)?;

        // The object's identity: a change replaces it.
        if let Some(prior) = prior {
            let replace: Vec<Path> = IDENTITY
                .iter()
                .map(|s| p(s))
                .filter(|path| {
                    let want = manifest.get(path);
                    let is = prior.attributes.get(path);
                    want.as_ref().is_some_and(|w| !w.is_wholly_known())
                        || !same(want.as_ref(), is.as_ref())
                })
                .map(|path| manifest_path(&path))
                .collect();
            if !replace.is_empty() {
                return Ok(Planned {
                    attributes: new_object(&gvk, &manifest),
                    changed: replace.clone(),
                    requires_replace: replace,
                });
            }
        }

        let (Some(conn), Some(r)) = (conn, resolved) else {
            return Ok(self.plan_offline(&gvk, prior, &manifest, &previous));
        };
        if !manifest.is_wholly_known() {
            return Ok(self.plan_offline(&gvk, prior, &manifest, &previous));
        }
        let obj = object_ref(&gvk, &manifest)
            .ok_or_else(|| ProviderError::new("manifest.metadata.name must be a string"))?;
        let body = manifest.unmark_all().to_json();
        let dry = match self
            .apply(
                req,
                &conn,
                &r,
                &obj,
                &body,
                Apply {
                    force: opts.force,
                    dry_run: true,
                },
            )
            .await
        {
            Ok(v) => v,
            // Its namespace may be created by this same apply.
            Err((e, _)) if prior.is_none() && errors::is_not_found(&e) => {
                return Ok(self.plan_offline(&gvk, prior, &manifest, &previous));
            }
            // A change the server refuses as immutable (a Job's template, a Deployment's
            // selector) is made by replacing the object.
            Err((e, pe)) if prior.is_some() && !errors::immutable_fields(&e).is_empty() => {
                let fields = errors::immutable_fields(&e);
                let offline = self.plan_offline(&gvk, prior, &manifest, &previous);
                let mut replace: Vec<Path> = offline
                    .changed
                    .iter()
                    .filter(|c| {
                        fields
                            .iter()
                            .any(|f| c.overlaps(&manifest_path(f)) || f.is_root())
                    })
                    .cloned()
                    .collect();
                if replace.is_empty() {
                    replace = offline.changed.clone();
                }
                if replace.is_empty() {
                    return Err(pe);
                }
                return Ok(Planned {
                    attributes: new_object(&gvk, &manifest),
                    changed: offline.changed,
                    requires_replace: replace,
                });
            }
            Err((_, pe)) => return Err(pe),
        };
        let after = attributes_of(&gvk, dry);
        // The object state records was read where its recorded settings point; the dry run
        // ran where the settings point now. Another object there (or none) means the settings
        // now reach another cluster (a changed kubeconfig or context): the object is replaced,
        // deleted where it was and created where the settings point.
        if let Some(prior) = prior
            && let Some(was) = prior
                .attributes
                .get(&p("metadata.uid"))
                .and_then(|u| u.as_str().map(str::to_string))
            && after
                .get(&p("metadata.uid"))
                .and_then(|u| u.as_str().map(str::to_string))
                .as_deref()
                != Some(was.as_str())
        {
            let uid = manifest_path(&p("metadata.uid"));
            return Ok(Planned {
                attributes: new_object(&gvk, &manifest),
                changed: vec![uid.clone()],
                requires_replace: vec![uid],
            });
        }
        let Some(prior) = prior else {
            let mut attributes = after;
            for f in SERVER_FILLED {
                if *f != "metadata.generation" && attributes.get(&p(f)).is_some() {
                    attributes.set(&p(f), Value::Unknown);
                }
            }
            return Ok(Planned {
                attributes,
                changed: Vec::new(),
                requires_replace: Vec::new(),
            });
        };
        let live = &prior.attributes;
        let mut paths = Vec::new();
        compared_paths(&manifest, &mut paths);
        compared_paths(&previous, &mut paths);
        if gvk.group.is_empty() && gvk.kind == "Secret" {
            // The server keeps a Secret's stringData as data.
            let from_string_data: Vec<Path> = paths
                .iter()
                .filter_map(|path| match path.segments() {
                    [PathSeg::Key(k), rest @ ..] if k == "stringData" => {
                        let mut segs = vec![PathSeg::Key("data".into())];
                        segs.extend(rest.iter().cloned());
                        Some(Path::from_segments(segs))
                    }
                    _ => None,
                })
                .collect();
            paths.extend(from_string_data);
        }
        paths.sort();
        paths.dedup();
        let mut changed: Vec<Path> = paths
            .iter()
            .filter(|path| !same(live.get(path).as_ref(), after.get(path).as_ref()))
            .map(|path| match path.segments() {
                // A change of data.k that the manifest sets as stringData.k.
                [PathSeg::Key(d), rest @ ..]
                    if d == "data"
                        && manifest.get(path).is_none()
                        && previous.get(path).is_none() =>
                {
                    let mut segs = vec![PathSeg::Key("stringData".into())];
                    segs.extend(rest.iter().cloned());
                    manifest_path(&Path::from_segments(segs))
                }
                _ => manifest_path(path),
            })
            .collect();
        changed.sort();
        changed.dedup();
        let attributes = if changed.is_empty() {
            live.clone()
        } else {
            let mut a = after;
            a.set(&p("metadata.resourceVersion"), Value::Unknown);
            a
        };
        Ok(Planned {
            attributes,
            changed,
            requires_replace: Vec::new(),
        })
    }

    async fn read(
        &self,
        req: &Request<'_>,
        prior: &Prior,
    ) -> Result<Option<Observed>, ProviderError> {
        let gvk = Gvk::parse(req.type_name)?;
        let Some(mut obj) = self.prior_ref(&gvk, prior) else {
            return Ok(None);
        };
        let conn = match self.conn(req).await? {
            Ok(c) => c,
            // ARM says the cluster does not exist: nor does anything in it.
            Err(NoConn::ClusterGone) => return Ok(None),
            // The cluster is not known yet (its settings refer to something not created, e.g.
            // `cluster` was pointed at a new AKS resource): nothing can be checked now. An
            // object never read (the existence check of a planned create) cannot exist in a
            // cluster that does not exist yet; one read before is as it was last seen, not
            // deleted.
            Err(NoConn::Unknown) => {
                return Ok(match prior.attributes {
                    Value::Null => None,
                    _ => Some(Observed {
                        id: prior.id.clone(),
                        attributes: prior.attributes.clone(),
                    }),
                });
            }
        };
        let Some(r) = self.resolve(req, &conn, &gvk).await? else {
            return Ok(None);
        };
        if !r.namespaced {
            obj.namespace = None;
        } else if obj.namespace.is_none() {
            obj.namespace = Some("default".into());
        }
        Ok(self.get(req, &conn, &r, &obj).await?.map(|got| Observed {
            id: Some(obj.id()),
            attributes: attributes_of(&gvk, got),
        }))
    }

    async fn create(&self, req: &Request<'_>, config: &Value) -> Result<Observed, ProviderError> {
        self.put(req, config).await
    }

    async fn update(
        &self,
        req: &Request<'_>,
        _prior: &Prior,
        config: &Value,
    ) -> Result<Observed, ProviderError> {
        self.put(req, config).await
    }

    async fn delete(&self, req: &Request<'_>, prior: &Prior) -> Result<(), ProviderError> {
        let gvk = Gvk::parse(req.type_name)?;
        let Some(mut obj) = self.prior_ref(&gvk, prior) else {
            return Ok(());
        };
        let timeout = options(&prior.inputs)
            .map(|o| o.delete_timeout)
            .unwrap_or(DEFAULT_DELETE_TIMEOUT);
        let conn = match self.conn(req).await? {
            Ok(c) => c,
            // The cluster is gone, and its objects with it.
            Err(NoConn::ClusterGone) => return Ok(()),
            Err(NoConn::Unknown) => {
                return Err(ProviderError::new(
                    "the cluster this object lives in is not known",
                ));
            }
        };
        // A kind no longer served went with its CRD, objects included.
        let Some(r) = self.resolve(req, &conn, &gvk).await? else {
            return Ok(());
        };
        if !r.namespaced {
            obj.namespace = None;
        }
        let url = object_request(&r, &obj);
        let what = format!("deleting {}", obj.describe());
        let dp = DeleteParams::background();
        match self
            .call(req, &conn, &what, &|| url.delete(&obj.name, &dp))
            .await
        {
            Ok(_) => {}
            Err(e) if errors::is_not_found(&e) => return Ok(()),
            Err(e) => return Err(errors::provider_error(&e, &what)),
        }
        // The server took the delete: a failure from here on says so (the object may be
        // going or gone; the next refresh settles it).
        let deadline = tokio::time::Instant::now() + timeout;
        let mut interval = self.poll_interval;
        loop {
            let still = self
                .get(req, &conn, &r, &obj)
                .await
                .map_err(ProviderError::after_accepted)?;
            let Some(still) = still else {
                return Ok(());
            };
            if tokio::time::Instant::now() >= deadline {
                let finalizers = still
                    .pointer("/metadata/finalizers")
                    .and_then(|f| f.as_array())
                    .map(|f| {
                        f.iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .filter(|f| !f.is_empty());
                return Err(ProviderError::with_code(
                    "DeleteTimeout",
                    format!(
                        "{} still exists {} after it was deleted{}; raise delete_timeout to wait longer",
                        obj.describe(),
                        humantime::format_duration(timeout),
                        finalizers
                            .map(|f| format!(" (finalizers: {f})"))
                            .unwrap_or_default()
                    ),
                )
                .after_accepted());
            }
            tokio::time::sleep(interval.min(deadline - tokio::time::Instant::now())).await;
            interval = (interval * 2).min(MAX_POLL);
        }
    }

    async fn import(
        &self,
        req: &Request<'_>,
        id: &str,
    ) -> Result<(Observed, Value), ProviderError> {
        let gvk = Gvk::parse(req.type_name)?;
        let obj = ObjectRef::parse_id(id)?;
        if obj.gvk != gvk {
            return Err(ProviderError::new(format!(
                "`{id}` is a {} ({}), but the resource is k8s:{}",
                obj.gvk.kind,
                obj.gvk.api_version(),
                gvk.type_name()
            )));
        }
        let prior = Prior {
            id: Some(id.to_string()),
            inputs: Value::Null,
            attributes: Value::Null,
        };
        let observed = self.read(req, &prior).await?.ok_or_else(|| {
            ProviderError::with_code("NotFound", format!("{} was not found", obj.describe()))
        })?;
        let mut manifest = observed.attributes.clone();
        for path in [
            "status",
            "metadata.uid",
            "metadata.resourceVersion",
            "metadata.generation",
            "metadata.creationTimestamp",
            "metadata.selfLink",
            "metadata.managedFields",
        ] {
            manifest.remove(&p(path));
        }
        manifest.remove(&Path::from_segments(vec![
            PathSeg::Key("metadata".into()),
            PathSeg::Key("annotations".into()),
            PathSeg::Key(LAST_APPLIED.into()),
        ]));
        if manifest
            .get(&p("metadata.annotations"))
            .and_then(|a| a.as_map().map(Map::is_empty))
            == Some(true)
        {
            manifest.remove(&p("metadata.annotations"));
        }
        let mut inputs = Map::new();
        inputs.insert("manifest".into(), manifest);
        Ok((observed, Value::Map(inputs)))
    }

    fn attribute_path(&self, _type_name: &str, input_path: &Path) -> Option<Path> {
        match input_path.segments().split_first() {
            Some((PathSeg::Key(k), rest)) if k == "manifest" => {
                Some(Path::from_segments(rest.to_vec()))
            }
            _ => None,
        }
    }

    async fn run_action(&self, req: &Request<'_>, config: &Value) -> Result<(), ProviderError> {
        if req.type_name != ROLLOUT_RESTART {
            return Err(ProviderError::new(format!(
                "k8s:{} is not an action type (k8s:{ROLLOUT_RESTART} is)",
                req.type_name
            )));
        }
        self.restart(req, config).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value {
        Value::from(j)
    }

    #[test]
    fn manifests_take_api_version_and_kind_from_the_type() {
        let gvk = Gvk::parse("batch/v1/Job").unwrap();
        let m = desired(&gvk, &v(json!({"manifest": {"metadata": {"name": "j"}}}))).unwrap();
        assert_eq!(m.get(&p("apiVersion")), Some(Value::from("batch/v1")));
        assert_eq!(m.get(&p("kind")), Some(Value::from("Job")));
        assert!(
            desired(
                &gvk,
                &v(json!({"manifest": {"kind": "Pod", "metadata": {"name": "j"}}}))
            )
            .unwrap_err()
            .message
            .contains("k8s:batch/v1/Job")
        );
        assert!(desired(&gvk, &v(json!({"manifest": {"metadata": {}}}))).is_err());
        let mut m = m;
        scope_namespace(&mut m, &gvk, true).unwrap();
        assert_eq!(
            m.get(&p("metadata.namespace")),
            Some(Value::from("default"))
        );
        let ns = Gvk::parse("v1/Namespace").unwrap();
        let mut n = desired(
            &ns,
            &v(json!({"manifest": {"metadata": {"name": "a", "namespace": "b"}}})),
        )
        .unwrap();
        assert!(scope_namespace(&mut n, &ns, false).is_err());
    }

    #[test]
    fn ids_and_attribute_paths() {
        let k = KubernetesProvider::new();
        let cfg = v(json!({"manifest": {"metadata": {"name": "orders"}}}));
        assert_eq!(
            k.planned_id("keda.sh/v1alpha1/ScaledJob", &cfg).as_deref(),
            Some("keda.sh/v1alpha1/ScaledJob/default/orders")
        );
        assert_eq!(
            k.planned_id("v1/Namespace", &cfg).as_deref(),
            Some("v1/Namespace/orders")
        );
        assert_eq!(
            k.attribute_path("v1/ConfigMap", &p("manifest.data.x")),
            Some(p("data.x"))
        );
        assert_eq!(k.attribute_path("v1/ConfigMap", &p("force")), None);
    }

    #[test]
    fn wait_options() {
        let o = options(&v(
            json!({"wait": {"condition": "Ready", "timeout": "90s"}}),
        ))
        .unwrap();
        assert_eq!(
            o.wait,
            Wait::Condition("Ready".into(), Duration::from_secs(90))
        );
        assert_eq!(
            options(&v(json!({"wait": {"complete": true}})))
                .unwrap()
                .wait,
            Wait::Complete(DEFAULT_WAIT_TIMEOUT)
        );
        assert!(options(&v(json!({"wait": {"complete": true, "rollout": true}}))).is_err());
        assert!(options(&v(json!({"wait": {"conditon": "Ready"}}))).is_err());
        assert!(options(&v(json!({"delete_timeout": "soon"}))).is_err());
    }

    #[test]
    fn secrets_are_sensitive_and_managed_fields_dropped() {
        let gvk = Gvk::parse("v1/Secret").unwrap();
        let a = attributes_of(
            &gvk,
            json!({"metadata": {"name": "s", "managedFields": [{"manager": "plinth"}]}, "data": {"k": "c2VjcmV0"}}),
        );
        assert!(a.get(&p("metadata.managedFields")).is_none());
        assert!(a.get(&p("data")).unwrap().is_sensitive());
        assert!(!a.to_string().contains("c2VjcmV0"));
        // What `kubectl apply` left in the annotation is the Secret's content too.
        let applied = json!({"metadata": {"name": "s", "annotations": {
            LAST_APPLIED: r#"{"stringData":{"password":"KubectlApplied-1"}}"#, "team": "blue"}},
            "data": {"password": "S3ViZWN0bEFwcGxpZWQtMQ=="}});
        let a = attributes_of(&gvk, applied.clone());
        assert!(!a.to_string().contains("KubectlApplied-1"), "{a}");
        assert_eq!(
            a.get(&p("metadata.annotations.team")),
            Some(Value::from("blue"))
        );
        let schema = KubernetesProvider::new().schema("v1/Secret").unwrap();
        let mut unmarked = Value::from(applied);
        diff::mark_sensitive(&schema, &mut unmarked);
        assert!(
            !unmarked.to_string().contains("KubectlApplied-1"),
            "{unmarked}"
        );
        // Not for other kinds.
        let cm = attributes_of(
            &Gvk::parse("v1/ConfigMap").unwrap(),
            json!({"metadata": {"annotations": {LAST_APPLIED: "{}"}}}),
        );
        assert!(!cm.contains_sensitive());
    }

    #[test]
    fn offline_plans_compare_only_what_the_manifest_sets() {
        let k = KubernetesProvider::new();
        let gvk = Gvk::parse("v1/ConfigMap").unwrap();
        let live = v(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default", "uid": "u", "resourceVersion": "3",
                "labels": {"a": "1", "added-by-someone": "x"}},
            "data": {"k": "v", "old": "o"}}));
        let prior = Prior {
            id: Some("v1/ConfigMap/default/c".into()),
            inputs: Value::Null,
            attributes: live.clone(),
        };
        let same = v(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default", "labels": {"a": "1"}}, "data": {"k": "v"}}));
        let previous = v(json!({"metadata": {"name": "c"}, "data": {"k": "v", "old": "o"}}));
        let planned = k.plan_offline(&gvk, Some(&prior), &same, &Value::Null);
        assert!(planned.changed.is_empty(), "{:?}", planned.changed);
        assert_eq!(planned.attributes, live);
        // A value not known yet is a change; a key the last apply set and the manifest
        // dropped is one too.
        let mut unknown = same.clone();
        unknown.set(&p("data.k"), Value::Unknown);
        let planned = k.plan_offline(&gvk, Some(&prior), &unknown, &previous);
        assert_eq!(
            planned.changed,
            vec![p("manifest.data.k"), p("manifest.data.old")]
        );
        assert_eq!(planned.attributes.get(&p("data.k")), Some(Value::Unknown));
        assert!(planned.attributes.get(&p("data.old")).is_none());
        assert_eq!(
            planned.attributes.get(&p("metadata.resourceVersion")),
            Some(Value::Unknown)
        );
    }

    #[test]
    fn job_progress() {
        let w = Wait::Complete(Duration::ZERO);
        let failed = json!({"status": {"conditions": [
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}});
        match progress(&w, &failed) {
            Progress::Failed(m) => assert!(m.contains("BackoffLimitExceeded"), "{m}"),
            _ => panic!("a failed job is a failure"),
        }
        let done = json!({"status": {"conditions": [{"type": "Complete", "status": "True"}]}});
        assert!(matches!(progress(&w, &done), Progress::Done));
        assert!(matches!(
            progress(&w, &json!({"status": {"active": 1}})),
            Progress::Pending(_)
        ));
        let rollout = Wait::Rollout(Duration::ZERO);
        let mid = json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2}});
        assert!(matches!(progress(&rollout, &mid), Progress::Pending(_)));
        let fin = json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}});
        assert!(matches!(progress(&rollout, &fin), Progress::Done));
    }

    #[test]
    fn a_condition_from_before_the_last_change_is_not_met_yet() {
        let w = Wait::Condition("Ready".into(), Duration::ZERO);
        let ready = |generation: i64, status_seen: Option<i64>, cond_seen: Option<i64>| {
            let mut c = json!({"type": "Ready", "status": "True"});
            if let Some(g) = cond_seen {
                c["observedGeneration"] = json!(g);
            }
            let mut o =
                json!({"metadata": {"generation": generation}, "status": {"conditions": [c]}});
            if let Some(g) = status_seen {
                o["status"]["observedGeneration"] = json!(g);
            }
            o
        };
        // Left over from generation 1 while the object is at 2: not met, and says why.
        match progress(&w, &ready(2, Some(1), None)) {
            Progress::Pending(m) => assert!(m.contains("Ready=True") && m.contains("2"), "{m}"),
            _ => panic!("a condition of an older generation is not met"),
        }
        assert!(matches!(
            progress(&w, &ready(2, None, Some(1))),
            Progress::Pending(_)
        ));
        // The condition's own observedGeneration counts over the status's.
        assert!(matches!(
            progress(&w, &ready(2, Some(1), Some(2))),
            Progress::Done
        ));
        assert!(matches!(
            progress(&w, &ready(3, Some(3), Some(2))),
            Progress::Pending(_)
        ));
        // Seen: met. No generations reported at all (many CRDs): the condition as it is.
        assert!(matches!(
            progress(&w, &ready(2, Some(2), None)),
            Progress::Done
        ));
        assert!(matches!(
            progress(&w, &ready(2, None, None)),
            Progress::Done
        ));
        let no_generation = json!({"status": {"observedGeneration": 1,
            "conditions": [{"type": "Ready", "status": "True"}]}});
        assert!(matches!(progress(&w, &no_generation), Progress::Done));
    }
}
