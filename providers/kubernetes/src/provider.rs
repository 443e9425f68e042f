//! [`KubernetesProvider`]: the provider's knobs and connection cache, and the `Provider`
//! trait mapped onto the modules below it — schemas and static checks, planning
//! ([`crate::plan`]), apply (server-side apply, then [`crate::wait`]), reads, deletes that
//! wait for the object to be gone, imports, and the rollout-restart action
//! ([`crate::restart`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kube::core::params::DeleteParams;
use plinth_provider::{
    BatchRead, InputSchema, Observed, Planned, Prior, Provider, ProviderError, Request, TypeSchema,
    ValueKind,
};
use plinth_value::{Map, Path, PathSeg, Value};

use crate::client::{Apply, Cluster, FIELD_MANAGER, object_request};
use crate::connection::{self, ClusterCredentials, Connections, NoConn, Timeouts};
use crate::errors;
use crate::kind::{FIELDS, Gvk, ObjectRef, ROLLOUT_RESTART};
use crate::manifest::{
    IDENTITY, LAST_APPLIED, SERVER_FILLED, attributes_of, desired, is_secret, manifest_path,
    object_ref, p, scope_namespace, secret_paths,
};
use crate::options::{DEFAULT_DELETE_TIMEOUT, Wait, options};
use crate::seen::Seen;
use crate::set::MANIFESTS;
use crate::{batch, data, fields, plan, restart, set};

/// The Kubernetes provider.
pub struct KubernetesProvider {
    credentials: Option<Arc<dyn ClusterCredentials>>,
    conns: Connections,
    /// What this run's reads saw.
    pub(crate) seen: Seen,
    /// Items per page of the lists that batched reads send (default 500).
    pub list_page_size: u32,
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

impl KubernetesProvider {
    /// A provider that reaches clusters through kubeconfigs only.
    pub fn new() -> Self {
        KubernetesProvider {
            credentials: None,
            conns: Connections::default(),
            seen: Seen::default(),
            list_page_size: batch::DEFAULT_PAGE_SIZE,
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

    /// This request's view of the clusters.
    pub(crate) fn cluster<'a>(&'a self, req: &'a Request<'a>) -> Cluster<'a> {
        Cluster {
            req,
            conns: &self.conns,
            seen: &self.seen,
            credentials: self.credentials.as_deref(),
            retry_attempts: self.retry_attempts,
            retry_base: self.retry_base,
            timeouts: Timeouts {
                connect: self.connect_timeout,
                request: self.request_timeout,
            },
            poll_interval: self.poll_interval,
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
        let cluster = self.cluster(req);
        let conn = cluster.require_conn().await?;
        let r = cluster.require_kind(&conn, &gvk).await?;
        scope_namespace(&mut manifest, &gvk, r.namespaced)?;
        let obj = object_ref(&gvk, &manifest)
            .ok_or_else(|| ProviderError::new("manifest.metadata.name must be a string"))?;
        let body = manifest.unmark_all().to_json();
        let applied = cluster
            .apply(
                &conn,
                &r,
                &obj,
                &body,
                Apply {
                    force: opts.force,
                    dry_run: false,
                    manager: FIELD_MANAGER,
                },
            )
            .await
            .map_err(|(_, pe)| pe)?;
        let done = cluster
            .wait_for(&conn, &r, &obj, &opts.wait, applied)
            .await?;
        Ok(Observed {
            id: Some(obj.id()),
            attributes: attributes_of(&gvk, done),
        })
    }

    /// The object a prior record names.
    pub(crate) fn prior_ref(&self, gvk: &Gvk, prior: &Prior) -> Option<ObjectRef> {
        if let Some(id) = &prior.id
            && let Ok(r) = ObjectRef::parse_id(id)
        {
            return Some(r);
        }
        let mut m = desired(gvk, &prior.inputs).ok()?;
        scope_namespace(&mut m, gvk, !gvk.guess_cluster_scoped()).ok()?;
        object_ref(gvk, &m)
    }
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

    fn settings_keys(&self) -> &[&str] {
        &["cluster", "admin", "kubeconfig", "context"]
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
            return Some(restart::schema());
        }
        if type_name == FIELDS {
            return Some(fields::schema());
        }
        if type_name == MANIFESTS {
            return Some(set::schema());
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
                // Required of a managed object (`validate` says so); a data source reads by
                // `metadata` or `label_selector` instead.
                InputSchema::new(
                    "manifest",
                    ValueKind::Map,
                    false,
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
            ]
            .into_iter()
            .chain(data::inputs())
            .collect(),
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
            data_source: true,
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
            FIELDS,
            MANIFESTS,
            ROLLOUT_RESTART,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<(Path, String)> {
        if type_name == ROLLOUT_RESTART {
            return restart::validate(config);
        }
        if type_name == FIELDS {
            return fields::validate(config);
        }
        if type_name == MANIFESTS {
            return set::validate(config);
        }
        let mut out = Vec::new();
        let gvk = match Gvk::parse(type_name) {
            Ok(g) => g,
            Err(e) => return vec![(Path::root(), e.message)],
        };
        if data::is_read(config) {
            return data::validate(&gvk, config);
        }
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
        if req.type_name == FIELDS {
            return fields::plan(&self.cluster(req), prior, config).await;
        }
        if req.type_name == MANIFESTS {
            return set::plan(self, req, prior, config).await;
        }
        plan::plan(&self.cluster(req), prior, config).await
    }

    async fn read_data(
        &self,
        req: &Request<'_>,
        config: &Value,
    ) -> Result<Observed, ProviderError> {
        let gvk = Gvk::parse(req.type_name)?;
        data::read(&self.cluster(req), &gvk, config).await
    }

    async fn read(
        &self,
        req: &Request<'_>,
        prior: &Prior,
    ) -> Result<Option<Observed>, ProviderError> {
        if req.type_name == FIELDS {
            return fields::read(&self.cluster(req), prior).await;
        }
        if req.type_name == MANIFESTS {
            return set::read(self, req, prior).await;
        }
        let gvk = Gvk::parse(req.type_name)?;
        let Some(mut obj) = self.prior_ref(&gvk, prior) else {
            return Ok(None);
        };
        let cluster = self.cluster(req);
        let conn = match cluster.conn_for_read().await? {
            Ok(c) => c,
            // ARM says the cluster does not exist: nor does anything in it.
            Err(NoConn::ClusterGone) => return Ok(None),
            // The cluster is not known yet (its settings refer to something not created, e.g.
            // `cluster` was pointed at a new AKS resource): nothing can be checked now. An
            // object never read (the existence check of a planned create) cannot exist in a
            // cluster that does not exist yet; one read before is as it was last seen, not
            // deleted.
            Err(NoConn::Unknown) => return Ok(as_last_seen(prior)),
        };
        let Some(r) = cluster.resolve(&conn, &gvk).await? else {
            return Ok(None);
        };
        if !r.namespaced {
            obj.namespace = None;
        } else if obj.namespace.is_none() {
            obj.namespace = Some("default".into());
        }
        let read = cluster.get(&conn, &r, &obj).await?.map(|got| Observed {
            id: Some(obj.id()),
            attributes: attributes_of(&gvk, got),
        });
        self.seen.record(req.settings, &obj.id(), read.as_ref());
        Ok(read)
    }

    /// Plain objects: their kind (see `batch`: listed per namespace, or across namespaces).
    /// `k8s:fields`, sets and actions are read alone.
    fn batch_key(&self, req: &Request<'_>, prior: &Prior) -> Option<String> {
        if !batch::batchable(req.type_name) {
            return None;
        }
        let gvk = Gvk::parse(req.type_name).ok()?;
        self.prior_ref(&gvk, prior).map(|obj| batch::key(&obj))
    }

    async fn read_batch(
        &self,
        reads: &[BatchRead<'_>],
    ) -> Vec<Result<Option<Observed>, ProviderError>> {
        batch::read(self, reads).await
    }

    async fn create(&self, req: &Request<'_>, config: &Value) -> Result<Observed, ProviderError> {
        if req.type_name == FIELDS {
            return fields::put(&self.cluster(req), None, config).await;
        }
        if req.type_name == MANIFESTS {
            return set::put(self, req, None, config).await;
        }
        self.put(req, config).await
    }

    async fn update(
        &self,
        req: &Request<'_>,
        prior: &Prior,
        config: &Value,
    ) -> Result<Observed, ProviderError> {
        if req.type_name == FIELDS {
            return fields::put(&self.cluster(req), Some(prior), config).await;
        }
        if req.type_name == MANIFESTS {
            return set::put(self, req, Some(prior), config).await;
        }
        self.put(req, config).await
    }

    async fn delete(&self, req: &Request<'_>, prior: &Prior) -> Result<(), ProviderError> {
        if req.type_name == FIELDS {
            return fields::release(&self.cluster(req), prior).await;
        }
        if req.type_name == MANIFESTS {
            return set::delete(self, req, prior).await;
        }
        let gvk = Gvk::parse(req.type_name)?;
        let Some(mut obj) = self.prior_ref(&gvk, prior) else {
            return Ok(());
        };
        let timeout = options(&prior.inputs)
            .map(|o| o.delete_timeout)
            .unwrap_or(DEFAULT_DELETE_TIMEOUT);
        let cluster = self.cluster(req);
        let conn = match cluster.conn().await? {
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
        let Some(r) = cluster.resolve(&conn, &gvk).await? else {
            return Ok(());
        };
        if !r.namespaced {
            obj.namespace = None;
        }
        let url = object_request(&r, &obj);
        let what = format!("deleting {}", obj.describe());
        let dp = DeleteParams::background();
        match cluster
            .call(&conn, &what, &|| url.delete(&obj.name, &dp))
            .await
        {
            Ok(_) => {}
            Err(e) if errors::is_not_found(&e) => return Ok(()),
            Err(e) => return Err(errors::provider_error(&e, &what)),
        }
        // The server took the delete: a failure from here on says so (the object may be
        // going or gone; the next refresh settles it).
        cluster.wait_gone(&conn, &r, &obj, timeout).await
    }

    fn import_id_mismatch(&self, type_name: &str, id: &str) -> Option<String> {
        let gvk = Gvk::parse(type_name).ok()?;
        id_mismatch(&gvk, id).err().map(|e| e.to_string())
    }

    fn type_of_id(&self, id: &str) -> Option<String> {
        ObjectRef::parse_id(id).ok().map(|o| o.gvk.type_name())
    }

    async fn import(
        &self,
        req: &Request<'_>,
        id: &str,
    ) -> Result<(Observed, Value), ProviderError> {
        if req.type_name == FIELDS {
            return Err(fields::import_refused(id));
        }
        if req.type_name == MANIFESTS {
            return Err(set::import_refused(id));
        }
        let gvk = Gvk::parse(req.type_name)?;
        let obj = id_mismatch(&gvk, id)?;
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
        crate::defaults::strip(&gvk, &mut manifest);
        // apiVersion and kind are the type's: a configuration leaves them out.
        for (key, is) in [
            ("apiVersion", gvk.api_version()),
            ("kind", gvk.kind.clone()),
        ] {
            if manifest.get(&p(key)).as_ref().and_then(Value::as_str) == Some(is.as_str()) {
                manifest.remove(&p(key));
            }
        }
        let mut inputs = Map::new();
        inputs.insert("manifest".into(), manifest);
        Ok((observed, Value::Map(inputs)))
    }

    /// `manifest.x` is reported at `x`. A `k8s:manifests` set plans in attribute paths
    /// already (`objects["<id>"].x`: which document sets an object depends on the file, not
    /// on the path), so those are themselves; options (`wait`, `force`) are reported nowhere.
    fn attribute_path(&self, type_name: &str, input_path: &Path) -> Option<Path> {
        match input_path.segments().split_first() {
            Some((PathSeg::Key(k), rest)) if k == "manifest" && type_name != MANIFESTS => {
                Some(Path::from_segments(rest.to_vec()))
            }
            Some((PathSeg::Key(k), _)) if k == "objects" && type_name == MANIFESTS => {
                Some(input_path.clone())
            }
            _ => None,
        }
    }

    /// `x` is set by `manifest.x`, unless the server owns it ([`Provider::is_volatile`]) or
    /// it is `k8s:fields`' `field_manager`. A set's `objects["<id>"].x` is set by whichever
    /// document of its file names that object, which the path alone does not tell: `None`.
    fn input_path(&self, type_name: &str, attribute_path: &Path) -> Option<Path> {
        if attribute_path.is_root()
            || type_name == MANIFESTS
            || type_name == ROLLOUT_RESTART
            || self.is_volatile(type_name, attribute_path)
            || (type_name == FIELDS && attribute_path.starts_with(&p("field_manager")))
        {
            return None;
        }
        Some(manifest_path(attribute_path))
    }

    /// What the API server writes for itself: `metadata.uid`, `resourceVersion`,
    /// `creationTimestamp`, `generation`, `managedFields`, `selfLink`, the deletion marks,
    /// and `status` (the controllers' report). Also the last-applied annotation that
    /// client-side `kubectl apply` writes: plinth never sets it, it is a copy of fields whose
    /// own changes are shown where they are, and for a Secret it holds the content. In a
    /// `k8s:manifests` set, the same paths of each object (`objects["<id>"].status`).
    fn is_volatile(&self, type_name: &str, attribute_path: &Path) -> bool {
        if type_name == ROLLOUT_RESTART {
            return false;
        }
        if type_name == MANIFESTS {
            return match attribute_path.segments() {
                [PathSeg::Key(o), PathSeg::Key(_), rest @ ..] if o == "objects" => {
                    crate::manifest::server_owned(&Path::from_segments(rest.to_vec()))
                }
                _ => false,
            };
        }
        crate::manifest::server_owned(attribute_path)
    }

    async fn run_action(&self, req: &Request<'_>, config: &Value) -> Result<(), ProviderError> {
        if req.type_name != ROLLOUT_RESTART {
            return Err(ProviderError::new(format!(
                "k8s:{} is not an action type (k8s:{ROLLOUT_RESTART} is)",
                req.type_name
            )));
        }
        restart::run(&self.cluster(req), config).await
    }
}

/// The object an id names, when it is of kind `gvk`; else why not (not an id, or an object
/// of another kind).
fn id_mismatch(gvk: &Gvk, id: &str) -> Result<ObjectRef, ProviderError> {
    let obj = ObjectRef::parse_id(id)?;
    if obj.gvk != *gvk {
        return Err(ProviderError::new(format!(
            "`{id}` is a {} ({}), but the resource is k8s:{}",
            obj.gvk.kind,
            obj.gvk.api_version(),
            gvk.type_name()
        )));
    }
    Ok(obj)
}

/// An object whose cluster cannot be reached yet (its settings name something not created):
/// one never read (a planned create's existence check) does not exist; one read before is as
/// it was last seen, not deleted. Shared by every type's `read`.
pub(crate) fn as_last_seen(prior: &Prior) -> Option<Observed> {
    match prior.attributes {
        Value::Null => None,
        _ => Some(Observed {
            id: prior.id.clone(),
            attributes: prior.attributes.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plinth_provider::diff;
    use serde_json::json;

    fn v(j: serde_json::Value) -> Value {
        Value::from(j)
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
        // A set's changes are attribute paths already.
        let member = p("objects[\"v1/ConfigMap/default/c\"].data.x");
        assert_eq!(k.attribute_path(MANIFESTS, &member), Some(member.clone()));
        assert_eq!(k.attribute_path(MANIFESTS, &p("manifests[0].data.x")), None);
    }

    #[test]
    fn input_paths_are_the_inverse_of_attribute_paths_where_the_configuration_sets_one() {
        let k = KubernetesProvider::new();
        for (t, attr) in [
            ("v1/ConfigMap", "metadata.labels.x"),
            ("v1/Secret", "data.password"),
            ("apps/v1/Deployment", "spec.replicas"),
            (FIELDS, "metadata.annotations.team"),
        ] {
            let input = k.input_path(t, &p(attr)).unwrap();
            assert_eq!(input, p(&format!("manifest.{attr}")), "{t} {attr}");
            assert_eq!(k.attribute_path(t, &input), Some(p(attr)));
        }
        // What the server owns, k8s:fields' own manager, a set's members and an action's
        // inputs are set by no input path.
        assert_eq!(
            k.input_path("v1/ConfigMap", &p("metadata.resourceVersion")),
            None
        );
        assert_eq!(
            k.input_path("apps/v1/Deployment", &p("status.replicas")),
            None
        );
        assert_eq!(k.input_path(FIELDS, &p("field_manager")), None);
        assert_eq!(
            k.input_path(MANIFESTS, &p("objects[\"v1/ConfigMap/default/c\"].data.x")),
            None
        );
        assert_eq!(k.input_path(ROLLOUT_RESTART, &p("target")), None);
        assert_eq!(k.input_path("v1/ConfigMap", &Path::root()), None);
    }

    #[test]
    fn the_servers_bookkeeping_is_volatile_and_nothing_the_manifest_sets_is() {
        let k = KubernetesProvider::new();
        let last_applied = Path::from_segments(vec![
            PathSeg::Key("metadata".into()),
            PathSeg::Key("annotations".into()),
            PathSeg::Key(LAST_APPLIED.into()),
        ]);
        for attr in [
            p("metadata.uid"),
            p("metadata.resourceVersion"),
            p("metadata.creationTimestamp"),
            p("metadata.generation"),
            p("metadata.managedFields[0].manager"),
            p("metadata.selfLink"),
            p("metadata.deletionTimestamp"),
            p("status"),
            p("status.conditions[0].type"),
            last_applied,
        ] {
            assert!(k.is_volatile("apps/v1/Deployment", &attr), "{attr}");
        }
        for attr in [
            "metadata.name",
            "metadata.labels.app",
            "metadata.annotations.team",
            "spec.replicas",
            "data.password",
            // Not a prefix match on names: `statusReport` is the manifest's.
            "spec.statusReport",
        ] {
            assert!(!k.is_volatile("apps/v1/Deployment", &p(attr)), "{attr}");
        }
        let id = "objects[\"apps/v1/Deployment/default/web\"]";
        assert!(k.is_volatile(MANIFESTS, &p(&format!("{id}.metadata.resourceVersion"))));
        assert!(k.is_volatile(MANIFESTS, &p(&format!("{id}.status.readyReplicas"))));
        assert!(!k.is_volatile(MANIFESTS, &p(&format!("{id}.spec.replicas"))));
        assert!(!k.is_volatile(MANIFESTS, &p("objects")));
        assert!(!k.is_volatile(ROLLOUT_RESTART, &p("status")));
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
}
