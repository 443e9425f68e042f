//! Client operations on one cluster for one request: [`Cluster`] finds the connection the
//! request's settings name, discovers how the cluster serves a kind, and sends JSON calls
//! (read, server-side apply with conflicts explained) retried while they fail transiently,
//! making the connection again when it no longer reaches the cluster. It knows nothing of
//! plans, waits or the `Provider` trait.

use std::sync::Arc;
use std::time::Duration;

use kube::core::params::{GetParams, Patch, PatchParams};
use kube::core::{DynamicObject, Resource};
use plinth_provider::{ProviderError, Request};

use crate::connection::{
    Absent, ClusterCredentials, Conn, Connections, NoConn, Resolved, Timeouts,
};
use crate::errors::{self, Retry};
use crate::kind::{Gvk, ObjectRef};
use crate::manifest::p;
use crate::seen::Seen;

/// The field manager plinth writes with.
pub const FIELD_MANAGER: &str = "plinth";

/// How a server-side apply is sent.
#[derive(Clone, Copy)]
pub(crate) struct Apply<'m> {
    pub force: bool,
    pub dry_run: bool,
    /// The field manager: [`FIELD_MANAGER`], or a `k8s:fields` resource's own.
    pub manager: &'m str,
}

/// The request type kube's request builder makes.
pub(crate) type HttpRequest = http::Request<Vec<u8>>;

/// The request to the object's URL.
pub(crate) fn object_request(r: &Resolved, obj: &ObjectRef) -> kube::core::Request {
    let ns = if r.namespaced {
        obj.namespace.as_deref()
    } else {
        None
    };
    kube::core::Request::new(DynamicObject::url_path(&r.resource, ns))
}

/// One request's view of the clusters: the provider's connection cache and knobs, and the
/// request (its settings say which cluster; its reporter hears about retries).
pub(crate) struct Cluster<'a> {
    pub req: &'a Request<'a>,
    pub conns: &'a Connections,
    pub credentials: Option<&'a dyn ClusterCredentials>,
    /// What this run's reads saw (for plans that may leave out a dry run).
    pub seen: &'a Seen,
    /// Tries of a call that fails transiently, and the first wait between them.
    pub retry_attempts: u32,
    pub retry_base: Duration,
    pub timeouts: Timeouts,
    /// The first wait between polls (of a delete, of a `wait`).
    pub poll_interval: Duration,
}

impl Cluster<'_> {
    fn retry(&self) -> Retry<'_> {
        Retry {
            reporter: self.req.reporter,
            address: self.req.address,
            attempts: self.retry_attempts,
            base: self.retry_base,
        }
    }

    /// The connection of this request's settings, for writes, deletes, actions and data
    /// sources: an earlier "the cluster does not exist" is asked again (the same apply may
    /// have created the cluster since), unless it was given while this lookup waited.
    pub(crate) async fn conn(&self) -> Result<Result<Arc<Conn>, NoConn>, ProviderError> {
        self.conns
            .get(
                self.req.settings,
                self.credentials,
                Absent::AskAgain,
                self.timeouts,
            )
            .await
    }

    /// The connection for a plan or a read (refresh, existence checks), which takes an
    /// earlier "the cluster does not exist" again instead of asking ARM once per object
    /// (see `connection::Slot`).
    pub(crate) async fn conn_for_read(&self) -> Result<Result<Arc<Conn>, NoConn>, ProviderError> {
        self.conns
            .get(
                self.req.settings,
                self.credentials,
                Absent::Reuse,
                self.timeouts,
            )
            .await
    }

    /// The connection, which must exist (to create, update or run an action).
    pub(crate) async fn require_conn(&self) -> Result<Arc<Conn>, ProviderError> {
        match self.conn().await? {
            Ok(c) => Ok(c),
            Err(NoConn::Unknown) => Err(ProviderError::new(
                "the cluster to use is not known yet ([provider.kubernetes] refers to something not created)",
            )),
            Err(NoConn::ClusterGone) => Err(ProviderError::with_code(
                "ResourceNotFound",
                format!(
                    "the cluster [provider.kubernetes] names does not exist: {}",
                    self.req
                        .settings
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
    pub(crate) async fn resolve(
        &self,
        conn: &Arc<Conn>,
        gvk: &Gvk,
    ) -> Result<Option<Resolved>, ProviderError> {
        if let Some(r) = conn.known_kind(gvk) {
            return Ok(Some(r));
        }
        // One discovery at a time per connection; what another found meanwhile is taken.
        let began = std::time::Instant::now();
        let _discovering = conn.discovering.lock().await;
        if let Some(r) = conn.known_kind(gvk) {
            return Ok(Some(r));
        }
        if conn.not_served_since(gvk, began) {
            return Ok(None);
        }
        let want = kube::api::GroupVersionKind::gvk(&gvk.group, &gvk.version, &gvk.kind);
        let what = format!("discovering {}", gvk.type_name());
        let found = self
            .on_cluster(conn, &what, |client| {
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
                conn.remember_not_served(gvk);
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

    pub(crate) async fn require_kind(
        &self,
        conn: &Arc<Conn>,
        gvk: &Gvk,
    ) -> Result<Resolved, ProviderError> {
        self.resolve(conn, gvk).await?.ok_or_else(|| {
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
        conn: &Arc<Conn>,
        what: &str,
        f: F,
    ) -> Result<(T, Arc<Conn>), kube::Error>
    where
        F: Fn(kube::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, kube::Error>>,
    {
        // A call that gave up waiting says how long it waited, and for which server.
        self.on_cluster_inner(conn, what, f).await.map_err(|e| {
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
        conn: &Arc<Conn>,
        what: &str,
        f: F,
    ) -> Result<(T, Arc<Conn>), kube::Error>
    where
        F: Fn(kube::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, kube::Error>>,
    {
        let retry = self.retry();
        // A connection made again since `conn` was taken (by another call) is used instead.
        let conn = match self.conn().await {
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
        self.conns.forget(self.req.settings, &conn).await;
        match self.conn().await {
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
    pub(crate) async fn call(
        &self,
        conn: &Arc<Conn>,
        what: &str,
        build: &(dyn Fn() -> Result<HttpRequest, kube::core::request::Error> + Sync),
    ) -> Result<serde_json::Value, kube::Error> {
        self.on_cluster(conn, what, |client| async move {
            let r = build().map_err(kube::Error::BuildRequest)?;
            client.request::<serde_json::Value>(r).await
        })
        .await
        .map(|(v, _)| v)
    }

    pub(crate) async fn get(
        &self,
        conn: &Arc<Conn>,
        r: &Resolved,
        obj: &ObjectRef,
    ) -> Result<Option<serde_json::Value>, ProviderError> {
        let url = object_request(r, obj);
        let what = format!("reading {}", obj.describe());
        match self
            .call(conn, &what, &|| url.get(&obj.name, &GetParams::default()))
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(e) if errors::is_not_found(&e) => Ok(None),
            Err(e) => Err(errors::provider_error(&e, &what)),
        }
    }

    /// Server-side apply (as `how.manager`). Conflicts only with imperative edits are drift
    /// and taken back; conflicts with other appliers are refused unless `force`.
    pub(crate) async fn apply(
        &self,
        conn: &Arc<Conn>,
        r: &Resolved,
        obj: &ObjectRef,
        manifest: &serde_json::Value,
        how: Apply<'_>,
    ) -> Result<serde_json::Value, (kube::Error, ProviderError)> {
        let Apply {
            force,
            dry_run,
            manager,
        } = how;
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
            let mut pp = PatchParams::apply(manager);
            pp.force = force;
            pp.dry_run = dry_run;
            pp
        };
        let send = |force: bool| {
            let pp = params(force);
            let url = &url;
            let what = &what;
            async move {
                self.call(conn, what, &|| {
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
}
