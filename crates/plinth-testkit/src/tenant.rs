//! `Tenant` (`ten:obj`, settings table `tenancy`): a provider whose objects live inside
//! another resource that its settings name (`home`), as Kubernetes objects live inside a
//! cluster. Tests of provider settings (the root's, and those a module call gives) use it to
//! see which settings each request carried.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use plinth_provider::{
    InputSchema, Observed, Prior, Provider, ProviderError, Request, TypeSchema, ValueKind,
};
use plinth_value::Value;

use crate::lookup::path;

/// A provider whose objects live "inside" another resource named by its settings (`home`),
/// as Kubernetes objects live inside a cluster. It logs the settings every request carried.
#[derive(Clone, Default)]
pub struct Tenant {
    /// Every request: operation, address and the settings it carried.
    pub log: Arc<Mutex<Vec<(String, String, Value)>>>,
    /// The objects, by id (`HOME/NAME`).
    pub store: Arc<Mutex<BTreeMap<String, serde_json::Value>>>,
}

impl Tenant {
    fn note(&self, op: &str, req: &Request<'_>) {
        self.log
            .lock()
            .unwrap()
            .push((op.into(), req.address.into(), req.settings.clone()));
    }

    /// The settings each `op` request for `address` carried, in order.
    pub fn seen(&self, op: &str, address: &str) -> Vec<Value> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(o, a, _)| o == op && a == address)
            .map(|(_, _, s)| s.clone())
            .collect()
    }

    fn home_of(req: &Request<'_>) -> Result<String, ProviderError> {
        match req.settings.get(&path("home")) {
            Some(Value::String(s)) => Ok(s),
            // No settings table: a default home, as a kubeconfig's current context is.
            None if matches!(req.settings, Value::Null | Value::Map(_)) => {
                Ok(TENANT_DEFAULT_HOME.into())
            }
            other => Err(ProviderError::new(format!("no home known: {other:?}"))),
        }
    }
}

#[async_trait]
impl Provider for Tenant {
    fn name(&self) -> &str {
        "ten"
    }

    fn settings_table(&self) -> &str {
        "tenancy"
    }

    fn settings_references(&self) -> &[&str] {
        &["home"]
    }

    fn schema(&self, type_name: &str) -> Option<TypeSchema> {
        (type_name == "obj").then(|| TypeSchema {
            type_name: "ten:obj".into(),
            inputs: vec![InputSchema {
                name: "name".into(),
                kind: ValueKind::String,
                required: true,
                description: String::new(),
            }],
            computed: vec![path("id"), path("home")],
            managed: true,
            ..Default::default()
        })
    }

    fn type_names(&self) -> Vec<String> {
        vec!["obj".into()]
    }

    async fn plan(
        &self,
        req: &Request<'_>,
        prior: Option<&Prior>,
        config: &Value,
    ) -> Result<plinth_provider::Planned, ProviderError> {
        self.note("plan", req);
        let schema = self.schema(req.type_name).unwrap();
        Ok(plinth_provider::diff::plan_default(
            &schema,
            prior,
            config,
            &plinth_provider::diff::ExactEq,
        ))
    }

    async fn read(
        &self,
        req: &Request<'_>,
        prior: &Prior,
    ) -> Result<Option<Observed>, ProviderError> {
        self.note("read", req);
        let home = Self::home_of(req)?;
        let id = prior.id.clone().unwrap_or_default();
        Ok(self
            .store
            .lock()
            .unwrap()
            .get(&id)
            .filter(|o| o["home"] == home.as_str())
            .map(|o| Observed {
                id: Some(id.clone()),
                attributes: Value::from(o.clone()),
            }))
    }

    async fn create(&self, req: &Request<'_>, config: &Value) -> Result<Observed, ProviderError> {
        self.note("create", req);
        let home = Self::home_of(req)?;
        let name = config.get(&path("name")).unwrap().to_json();
        let id = format!("{home}/{}", name.as_str().unwrap());
        let attrs = serde_json::json!({"id": id, "name": name, "home": home});
        self.store.lock().unwrap().insert(id.clone(), attrs.clone());
        Ok(Observed {
            id: Some(id),
            attributes: Value::from(attrs),
        })
    }

    async fn update(
        &self,
        req: &Request<'_>,
        _prior: &Prior,
        _config: &Value,
    ) -> Result<Observed, ProviderError> {
        Err(ProviderError::new(format!(
            "no updates for {}",
            req.address
        )))
    }

    async fn import(
        &self,
        req: &Request<'_>,
        id: &str,
    ) -> Result<(Observed, Value), ProviderError> {
        self.note("import", req);
        let home = Self::home_of(req)?;
        let store = self.store.lock().unwrap();
        let Some(o) = store.get(id).filter(|o| o["home"] == home.as_str()) else {
            return Err(ProviderError::new(format!("no object {id} in {home}")));
        };
        let inputs = serde_json::json!({"name": o["name"]});
        Ok((
            Observed {
                id: Some(id.to_string()),
                attributes: Value::from(o.clone()),
            },
            Value::from(inputs),
        ))
    }

    async fn delete(&self, req: &Request<'_>, prior: &Prior) -> Result<(), ProviderError> {
        self.note("delete", req);
        let home = Self::home_of(req)?;
        let id = prior.id.clone().unwrap_or_default();
        assert!(id.starts_with(&home), "deleted {id} from {home}");
        self.store.lock().unwrap().remove(&id);
        Ok(())
    }
}

/// Where a [`Tenant`] object lives when its provider has no settings table.
pub const TENANT_DEFAULT_HOME: &str = "default-home";
