//! Batched reads of `k8s:` objects ([`Provider::batch_key`]/[`Provider::read_batch`]): the
//! objects of one kind in one cluster are read with lists, page by page (`limit` +
//! `continue`), instead of a GET each: one list of the namespace when they are all in one
//! (or of the kind, cluster-scoped), one list across all namespaces when they are in several
//! (an application per namespace is the common layout), and a list per namespace where that
//! is refused (RBAC granting lists in some namespaces only; a namespace's lone object is then
//! a GET). Every answer is the one `read` gives: the item built into attributes as a GET's
//! answer is (`apiVersion`/`kind` filled in as the API server leaves them out of list items,
//! then [`attributes_of`]: managedFields dropped, a Secret's content sensitive).
//!
//! - Freshness: lists are sent without `resourceVersion`, so the server answers from storage
//!   (a quorum read, as a GET without one), never from its watch cache; the pages of one list
//!   are served at the first page's resourceVersion. A continue token that expired (410 Gone)
//!   restarts the list, keeping what was found (each item is a read of its object).
//! - An object missing from the list: when the list was one page, read once and never
//!   restarted, that page is one consistent answer of the API server, as fresh as a GET sent
//!   at the same moment, and the object is gone. Otherwise (more pages, a restart) it is
//!   confirmed with a GET before it is called gone.
//! - Cost bound: the next page is fetched only while fewer pages were read than objects are
//!   still missing (each of which one GET would answer): a namespace (or cluster) holding far
//!   more objects of the kind than the batch wants is not listed to its end; the rest are
//!   read with GETs.
//! - Failures: a list the server refuses (403 where RBAC grants `get` but not `list`, 404,
//!   405, a 410 after restarts, any other API answer but 401) is not an answer about the
//!   objects: they are read with GETs. A failure to reach the cluster at all (connection,
//!   timeout, 5xx or 429 after retries, credentials refused) is every object's error, as
//!   their GETs would fail the same way.
//! - A cluster ARM says does not exist, one not known yet, a kind not served: the answers of
//!   `read`, for every object.
//!
//! `k8s:fields` reads (only their own paths of an object someone else created, rarely many
//! of one kind in one namespace) and `k8s:manifests` sets (one resource; its members are read
//! in batches by `set::read`) are not batched here.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use futures::StreamExt;
use kube::core::params::ListParams;
use plinth_provider::{BatchRead, Observed, Provider, ProviderError};
use serde_json::Value as Json;

use crate::client::object_request;
use crate::connection::{NoConn, Resolved, settings_key};
use crate::errors;
use crate::kind::{Gvk, ObjectRef};
use crate::manifest::attributes_of;
use crate::provider::{KubernetesProvider, as_last_seen};

/// Items per list page unless the provider says otherwise (kubectl's chunk size).
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// Restarts of a list whose continue token expired, before its missing objects are read
/// with GETs.
const MAX_RESTARTS: usize = 2;

/// GETs of one batch in flight at once (objects missing from the list, or not listed).
const CONCURRENT_GETS: usize = 8;

/// One answer of a batch, as `read` gives it.
type Answer = Result<Option<Observed>, ProviderError>;

/// The batch key of an object: its type. The objects of one batch are listed per namespace,
/// or across namespaces when they are in several.
pub(crate) fn key(obj: &ObjectRef) -> String {
    obj.gvk.type_name()
}

/// One page of a list.
pub(crate) struct Page {
    pub items: Vec<Json>,
    /// The continue token, when there is more.
    pub next: Option<String>,
}

impl Page {
    /// A list answer's items and continue token.
    pub(crate) fn of(list: Json) -> Page {
        let next = list
            .pointer("/metadata/continue")
            .and_then(Json::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        let items = match list {
            Json::Object(mut m) => match m.remove("items") {
                Some(Json::Array(items)) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        Page { items, next }
    }
}

/// What listing found of the wanted objects.
pub(crate) struct Listing {
    /// The wanted objects found, by `namespace/name` (`name` when cluster-scoped).
    pub found: HashMap<String, Json>,
    /// Pages read, restarts included.
    pub pages: usize,
    /// Whether the list was read to its end (its last page has no continue token).
    pub complete: bool,
    /// Whether a continue token expired and the list started again.
    pub restarted: bool,
    /// The failure that ended the listing.
    pub error: Option<kube::Error>,
}

impl Listing {
    /// Whether an object missing from the list is gone without asking again: the list is
    /// one page, read once, to its end.
    pub(crate) fn is_one_answer(&self) -> bool {
        self.complete && self.pages == 1 && !self.restarted && self.error.is_none()
    }
}

/// Lists page by page (`fetch(continue token)`) until every wanted object (by
/// `namespace/name`, or `name`) is found, the list
/// ends, or the next page would cost more than the GETs of what is still missing.
pub(crate) async fn collect<F, Fut>(wanted: &HashSet<&str>, mut fetch: F) -> Listing
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page, kube::Error>>,
{
    let mut l = Listing {
        found: HashMap::new(),
        pages: 0,
        complete: false,
        restarted: false,
        error: None,
    };
    let mut token: Option<String> = None;
    let mut restarts = 0;
    while l.found.len() < wanted.len() {
        let page = match fetch(token.clone()).await {
            Ok(page) => page,
            Err(e) if is_expired(&e) && token.is_some() && restarts < MAX_RESTARTS => {
                restarts += 1;
                l.pages += 1;
                l.restarted = true;
                token = None;
                continue;
            }
            Err(e) => {
                l.error = Some(e);
                break;
            }
        };
        l.pages += 1;
        for item in page.items {
            if let Some(key) = item_key(&item)
                && wanted.contains(key.as_str())
            {
                l.found.insert(key, item);
            }
        }
        let Some(next) = page.next else {
            l.complete = true;
            break;
        };
        if l.pages >= wanted.len() - l.found.len() {
            break;
        }
        token = Some(next);
    }
    l
}

/// A continue token too old for the server (410 Gone, reason Expired).
fn is_expired(e: &kube::Error) -> bool {
    errors::status(e).is_some_and(|s| s.code == 410)
}

/// Whether a failed list says nothing about its objects, so that GETs may still answer: an
/// API answer that is neither transient (retried already) nor "credentials refused".
fn get_instead(e: &kube::Error) -> bool {
    errors::status(e).is_some_and(|s| s.code != 401) && !errors::is_transient(e)
}

/// Reads one batch (see the module's doc).
pub(crate) async fn read(k8s: &KubernetesProvider, reads: &[BatchRead<'_>]) -> Vec<Answer> {
    let mut out: Vec<Option<Answer>> = reads.iter().map(|_| None).collect();
    let Some(first) = reads.first() else {
        return Vec::new();
    };
    let settings = settings_key(first.req.settings);
    // What is not of the first entry's type and settings (the engine never hands such) or
    // not a plain object is read alone.
    let gvk = Gvk::parse(first.req.type_name).ok();
    let mut targets: Vec<(usize, ObjectRef)> = Vec::new();
    for (i, r) in reads.iter().enumerate() {
        let plain = r.req.type_name == first.req.type_name
            && settings_key(r.req.settings) == settings
            && batchable(r.req.type_name);
        match (&gvk, plain) {
            (Some(gvk), true) => match k8s.prior_ref(gvk, r.prior) {
                Some(obj) => targets.push((i, obj)),
                None => out[i] = Some(Ok(None)),
            },
            _ => out[i] = Some(k8s.read(&r.req, r.prior).await),
        }
    }
    if let (Some(gvk), false) = (&gvk, targets.is_empty()) {
        let answers = read_targets(k8s, reads, gvk, &targets).await;
        for ((i, _), answer) in targets.iter().zip(answers) {
            out[*i] = Some(answer);
        }
    }
    out.into_iter()
        .map(|a| {
            a.unwrap_or_else(|| Err(ProviderError::new("the batch read left this object unread")))
        })
        .collect()
}

/// Whether objects of this type are read in batches: plain objects, not `k8s:fields`,
/// `k8s:manifests` or the rollout-restart action.
pub(crate) fn batchable(type_name: &str) -> bool {
    ![
        crate::kind::FIELDS,
        crate::set::MANIFESTS,
        crate::kind::ROLLOUT_RESTART,
    ]
    .contains(&type_name)
}

/// Reads `targets` (indexes into `reads`, and the objects they name), all of kind `gvk`.
async fn read_targets(
    k8s: &KubernetesProvider,
    reads: &[BatchRead<'_>],
    gvk: &Gvk,
    targets: &[(usize, ObjectRef)],
) -> Vec<Answer> {
    let every = |a: Answer| targets.iter().map(|_| a.clone()).collect::<Vec<_>>();
    let first = &reads[targets[0].0];
    let cluster = k8s.cluster(&first.req);
    let conn = match cluster.conn_for_read().await {
        Ok(Ok(c)) => c,
        Ok(Err(NoConn::ClusterGone)) => return every(Ok(None)),
        Ok(Err(NoConn::Unknown)) => {
            return targets
                .iter()
                .map(|(i, _)| Ok(as_last_seen(reads[*i].prior)))
                .collect();
        }
        Err(e) => return every(Err(e)),
    };
    let r = match cluster.resolve(&conn, gvk).await {
        Ok(Some(r)) => r,
        Ok(None) => return every(Ok(None)),
        Err(e) => return every(Err(e)),
    };
    // Namespaces as `read` makes them.
    let objs: Vec<ObjectRef> = targets
        .iter()
        .map(|(_, o)| {
            let mut o = o.clone();
            if !r.namespaced {
                o.namespace = None;
            } else if o.namespace.is_none() {
                o.namespace = Some("default".into());
            }
            o
        })
        .collect();
    let mut namespaces: Vec<Option<String>> = objs.iter().map(|o| o.namespace.clone()).collect();
    namespaces.sort();
    namespaces.dedup();

    let mut answers: Vec<Option<Answer>> = objs.iter().map(|_| None).collect();
    let mut to_get: Vec<usize> = Vec::new();
    let lister = Lister {
        k8s,
        cluster: &cluster,
        conn: &conn,
        r: &r,
        gvk,
        objs: &objs,
    };
    // Objects in several namespaces (an application per namespace is the common layout):
    // one list across all namespaces. Where that is refused (RBAC granting lists in some
    // namespaces only), a list per namespace.
    let mut per_namespace = true;
    if namespaces.len() > 1 {
        let all: Vec<usize> = (0..objs.len()).collect();
        per_namespace = lister
            .list(None, &all, &mut answers, &mut to_get, true)
            .await;
    }
    if per_namespace {
        for ns in namespaces {
            let members: Vec<usize> = (0..objs.len())
                .filter(|j| objs[*j].namespace == ns && answers[*j].is_none())
                .collect();
            match members.as_slice() {
                [] => {}
                // One object: its GET is the cheaper request.
                [one] if r.namespaced => to_get.push(*one),
                _ => {
                    lister
                        .list(ns.as_deref(), &members, &mut answers, &mut to_get, false)
                        .await;
                }
            }
        }
    }

    // The rest, each with its own GET (its own request: retries are noted on its address).
    let gets = futures::stream::iter(to_get.into_iter().map(|j| {
        let req = &reads[targets[j].0].req;
        let (obj, r, conn) = (&objs[j], &r, &conn);
        async move {
            let cluster = k8s.cluster(req);
            let got = cluster.get(conn, r, obj).await;
            (j, got.map(|g| g.map(|item| observed(gvk, r, obj, item))))
        }
    }))
    .buffer_unordered(CONCURRENT_GETS)
    .collect::<Vec<_>>()
    .await;
    for (j, answer) in gets {
        answers[j] = Some(answer);
    }
    answers
        .into_iter()
        .zip(&objs)
        .map(|(a, obj)| {
            let a = a.unwrap_or_else(|| {
                Err(ProviderError::new("the batch read left this object unread"))
            });
            if let Ok(found) = &a {
                k8s.seen
                    .record(first.req.settings, &obj.id(), found.as_ref());
            }
            a
        })
        .collect()
}

/// Lists for one batch: the cluster, its connection, the kind as served, and the objects.
struct Lister<'a> {
    k8s: &'a KubernetesProvider,
    cluster: &'a crate::client::Cluster<'a>,
    conn: &'a std::sync::Arc<crate::connection::Conn>,
    r: &'a Resolved,
    gvk: &'a Gvk,
    objs: &'a [ObjectRef],
}

impl Lister<'_> {
    /// Lists the objects `members` (indexes into `objs`) in namespace `ns` (`None`: the
    /// kind's whole collection, across namespaces for a namespaced kind) and answers those
    /// found; those missing are answered gone when the list was one answer, else left to a
    /// GET (`to_get`). A list the server refuses: with `may_refuse`, `true` is returned and
    /// the objects not found are left unanswered (for lists per namespace); else they are
    /// left to GETs. A failure to reach the cluster is every missing object's error.
    async fn list(
        &self,
        ns: Option<&str>,
        members: &[usize],
        answers: &mut [Option<Answer>],
        to_get: &mut Vec<usize>,
        may_refuse: bool,
    ) -> bool {
        let wanted: HashSet<String> = members.iter().map(|j| object_key(&self.objs[*j])).collect();
        let wanted: HashSet<&str> = wanted.iter().map(String::as_str).collect();
        let at = ObjectRef {
            gvk: self.gvk.clone(),
            namespace: ns.map(str::to_string),
            name: String::new(),
        };
        let url = object_request(self.r, &at);
        let what = match ns {
            Some(ns) => format!("listing {} in namespace {ns}", self.r.resource.plural),
            None if self.r.namespaced => {
                format!("listing {} in all namespaces", self.r.resource.plural)
            }
            None => format!("listing {}", self.r.resource.plural),
        };
        let listing = collect(&wanted, |token| {
            let params = ListParams {
                limit: Some(self.k8s.list_page_size.max(1)),
                continue_token: token,
                ..ListParams::default()
            };
            let (url, what) = (&url, &what);
            async move {
                self.cluster
                    .call(self.conn, what, &|| url.list(&params))
                    .await
                    .map(Page::of)
            }
        })
        .await;
        let refused = listing.error.as_ref().is_some_and(get_instead);
        let failed = match &listing.error {
            Some(e) if !refused => Some(errors::provider_error(e, &what)),
            _ => None,
        };
        for &j in members {
            let obj = &self.objs[j];
            answers[j] = if let Some(item) = listing.found.get(&object_key(obj)) {
                Some(Ok(Some(observed(self.gvk, self.r, obj, item.clone()))))
            } else if let Some(pe) = &failed {
                Some(Err(pe.clone()))
            } else if listing.is_one_answer() {
                Some(Ok(None))
            } else if refused && may_refuse {
                None
            } else {
                to_get.push(j);
                None
            };
        }
        refused && may_refuse
    }
}

/// `namespace/name`, or `name` for a cluster-scoped object: how a list's items are matched.
fn object_key(obj: &ObjectRef) -> String {
    match &obj.namespace {
        Some(ns) => format!("{ns}/{}", obj.name),
        None => obj.name.clone(),
    }
}

/// The [`object_key`] of a list item.
fn item_key(item: &Json) -> Option<String> {
    let name = item.pointer("/metadata/name").and_then(Json::as_str)?;
    Some(
        match item.pointer("/metadata/namespace").and_then(Json::as_str) {
            Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
            _ => name.to_string(),
        },
    )
}

/// The object as `read` reports it from a GET: list items lack `apiVersion` and `kind`.
fn observed(gvk: &Gvk, r: &Resolved, obj: &ObjectRef, mut item: Json) -> Observed {
    if let Json::Object(m) = &mut item {
        m.entry("apiVersion")
            .or_insert_with(|| Json::from(r.resource.api_version.clone()));
        m.entry("kind")
            .or_insert_with(|| Json::from(r.resource.kind.clone()));
    }
    Observed {
        id: Some(obj.id()),
        attributes: attributes_of(gvk, item),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::cell::RefCell;

    fn item(name: &str) -> Json {
        json!({"metadata": {"name": name}})
    }

    fn gone() -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code: 410,
            reason: "Expired".into(),
            message: "The provided continue parameter is too old".into(),
            ..Default::default()
        }))
    }

    #[tokio::test]
    async fn an_expired_continue_token_restarts_the_list_and_keeps_what_was_found() {
        // Six wanted, so that the pages stay worth reading; g, h and i are not listed.
        let wanted: HashSet<&str> = ["a", "d", "f", "g", "h", "i"].into_iter().collect();
        let calls = RefCell::new(Vec::new());
        let listing = collect(&wanted, |token| {
            calls.borrow_mut().push(token.clone());
            let n = calls.borrow().len();
            async move {
                match (n, token.as_deref()) {
                    (1, None) => Ok(Page {
                        items: vec![item("a"), item("b")],
                        next: Some("b".into()),
                    }),
                    (2, Some("b")) => Err(gone()),
                    (3, None) => Ok(Page {
                        items: vec![item("a"), item("b"), item("c"), item("d")],
                        next: Some("d".into()),
                    }),
                    (4, Some("d")) => Ok(Page {
                        items: vec![item("f")],
                        next: None,
                    }),
                    other => panic!("unexpected call {other:?}"),
                }
            }
        })
        .await;
        let mut found: Vec<&str> = listing.found.keys().map(String::as_str).collect();
        found.sort();
        assert_eq!(found, ["a", "d", "f"]);
        assert!(listing.restarted && listing.complete && listing.error.is_none());
        assert!(!listing.is_one_answer());
        assert_eq!(calls.borrow().len(), 4);
    }

    #[tokio::test]
    async fn listing_stops_when_its_pages_would_cost_more_than_gets() {
        // Two objects wanted in a namespace of many: one page finds one, and one object
        // missing is not worth a second page.
        let wanted: HashSet<&str> = ["a", "zz"].into_iter().collect();
        let pages = RefCell::new(0);
        let listing = collect(&wanted, |_| {
            *pages.borrow_mut() += 1;
            async {
                Ok(Page {
                    items: vec![item("a"), item("b")],
                    next: Some("b".into()),
                })
            }
        })
        .await;
        assert_eq!(*pages.borrow(), 1);
        assert!(listing.found.contains_key("a") && !listing.complete);
        assert!(!listing.is_one_answer());
        // Everything found on the first page: no second page either.
        let wanted: HashSet<&str> = ["a", "b"].into_iter().collect();
        let listing = collect(&wanted, |_| async {
            Ok(Page {
                items: vec![item("a"), item("b")],
                next: Some("b".into()),
            })
        })
        .await;
        assert_eq!((listing.pages, listing.found.len()), (1, 2));
    }

    #[tokio::test]
    async fn a_token_that_keeps_expiring_ends_the_listing_with_the_error() {
        let wanted: HashSet<&str> = ["q", "r", "s", "t", "u", "v", "w", "x", "y", "z"]
            .into_iter()
            .collect();
        let listing = collect(&wanted, |token| async move {
            match token {
                None => Ok(Page {
                    items: vec![item("x")],
                    next: Some("x".into()),
                }),
                Some(_) => Err(gone()),
            }
        })
        .await;
        // Restarted twice (five pages asked), then the error: the rest are read with GETs.
        assert!(listing.error.as_ref().is_some_and(is_expired));
        assert!(get_instead(listing.error.as_ref().unwrap()));
        assert_eq!((listing.found.len(), listing.pages), (1, 5));
    }

    #[test]
    fn a_page_is_its_items_and_its_continue_token() {
        let page = Page::of(json!({"metadata": {"continue": ""}, "items": [item("a")]}));
        assert!(page.next.is_none());
        assert_eq!(page.items.len(), 1);
        let page = Page::of(json!({"metadata": {"continue": "t"}, "items": []}));
        assert_eq!(page.next.as_deref(), Some("t"));
    }
}
