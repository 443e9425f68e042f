//! The `k8s:rollout-restart` action: restarts a Deployment, StatefulSet or DaemonSet as
//! `kubectl rollout restart` does, by patching its pod template's `restartedAt` annotation
//! (strategic merge, manager `plinth`). Its schema, static checks and run.

use std::time::SystemTime;

use kube::core::params::{Patch, PatchParams};
use plinth_provider::{InputSchema, ProviderError, TypeSchema, ValueKind};
use plinth_value::{Path, Value};

use crate::client::{Cluster, FIELD_MANAGER, object_request};
use crate::errors;
use crate::kind::{self, ROLLOUT_RESTART};
use crate::manifest::p;

/// The annotation `kubectl rollout restart` sets on a pod template.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

fn now_rfc3339() -> String {
    humantime::format_rfc3339_micros(SystemTime::now()).to_string()
}

/// The action's schema.
pub(crate) fn schema() -> TypeSchema {
    TypeSchema {
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
    }
}

/// Static problems of the action's configuration: a `target` that is not "<namespace>/<Kind>/<name>".
pub(crate) fn validate(config: &Value) -> Vec<(Path, String)> {
    let mut out = Vec::new();
    if let Some(Value::String(t)) = config.get(&p("target")).map(|t| t.unmark_all())
        && let Err(e) = kind::parse_restart_target(&t)
    {
        out.push((p("target"), e.message));
    }
    out
}

/// Restarts the workload `config.target` names.
pub(crate) async fn run(cluster: &Cluster<'_>, config: &Value) -> Result<(), ProviderError> {
    let target = match config.get(&p("target")).map(|t| t.unmark_all()) {
        Some(Value::String(s)) => s,
        _ => {
            return Err(ProviderError::new(
                "`target` is required: \"<namespace>/<Kind>/<name>\", e.g. \"kube-system/Deployment/keda-operator\"",
            ));
        }
    };
    let obj = kind::parse_restart_target(&target)?;
    let conn = cluster.require_conn().await?;
    let r = cluster.require_kind(&conn, &obj.gvk).await?;
    let url = object_request(&r, &obj);
    let patch = serde_json::json!({
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now_rfc3339()}}}}
    });
    let pp = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    };
    let what = format!("restarting {}", obj.describe());
    cluster
        .call(&conn, &what, &|| {
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
