//! Service Bus: `namespaces` (activated by a 30 s operation on Azure, deleted as one) and
//! their `queues` (an update replaces every settable property; `requiresSession` and
//! `enablePartitioning` cannot change; the message counts the simulated workloads change
//! survive updates).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::super::answer::error;
use super::super::context::Ctx;
use super::super::id::IdInfo;
use super::super::store::{ArmWorld, Resource, rfc3339};
use super::super::write::{Outcome, base_body, new_resource, props, require_location};

pub(super) const NAMESPACE: &str = "Microsoft.ServiceBus/namespaces";
/// How GET spells the namespace type.
const NAMESPACE_DISPLAY: &str = "Microsoft.ServiceBus/Namespaces";
pub(super) const QUEUE: &str = "Microsoft.ServiceBus/namespaces/queues";
/// How GET spells the queue type.
const QUEUE_DISPLAY: &str = "Microsoft.ServiceBus/Namespaces/Queues";

/// PUT of a namespace: `Activating` until its creation finishes.
pub(super) fn put_namespace(
    ctx: &Ctx,
    world: &mut ArmWorld<'_>,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    require_location(existing, input)?;
    // The service reserves these endings (its own host names): ARM refuses such a name.
    let lower = info.name.to_ascii_lowercase();
    if existing.is_none() && ["-", "-sb", "-mgmt"].iter().any(|s| lower.ends_with(s)) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!(
                "The specified service namespace is invalid. CorrelationId: {}",
                uuid::Uuid::new_v4()
            ),
        ));
    }
    let mut b = base_body(info, NAMESPACE_DISPLAY, existing, input);
    let sku = b.get("sku").cloned().unwrap_or(json!({"name": "Standard"}));
    let sku_name = sku
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("Standard")
        .to_string();
    let mut sku = sku;
    sku["name"] = json!(sku_name);
    if sku.get("tier").is_none() {
        sku["tier"] = json!(sku_name);
    }
    b["sku"] = sku;
    let old = existing
        .map(|r| r.body["properties"].clone())
        .unwrap_or(json!({}));
    let sub = info.subscription.clone().unwrap_or_default();
    let name = existing
        .and_then(|r| r.body["name"].as_str().map(str::to_string))
        .unwrap_or(info.name.clone());
    let busy = existing.map(|r| r.busy_until_ms > ctx.now).unwrap_or(true);
    let created = old
        .get("createdAt")
        .cloned()
        .unwrap_or(json!(rfc3339(ctx.now)));
    let p = props(&mut b);
    p.insert(
        "provisioningState".into(),
        json!(if busy { "Created" } else { "Succeeded" }),
    );
    p.insert(
        "status".into(),
        json!(if busy { "Activating" } else { "Active" }),
    );
    p.insert(
        "metricId".into(),
        json!(format!("{sub}:{}", name.to_ascii_lowercase())),
    );
    p.insert("createdAt".into(), created);
    p.insert("updatedAt".into(), json!(rfc3339(ctx.now)));
    p.insert(
        "serviceBusEndpoint".into(),
        json!(format!("https://{name}.servicebus.windows.net:443/")),
    );
    p.entry("minimumTlsVersion").or_insert(json!("1.2"));
    p.entry("publicNetworkAccess").or_insert(json!("Enabled"));
    p.entry("disableLocalAuth").or_insert(json!(false));
    p.entry("zoneRedundant").or_insert(json!(false));
    if sku_name.eq_ignore_ascii_case("Premium") {
        p.entry("premiumMessagingPartitions").or_insert(json!(1));
    }
    let mut resource = new_resource(ctx, info, existing, b);
    if existing.is_none() {
        resource.busy_until_ms = ctx.now + ctx.op_ms(&world.arm.settings, 30);
    }
    Ok(Outcome {
        status: StatusCode::OK,
        resource,
        headers: vec![],
        body: None,
        answer_at: None,
    })
}

/// A namespace's finished creation: it is active.
pub(super) fn finish_namespace(props: &mut Map<String, Value>) {
    props.insert("status".into(), json!("Active"));
}

/// The answer to a DELETE of a namespace (a 30 s operation on Azure): a `Location` to poll.
pub(super) fn delete_namespace_headers(
    ctx: &Ctx,
    _info: &IdInfo,
    existing: &Resource,
    op: &str,
) -> Vec<(&'static str, String)> {
    let loc = format!(
        "{}{}/operationresults/{op}?api-version={}",
        ctx.shared.base_url, existing.id, ctx.api_version
    );
    vec![("location", loc)]
}

/// PUT of a queue.
pub(super) fn put_queue(
    ctx: &Ctx,
    _world: &mut ArmWorld<'_>,
    info: &IdInfo,
    existing: Option<&Resource>,
    input: &Value,
) -> Result<Outcome, Response> {
    let in_props = input.get("properties").cloned().unwrap_or(json!({}));
    if let Some(ex) = existing {
        for prop in ["requiresSession", "enablePartitioning"] {
            let old = ex.body["properties"]
                .get(prop)
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if let Some(new) = in_props.get(prop).and_then(Value::as_bool)
                && new != old
            {
                let display = if prop == "requiresSession" {
                    "RequiresSession"
                } else {
                    "EnablePartitioning"
                };
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!(
                        "SubCode=40000. The value for the {display} property of an existing Queue cannot be changed. To know more visit https://aka.ms/sbResourceMgrExceptions. TrackingId:{}, SystemTracker:{}:Queue:{}, Timestamp:{}",
                        uuid::Uuid::new_v4(),
                        info.parent
                            .as_deref()
                            .and_then(|p| p.rsplit('/').next())
                            .unwrap_or_default(),
                        info.name,
                        rfc3339(ctx.now)
                    ),
                ));
            }
        }
    }
    // Unlike most types, an update is a full replacement of the settable properties.
    let mut b = base_body(info, QUEUE_DISPLAY, existing, &json!({}));
    let old = existing
        .map(|r| r.body["properties"].clone())
        .unwrap_or(json!({}));
    let p = props(&mut b);
    for (k, v) in [
        ("autoDeleteOnIdle", json!("P10675199DT2H48M5.4775807S")),
        (
            "defaultMessageTimeToLive",
            json!("P10675199DT2H48M5.4775807S"),
        ),
        ("duplicateDetectionHistoryTimeWindow", json!("PT10M")),
        ("enableBatchedOperations", json!(true)),
        ("deadLetteringOnMessageExpiration", json!(false)),
        ("enableExpress", json!(false)),
        ("enablePartitioning", json!(false)),
        ("lockDuration", json!("PT1M")),
        ("maxDeliveryCount", json!(10)),
        ("maxMessageSizeInKilobytes", json!(256)),
        ("maxSizeInMegabytes", json!(1024)),
        ("requiresDuplicateDetection", json!(false)),
        ("requiresSession", json!(false)),
        ("status", json!("Active")),
    ] {
        p.insert(k.into(), in_props.get(k).cloned().unwrap_or(v));
    }
    for (k, v) in in_props.as_object().into_iter().flatten() {
        p.entry(k.clone()).or_insert(v.clone());
    }
    p.insert(
        "createdAt".into(),
        old.get("createdAt")
            .cloned()
            .unwrap_or(json!(rfc3339(ctx.now))),
    );
    p.insert("updatedAt".into(), json!(rfc3339(ctx.now)));
    p.insert("accessedAt".into(), json!("0001-01-01T00:00:00Z"));
    // Messages on the queue (put there and taken by the simulated workloads) survive updates.
    p.insert(
        "messageCount".into(),
        old.get("messageCount").cloned().unwrap_or(json!(0)),
    );
    p.insert(
        "sizeInBytes".into(),
        old.get("sizeInBytes").cloned().unwrap_or(json!(0)),
    );
    p.insert(
        "countDetails".into(),
        old.get("countDetails").cloned().unwrap_or(
            json!({"activeMessageCount": 0, "deadLetterMessageCount": 0, "scheduledMessageCount": 0, "transferMessageCount": 0, "transferDeadLetterMessageCount": 0}),
        ),
    );
    Ok(Outcome {
        status: StatusCode::OK,
        resource: new_resource(ctx, info, existing, b),
        headers: vec![],
        body: None,
        answer_at: None,
    })
}
