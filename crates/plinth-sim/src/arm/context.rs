//! The context of one ARM request: the simulator's configuration, the time, the caller's
//! tenant and api-version, and the durations of simulated operations under the latency
//! profile.

use std::collections::HashMap;
use std::time::Duration;

use super::store::{Settings, Store};
use crate::{Latency, Shared};

/// Context of one request.
pub(crate) struct Ctx<'a> {
    pub shared: &'a Shared,
    pub now: u64,
    pub tenant: String,
    /// The caller's client (application) id, as `systemData` names it.
    pub caller: String,
    /// The caller's principal object id.
    pub caller_oid: String,
    pub api_version: String,
    pub query: &'a HashMap<String, String>,
}

impl Ctx<'_> {
    fn latency(&self) -> Latency {
        self.shared.config.latency
    }

    /// How long an operation that takes `realistic` on Azure takes here, in ms.
    pub fn op_ms(&self, settings: &Settings, realistic_secs: u64) -> u64 {
        settings.operation_ms.unwrap_or_else(|| {
            self.latency()
                .scale(Duration::from_secs(realistic_secs))
                .as_millis() as u64
        })
    }

    pub fn principal_window_ms(&self, settings: &Settings) -> u64 {
        settings
            .principal_window_ms
            .unwrap_or_else(|| self.latency().scale(Duration::from_secs(60)).as_millis() as u64)
    }

    pub fn fic_write_ms(&self, settings: &Settings) -> u64 {
        settings
            .fic_write_ms
            .unwrap_or_else(|| self.latency().scale(Duration::from_secs(5)).as_millis() as u64)
    }

    /// `systemData` after a write by the caller now: creation fields kept from `previous`
    /// (the stored resource's `systemData`), the last modification the caller's.
    pub fn system_data(&self, previous: Option<&serde_json::Value>) -> serde_json::Value {
        let at = super::store::rfc3339(self.now);
        let field = |k: &str| previous.and_then(|p| p.get(k)).cloned();
        serde_json::json!({
            "createdBy": field("createdBy").unwrap_or_else(|| self.caller.clone().into()),
            "createdByType": field("createdByType").unwrap_or_else(|| "Application".into()),
            "createdAt": field("createdAt").unwrap_or_else(|| at.clone().into()),
            "lastModifiedBy": self.caller,
            "lastModifiedByType": "Application",
            "lastModifiedAt": at,
        })
    }

    /// A generated GUID, deterministic with the seed and the order of creation.
    pub fn guid(&self, store: &mut Store, what: &str) -> String {
        store.serial += 1;
        let name = format!(
            "plinth-sim/{}/{}/{what}",
            self.shared.config.seed, store.serial
        );
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
    }
}
