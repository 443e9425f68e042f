//! The flagship's sample workload: pods of the AKS sample image `servicebusdemo`, which send
//! (producer) or receive (consumer) Service Bus messages authenticated as the workload
//! identity of their ServiceAccount, and log what they did. Any other image just succeeds.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::cluster::Cluster;
use super::identity::Azure;
use super::kube::{res, s};

const SAMPLE_IMAGE: &str = "aks-app-samples/servicebusdemo";

/// The outcome of one pod.
pub(super) struct PodRun {
    pub ok: bool,
    pub log: String,
    /// Why it failed (the last line a real pod would log).
    pub error: Option<String>,
}

/// What one pod of `template` does. Pods of the AKS sample image `servicebusdemo` send
/// (`OPERATION_MODE=producer`) or receive (`consumer`) `MESSAGE_COUNT` messages on the
/// queue `AZURE_SERVICEBUS_QUEUE_NAME` of `AZURE_SERVICEBUS_HOSTNAME`
/// (`<namespace>.servicebus.windows.net`), authenticated as the workload identity of the
/// pod's ServiceAccount; any other image just succeeds.
pub(super) fn run_pod(azure: &mut Azure<'_>, c: &Cluster, ns: &str, template: &Value) -> PodRun {
    let container = template
        .pointer("/spec/containers/0")
        .cloned()
        .unwrap_or_default();
    if !s(&container, "/image").contains(SAMPLE_IMAGE) {
        return PodRun {
            ok: true,
            log: String::new(),
            error: None,
        };
    }
    let env = resolve_env(c, ns, &container);
    match servicebus_demo(azure, c, ns, template, &env) {
        Ok(log) => PodRun {
            ok: true,
            log,
            error: None,
        },
        Err((mut log, error)) => {
            log.push_str(&error);
            log.push('\n');
            PodRun {
                ok: false,
                log,
                error: Some(error),
            }
        }
    }
}

fn servicebus_demo(
    azure: &mut Azure<'_>,
    c: &Cluster,
    ns: &str,
    template: &Value,
    env: &BTreeMap<String, String>,
) -> Result<String, (String, String)> {
    let get = |k: &str| env.get(k).map(String::as_str).unwrap_or_default();
    let mode = get("OPERATION_MODE").to_ascii_lowercase();
    let fail = |msg: String| Err((String::new(), msg));
    if mode != "producer" && mode != "consumer" {
        return fail(format!(
            "invalid OPERATION_MODE {:?}: expected \"producer\" or \"consumer\"",
            get("OPERATION_MODE")
        ));
    }
    let Ok(count) = get("MESSAGE_COUNT").trim().parse::<i64>() else {
        return fail(format!(
            "invalid MESSAGE_COUNT {:?}: expected a number",
            get("MESSAGE_COUNT")
        ));
    };
    let (queue, host) = (
        get("AZURE_SERVICEBUS_QUEUE_NAME"),
        get("AZURE_SERVICEBUS_HOSTNAME"),
    );
    if queue.is_empty() || host.is_empty() {
        return fail(
            "AZURE_SERVICEBUS_QUEUE_NAME and AZURE_SERVICEBUS_HOSTNAME must be set".into(),
        );
    }
    let mut log = format!(
        "{} {count} messages {} queue {queue} on {host}\n",
        if mode == "producer" {
            "Sending"
        } else {
            "Receiving"
        },
        if mode == "producer" { "to" } else { "from" }
    );
    let verb = if mode == "producer" {
        "failed to send messages"
    } else {
        "failed to receive messages"
    };
    let sa = ["/spec/serviceAccountName", "/spec/serviceAccount"]
        .iter()
        .map(|p| s(template, p))
        .find(|v| !v.is_empty())
        .unwrap_or("default");
    let Some(sa_obj) = c.get(res("", "serviceaccounts"), Some(ns), sa) else {
        return Err((
            log,
            format!(
                "pods is forbidden: error looking up service account {ns}/{sa}: serviceaccount \"{sa}\" not found"
            ),
        ));
    };
    let labeled = template
        .pointer("/metadata/labels/azure.workload.identity~1use")
        .and_then(Value::as_str)
        == Some("true");
    let client_id = env
        .get("AZURE_CLIENT_ID")
        .cloned()
        .or_else(|| {
            labeled
                .then(|| {
                    sa_obj
                        .pointer("/metadata/annotations/azure.workload.identity~1client-id")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .flatten()
        })
        .filter(|v| !v.is_empty());
    let subject = format!("system:serviceaccount:{ns}:{sa}");
    let identity = azure
        .workload_identity(labeled, client_id.as_deref(), &subject, None)
        .map_err(|e| (log.clone(), format!("{verb}: {e}")))?;
    let queue_key = azure
        .queue(host, queue)
        .map_err(|e| (log.clone(), format!("{verb}: {e}")))?;
    let (roles_ok, claim) = if mode == "producer" {
        (
            [
                "Azure Service Bus Data Owner",
                "Azure Service Bus Data Sender",
            ],
            "Send",
        )
    } else {
        (
            [
                "Azure Service Bus Data Owner",
                "Azure Service Bus Data Receiver",
            ],
            "Listen",
        )
    };
    if !azure.has_role(&identity.principal_id, &queue_key, &roles_ok) {
        return Err((
            log,
            format!(
                "{verb}: (unauthorized): Unauthorized access. '{claim}' claim(s) are required to perform this operation. Resource: 'sb://{host}/{queue}'."
            ),
        ));
    }
    let available = azure.queue_count(&queue_key);
    if mode == "producer" {
        for i in 1..=count {
            log.push_str(&format!("Sent message {i}\n"));
        }
        azure.set_queue_count(&queue_key, available + count);
        log.push_str(&format!("Sent {count} messages\n"));
    } else {
        let taken = count.min(available).max(0);
        for i in 1..=taken {
            log.push_str(&format!("Received message {i}\n"));
        }
        azure.set_queue_count(&queue_key, available - taken);
        log.push_str(&format!("Received {taken} messages\n"));
    }
    Ok(log)
}

/// The container's environment: `env` values and `valueFrom` ConfigMap/Secret keys.
fn resolve_env(c: &Cluster, ns: &str, container: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = s(e, "/name").to_string();
        let value = if let Some(v) = e.get("value") {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        } else if let Some(r) = e.pointer("/valueFrom/configMapKeyRef") {
            c.get(res("", "configmaps"), Some(ns), s(r, "/name"))
                .and_then(|cm| cm.get("data"))
                .and_then(|d| d.get(s(r, "/key")))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        } else if let Some(r) = e.pointer("/valueFrom/secretKeyRef") {
            use base64::Engine;
            c.get(res("", "secrets"), Some(ns), s(r, "/name"))
                .and_then(|sec| sec.get("data"))
                .and_then(|d| d.get(s(r, "/key")))
                .and_then(Value::as_str)
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        } else {
            String::new()
        };
        out.insert(name, value);
    }
    out
}
