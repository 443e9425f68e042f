//! Kubernetes failures as plinth reports them (the `Status` reason and message, the object
//! named), and retries of the transient ones (429, 5xx, connection errors) with backoff.

use std::future::Future;
use std::time::Duration;

use plinth_provider::{Note, ProviderError, Reporter};

/// Retries of one operation, reported as notes on the resource being worked on.
pub struct Retry<'a> {
    pub reporter: &'a dyn Reporter,
    pub address: &'a str,
    /// Tries in all (at least one).
    pub attempts: u32,
    /// The first wait; doubled each time (plus jitter), at most 10 s, or what the server
    /// asks for (`retryAfterSeconds`).
    pub base: Duration,
}

impl Retry<'_> {
    /// Runs a Kubernetes call, again while it fails transiently.
    pub async fn run_kube<T, F, Fut>(&self, what: &str, f: F) -> Result<T, kube::Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        self.run_kube_until(what, f, |_| false).await
    }

    /// [`Retry::run_kube`], but a failure `stop` accepts is answered at once (not retried).
    pub async fn run_kube_until<T, F, Fut>(
        &self,
        what: &str,
        mut f: F,
        stop: impl Fn(&kube::Error) -> bool,
    ) -> Result<T, kube::Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        let mut attempt = 1;
        loop {
            match f().await {
                Err(e) if attempt < self.attempts.max(1) && is_transient(&e) && !stop(&e) => {
                    let wait = retry_after(&e).unwrap_or_else(|| self.backoff(attempt));
                    self.reporter.note(Note {
                        address: self.address.to_string(),
                        message: format!(
                            "{what}: {} (try {attempt} of {}); retrying in {}",
                            plain(&e),
                            self.attempts,
                            humantime::format_duration(Duration::from_millis(
                                wait.as_millis() as u64
                            ))
                        ),
                        detail: None,
                    });
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1 << (attempt - 1).min(6));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = exp.mul_f64(f64::from(nanos % 1000) / 4000.0);
        (exp + jitter).min(Duration::from_secs(10))
    }
}

/// The `Status` of an API error answer.
pub fn status(e: &kube::Error) -> Option<&kube::core::Status> {
    match e {
        kube::Error::Api(s) => Some(s),
        _ => None,
    }
}

/// HTTP 429, 5xx, and failures to connect or to read an answer.
pub fn is_transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => matches!(s.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

fn retry_after(e: &kube::Error) -> Option<Duration> {
    let s = status(e)?;
    let secs = s.details.as_ref()?.retry_after_seconds;
    (secs > 0).then(|| Duration::from_secs(u64::from(secs).min(30)))
}

/// A request that got no answer within the client's timeout (connect or read), as
/// [`plain`] reports it once retries are done: "timed out after 30s talking to the
/// Kubernetes API at https://host:443".
#[derive(Debug)]
pub struct TimedOut {
    pub after: Duration,
    pub server: String,
}

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "timed out after {} talking to the Kubernetes API at {}",
            humantime::format_duration(self.after),
            self.server
        )
    }
}

impl std::error::Error for TimedOut {}

/// Whether the client gave up waiting (its connect or read timeout): an `io::Error` of kind
/// `TimedOut` somewhere in the error's sources.
pub fn is_timeout(e: &kube::Error) -> bool {
    if let kube::Error::Service(s) = e
        && s.downcast_ref::<TimedOut>().is_some()
    {
        return true;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// The cluster could not be reached at all: the address no longer resolves, nothing answers
/// there, or its TLS certificate is not the one the credentials trust (all of which a replaced
/// AKS cluster causes: same ARM id, new API server address and CA).
pub fn is_connection_failure(e: &kube::Error) -> bool {
    matches!(e, kube::Error::HyperError(_) | kube::Error::Service(_))
}

/// A 404 that names no object: the URL itself is not served (a kind no longer served, or a
/// server that is no longer the cluster's API), as opposed to "this object does not exist".
pub fn names_no_object(e: &kube::Error) -> bool {
    status(e).is_some_and(|s| s.code == 404 && s.details.as_ref().is_none_or(|d| d.name.is_empty()))
}

pub fn is_not_found(e: &kube::Error) -> bool {
    status(e).is_some_and(|s| s.code == 404)
}

pub fn is_unauthorized(e: &kube::Error) -> bool {
    status(e).is_some_and(|s| s.code == 401)
}

/// The cluster does not serve the group, version or kind (e.g. a CRD not installed yet).
pub fn is_not_served(e: &kube::Error) -> bool {
    use kube::error::DiscoveryError as D;
    is_not_found(e)
        || matches!(
            e,
            kube::Error::Discovery(
                D::MissingKind(_) | D::MissingApiGroup(_) | D::MissingResource(_)
            )
        )
}

/// A server-side apply conflict: the managers named in the answer's causes.
pub fn apply_conflicts(e: &kube::Error) -> Option<Vec<(String, String)>> {
    let s = status(e)?;
    if s.code != 409 {
        return None;
    }
    let causes = &s.details.as_ref()?.causes;
    let out: Vec<(String, String)> = causes
        .iter()
        .filter(|c| c.reason == "FieldManagerConflict")
        .map(|c| (c.message.clone(), c.field.clone()))
        .collect();
    (!out.is_empty()).then_some(out)
}

/// Field managers of tools a person runs by hand to change an object imperatively (each
/// writes with an `Update`, not server-side apply). A field one of them took is drift, which
/// plinth takes back without `force`:
///
/// - `kubectl-edit`, `kubectl-annotate`, `kubectl-label`, `kubectl-patch`, `kubectl-set`,
///   `kubectl-scale`, `kubectl-replace`, `kubectl-create`, `kubectl-rollout`: the kubectl
///   commands of those names;
/// - `kubectl-client-side-apply`: `kubectl apply` without `--server-side`;
/// - `kubectl`: what kubectl before 1.18 wrote every change with;
/// - `plinth`: plinth's own imperative writes (`k8s:rollout-restart`).
///
/// Every other `Update` manager is taken to be a controller (the horizontal pod autoscaler or
/// KEDA through the scale subresource, an operator, an admission webhook): taking its fields
/// back would fight it on every apply, so such a conflict is an error, as an applier's is.
pub const HAND_EDIT_MANAGERS: &[&str] = &[
    "kubectl-edit",
    "kubectl-annotate",
    "kubectl-label",
    "kubectl-patch",
    "kubectl-set",
    "kubectl-scale",
    "kubectl-replace",
    "kubectl-create",
    "kubectl-rollout",
    "kubectl-client-side-apply",
    "kubectl",
    "plinth",
];

/// One conflicting manager as a conflict cause describes it: `conflict with "m"` (a
/// server-side applier) or `conflict with "m" [with subresource "s"] using apps/v1 [at t]`
/// (an `Update`).
#[derive(Clone, Debug, PartialEq)]
pub struct ConflictManager {
    pub name: String,
    /// The API version of its `Update`; `None` for an applier.
    pub update_using: Option<String>,
}

pub fn conflict_manager(message: &str) -> ConflictManager {
    let rest = message
        .split_once("conflict with ")
        .map_or(message, |(_, r)| r)
        .trim();
    // `"m"`, then ` with subresource "scale"`, then (an Update) ` using apps/v1 at <time>`.
    let (name, after) = match rest.strip_prefix('"').and_then(|r| r.split_once('"')) {
        Some((name, after)) => (name, after),
        None => rest.split_once(' ').unwrap_or((rest, "")),
    };
    let name = name.trim().to_string();
    let after = format!(" {after}");
    let update_using = after.find(" using ").map(|i| {
        after[i + 7..]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    });
    ConflictManager { name, update_using }
}

/// Whether every conflicting manager is a person's imperative edit ([`HAND_EDIT_MANAGERS`]
/// writing with an `Update`): such a change is drift, which plinth takes back.
pub fn only_hand_edit_conflicts(conflicts: &[(String, String)]) -> bool {
    conflicts.iter().all(|(m, _)| {
        let m = conflict_manager(m);
        m.update_using.is_some() && HAND_EDIT_MANAGERS.contains(&m.name.as_str())
    })
}

/// The fields an `Invalid` answer says cannot change (`field is immutable`); the root path
/// when the answer says so without naming one.
pub fn immutable_fields(e: &kube::Error) -> Vec<plinth_value::Path> {
    let Some(s) = status(e).filter(|s| s.code == 422 && s.message.contains("immutable")) else {
        return Vec::new();
    };
    let mut out: Vec<plinth_value::Path> = s
        .details
        .iter()
        .flat_map(|d| &d.causes)
        .filter(|c| c.message.contains("immutable"))
        .filter_map(|c| c.field.parse().ok())
        .collect();
    if out.is_empty() {
        out.push(plinth_value::Path::root());
    }
    out
}

/// A kube error as one line, without anything a credential could be part of.
pub fn plain(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => {
            let mut out = String::new();
            if !s.reason.is_empty() {
                out.push_str(&s.reason);
                out.push_str(": ");
            }
            out.push_str(if s.message.is_empty() {
                "no message"
            } else {
                &s.message
            });
            if s.code != 0 {
                out.push_str(&format!(" (HTTP {})", s.code));
            }
            out
        }
        kube::Error::Service(s) if let Some(t) = s.downcast_ref::<TimedOut>() => t.to_string(),
        _ if is_timeout(e) => "no answer (timed out)".to_string(),
        kube::Error::HyperError(h) => format!("connection failed: {h}"),
        kube::Error::Service(s) => format!("connection failed: {s}"),
        kube::Error::Auth(_) => "the cluster's credentials cannot be used".to_string(),
        other => other.to_string(),
    }
}

/// A kube error as a provider error: the `Status` reason as the code, `what` (which names
/// the object) before the message.
pub fn provider_error(e: &kube::Error, what: &str) -> ProviderError {
    match e {
        kube::Error::Api(s) if !s.reason.is_empty() => {
            let mut message = format!("{what}: {}", s.message);
            if let Some(d) = &s.details {
                for c in &d.causes {
                    if !c.field.is_empty() && !s.message.contains(&c.field) {
                        message.push_str(&format!("\n  {}: {}", c.field, c.message));
                    }
                }
            }
            ProviderError::with_code(s.reason.clone(), message)
        }
        _ => ProviderError::new(format!("{what}: {}", plain(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Notes(Mutex<Vec<String>>);

    impl Reporter for Notes {
        fn note(&self, note: Note) {
            self.0.lock().unwrap().push(note.message);
        }
    }

    fn api(code: u16, reason: &str) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status {
            code,
            reason: reason.into(),
            message: format!("{reason} happened"),
            ..Default::default()
        }))
    }

    #[test]
    fn what_is_transient() {
        assert!(is_transient(&api(429, "TooManyRequests")));
        assert!(is_transient(&api(503, "ServiceUnavailable")));
        assert!(!is_transient(&api(422, "Invalid")));
        assert!(!is_transient(&api(409, "Conflict")));
        assert!(is_not_served(&api(404, "NotFound")));
        assert!(is_not_served(&kube::Error::Discovery(
            kube::error::DiscoveryError::MissingKind("x".into())
        )));
    }

    #[tokio::test]
    async fn transient_failures_are_retried_and_reported() {
        let notes = Notes(Mutex::new(Vec::new()));
        let retry = Retry {
            reporter: &notes,
            address: "k8s_thing",
            attempts: 4,
            base: Duration::from_millis(1),
        };
        let calls = Mutex::new(0);
        let got = retry
            .run_kube("reading X", || {
                let n = {
                    let mut c = calls.lock().unwrap();
                    *c += 1;
                    *c
                };
                async move {
                    if n < 3 {
                        Err(api(503, "ServiceUnavailable"))
                    } else {
                        Ok(n)
                    }
                }
            })
            .await
            .unwrap();
        assert_eq!(got, 3);
        let notes = notes.0.lock().unwrap().clone();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("reading X") && notes[0].contains("ServiceUnavailable"));

        // A permanent failure is answered at once; transient ones give up after `attempts`.
        let calls = Mutex::new(0);
        let err = retry
            .run_kube("x", || {
                *calls.lock().unwrap() += 1;
                async { Err::<(), _>(api(422, "Invalid")) }
            })
            .await
            .unwrap_err();
        assert_eq!(*calls.lock().unwrap(), 1);
        let pe = provider_error(&err, "applying Job default/j");
        assert_eq!(pe.code.as_deref(), Some("Invalid"));
        assert_eq!(pe.message, "applying Job default/j: Invalid happened");
        let calls = Mutex::new(0);
        retry
            .run_kube("x", || {
                *calls.lock().unwrap() += 1;
                async { Err::<(), _>(api(429, "TooManyRequests")) }
            })
            .await
            .unwrap_err();
        assert_eq!(*calls.lock().unwrap(), 4);
    }

    #[test]
    fn conflict_managers_and_which_are_hand_edits() {
        let m = conflict_manager(r#"conflict with "kubectl-edit" using v1"#);
        assert_eq!(m.name, "kubectl-edit");
        assert_eq!(m.update_using.as_deref(), Some("v1"));
        let m = conflict_manager(
            r#"conflict with "horizontal-pod-autoscaler" with subresource "scale" using apps/v1 at 2026-01-01T00:00:00Z"#,
        );
        assert_eq!(m.name, "horizontal-pod-autoscaler");
        assert_eq!(m.update_using.as_deref(), Some("apps/v1"));
        let m = conflict_manager(r#"conflict with "other-tool""#);
        assert_eq!(m.name, "other-tool");
        assert_eq!(m.update_using, None);

        let c = |m: &str| vec![(m.to_string(), ".spec.replicas".to_string())];
        assert!(only_hand_edit_conflicts(&c(
            r#"conflict with "kubectl-edit" using v1"#
        )));
        assert!(only_hand_edit_conflicts(&c(
            r#"conflict with "kubectl-client-side-apply" using apps/v1"#
        )));
        // A controller writing with an update, and a server-side applier (even kubectl's).
        assert!(!only_hand_edit_conflicts(&c(
            r#"conflict with "kube-controller-manager" with subresource "scale" using apps/v1"#
        )));
        assert!(!only_hand_edit_conflicts(&c(r#"conflict with "kubectl""#)));
        let mut both = c(r#"conflict with "kubectl-label" using v1"#);
        both.extend(c(r#"conflict with "keda-operator" using apps/v1"#));
        assert!(!only_hand_edit_conflicts(&both));
    }

    #[test]
    fn what_says_a_connection_no_longer_reaches_its_cluster() {
        assert!(!is_connection_failure(&api(503, "ServiceUnavailable")));
        assert!(is_connection_failure(&kube::Error::Service(
            "dns error: failed to lookup address".into()
        )));
        // A 404 naming an object is that object; one naming none is the URL.
        let named = kube::Error::Api(Box::new(kube::core::Status {
            code: 404,
            reason: "NotFound".into(),
            details: Some(kube::core::response::StatusDetails {
                name: "web".into(),
                group: String::new(),
                kind: "configmaps".into(),
                uid: String::new(),
                causes: Vec::new(),
                retry_after_seconds: 0,
            }),
            ..Default::default()
        }));
        assert!(!names_no_object(&named));
        assert!(names_no_object(&api(404, "NotFound")));
    }
}
