//! The seam between the engine and the things it manages.
//!
//! A [`Provider`] owns a family of resource types (`core:data`, `azure:...`, `k8s:...`). The
//! engine never does I/O itself: it asks providers to read, plan, create, update and delete,
//! and records what they answer. Everything a provider knows about a type that the engine
//! needs for planning is in its [`TypeSchema`].
//!
//! A run finds providers by type prefix in a [`Registry`]. Every call carries a [`Request`]
//! (which object, the provider's settings, a [`Reporter`] for progress notes); failures are
//! [`ProviderError`]s carrying the service's own code. [`diff`] holds the default planning
//! diff, which a provider may use with its own [`diff::Equivalence`].

#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use plinth_value::{Path, Value};
use serde::{Deserialize, Serialize};

pub mod diff;

/// What kind of value an input takes; used to validate configurations before any I/O.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// Any value at all.
    Any,
    /// A string.
    String,
    /// A number (integer or float).
    Number,
    /// `true` or `false`.
    Bool,
    /// A list (TOML array).
    List,
    /// A map (TOML table).
    Map,
    /// A duration string such as `30s` or `10m`.
    Duration,
}

impl ValueKind {
    /// True when `v` fits this kind. Unknown values fit every kind (they are checked again
    /// at apply time, when they are known).
    pub fn admits(self, v: &Value) -> bool {
        let v = v.unmarked();
        if matches!(v, Value::Unknown) {
            return true;
        }
        match self {
            ValueKind::Any => true,
            ValueKind::String | ValueKind::Duration => matches!(v, Value::String(_)),
            ValueKind::Number => matches!(v, Value::Number(_)),
            ValueKind::Bool => matches!(v, Value::Bool(_)),
            ValueKind::List => matches!(v, Value::List(_)),
            ValueKind::Map => matches!(v, Value::Map(_)),
        }
    }

    /// The kind in words, for "expected ..." messages: `a string`, `a table`, ...
    pub fn describe(self) -> &'static str {
        match self {
            ValueKind::Any => "any value",
            ValueKind::String => "a string",
            ValueKind::Number => "a number",
            ValueKind::Bool => "a bool",
            ValueKind::List => "a list",
            ValueKind::Map => "a table",
            ValueKind::Duration => "a duration such as \"30s\" or \"10m\"",
        }
    }
}

/// One top-level input of a resource type.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InputSchema {
    /// The input's key in the declaration, e.g. `location`.
    pub name: String,
    /// What kind of value it takes.
    pub kind: ValueKind,
    /// A configuration without it is an error.
    pub required: bool,
    /// One line for humans: shown in `plinth schema` and in "missing input" help.
    pub description: String,
}

impl InputSchema {
    /// An input named `name` of kind `kind`.
    pub fn new(name: &str, kind: ValueKind, required: bool, description: &str) -> Self {
        InputSchema {
            name: name.into(),
            kind,
            required,
            description: description.into(),
        }
    }
}

/// What the engine needs to know about one resource type.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TypeSchema {
    /// Full type name, e.g. `core:data`.
    pub type_name: String,
    /// One line for humans about the type, shown in `plinth schema`.
    pub description: String,
    /// Top-level inputs.
    pub inputs: Vec<InputSchema>,
    /// When true, inputs not listed are accepted (e.g. an ARM body).
    pub open: bool,
    /// Attributes the provider sets; unknown in a plan until the object exists.
    pub computed: Vec<Path>,
    /// Inputs whose change cannot be made in place: the object is replaced.
    pub force_new: Vec<Path>,
    /// Inputs and attributes that are secrets.
    pub sensitive: Vec<Path>,
    /// Whether `[data.NAME]` may read this type.
    pub data_source: bool,
    /// Whether `[resource.NAME]` may manage this type.
    pub managed: bool,
    /// Whether this is an action type (`[action.NAME]`): imperative, run when what it
    /// watches changes, never a managed object.
    pub action: bool,
}

impl TypeSchema {
    /// The top-level input called `name`, if the schema lists one.
    pub fn input(&self, name: &str) -> Option<&InputSchema> {
        self.inputs.iter().find(|i| i.name == name)
    }
}

/// A provider's error. `code` is the service's own code (e.g. ARM's `PrincipalNotFound`).
#[derive(Clone, Debug, thiserror::Error, Serialize, Deserialize)]
#[error("{}{message}", code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
pub struct ProviderError {
    /// The service's error code, when it gave one; shown before the message.
    pub code: Option<String>,
    /// What went wrong, in the service's (or the provider's) words.
    pub message: String,
    /// The service accepted the request before the failure: a delete (or create) was sent and
    /// may still take effect, as when waiting for its long-running operation failed or timed
    /// out. The engine then keeps the record pending (`pending_delete`), to be settled by
    /// the next refresh, instead of undoing the pending mark.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accepted: bool,
}

impl ProviderError {
    /// An error with a message and no service code.
    pub fn new(message: impl Into<String>) -> Self {
        ProviderError {
            code: None,
            message: message.into(),
            accepted: false,
        }
    }

    /// An error with the service's own `code` (e.g. `PrincipalNotFound`) and message.
    pub fn with_code(code: impl Into<String>, message: impl Into<String>) -> Self {
        ProviderError {
            code: Some(code.into()),
            message: message.into(),
            accepted: false,
        }
    }

    /// The same error, saying that the request had been accepted (see
    /// [`ProviderError::accepted`]).
    pub fn after_accepted(self) -> Self {
        ProviderError {
            accepted: true,
            ..self
        }
    }
}

/// A note a provider makes while it works (a retry, a poll); the engine turns it into an
/// event so that `--json` and logs show it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Note {
    /// The address of the object the provider is working on.
    pub address: String,
    /// What happened, one short line (e.g. a retry: `ARM is busy with another write to
    /// this identity (409), retrying in 0.1s`); shown to the user, so never a secret.
    pub message: String,
    /// The whole story, for `PLINTH_LOG=debug` and `--json` (the request, the attempt, the
    /// service's whole message); never a secret. `None` when `message` says it all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Where a provider sends [`Note`]s.
pub trait Reporter: Send + Sync {
    /// Records one note; must not block (providers call it from their request loops).
    fn note(&self, note: Note);
}

/// A reporter that drops everything.
pub struct NullReporter;

impl Reporter for NullReporter {
    fn note(&self, _: Note) {}
}

/// The object as state knows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Prior {
    /// The provider id recorded in state; `None` when state has none for the object.
    pub id: Option<String>,
    /// Inputs as last applied.
    pub inputs: Value,
    /// Attributes as last read.
    pub attributes: Value,
}

/// A request about one object.
pub struct Request<'a> {
    /// The type without the provider prefix (`data`, not `core:data`).
    pub type_name: &'a str,
    /// The object's address, for notes and error messages.
    pub address: &'a str,
    /// Where progress notes about this request go.
    pub reporter: &'a dyn Reporter,
    /// The provider's settings (`[provider.NAME]`, evaluated) as this request sees them:
    /// `Null` when the configuration has none. Settings may refer to resources (see
    /// [`Provider::settings_references`]), so they can differ between requests of one run
    /// and hold unknown values while planning (the resource they name is not created yet).
    pub settings: &'a Value,
}

impl<'a> Request<'a> {
    /// A request with no provider settings.
    pub fn new(type_name: &'a str, address: &'a str, reporter: &'a dyn Reporter) -> Self {
        Request {
            type_name,
            address,
            reporter,
            settings: &Value::Null,
        }
    }

    /// The same request with these provider settings.
    pub fn with_settings(self, settings: &'a Value) -> Self {
        Request { settings, ..self }
    }
}

/// One object of a batch read ([`Provider::read_batch`]): its request and its prior, as
/// [`Provider::read`] takes them.
pub struct BatchRead<'a> {
    /// The request, as for a read of this object alone.
    pub req: Request<'a>,
    /// What state knows of the object (for an existence check: the planned id and inputs).
    pub prior: &'a Prior,
    /// State records the object (a refresh), so an answer "gone" is drift to report: a
    /// provider confirms it with a read of the object alone. `false` for an existence check
    /// of a planned create, where a list that came whole in one answer may say "absent".
    pub recorded: bool,
}

/// What a provider read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// The provider id of the object; `None` when the type has no id of its own.
    pub id: Option<String>,
    /// The attributes as the service reports them (sensitive where the provider marks them).
    pub attributes: Value,
}

/// The provider's view of a planned change.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Planned {
    /// The attributes the object will have (unknown where not known before apply).
    pub attributes: Value,
    /// Input paths whose value differs from the object's.
    pub changed: Vec<Path>,
    /// The subset of `changed` that cannot be changed in place.
    pub requires_replace: Vec<Path>,
}

/// A provider of resource types.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The prefix before `:` in type names (`core`, `azure`, `k8s`).
    fn name(&self) -> &str;

    /// The name of this provider's settings table, `[provider.NAME]` (`azure`,
    /// `kubernetes`); by default the same as [`Provider::name`].
    fn settings_table(&self) -> &str {
        self.name()
    }

    /// Keys of the settings table whose value may be the bare name of a resource
    /// (`cluster = "aks"`). The engine reads such a name as a reference to that resource's
    /// `id`: every object of this provider then depends on the resource, and requests carry
    /// its actual id (unknown while it is only planned).
    fn settings_references(&self) -> &[&str] {
        &[]
    }

    /// Whether the provider reads its settings from every request's `Request::settings`, so
    /// that a module may be given its own table (`[module.NAME.providers.X]`). `false` for a
    /// provider the binary configures once from the root's table (Azure's credentials and
    /// subscription): the engine then refuses a module's table rather than ignore it.
    fn settings_per_request(&self) -> bool {
        true
    }

    /// The keys its settings table may have, or empty for "checked by the provider when it
    /// reads them". The engine reports any other key, located, before anything runs.
    fn settings_keys(&self) -> &[&str] {
        &[]
    }

    /// Whether the settings key `key` (one of [`Provider::settings_references`]) may name a
    /// resource of type `type_name` (full, with its provider prefix): a Kubernetes provider's
    /// `cluster` must be an AKS cluster, not any resource.
    fn settings_reference_accepts(&self, key: &str, type_name: &str) -> bool {
        let _ = (key, type_name);
        true
    }

    /// The schema of a type (the part after `PREFIX:`), or `None` when the provider has no such type.
    fn schema(&self, type_name: &str) -> Option<TypeSchema>;

    /// Type names this provider knows, for suggestions and `plinth schema`.
    fn type_names(&self) -> Vec<String>;

    /// Provider-specific validation of a configuration (beyond the schema): returns
    /// `(path, message)` pairs. Values may be unknown.
    fn validate(&self, _type_name: &str, _config: &Value) -> Vec<(Path, String)> {
        Vec::new()
    }

    /// The id an object will have, when it is known before it is created (ARM ids,
    /// Kubernetes names). Lets a crash between sending a create and recording it be
    /// reconciled by reading that id.
    fn planned_id(&self, _type_name: &str, _config: &Value) -> Option<String> {
        None
    }

    /// True when every operation on objects of this type completes at once inside the
    /// process: no request, no wait (state-only types such as `core:data`; not `core:sleep`).
    /// The engine does not count such operations against `--parallelism`: a layer of 10,000
    /// of them completes in one scheduler turn, one journal sync, instead of one turn per
    /// parallelism-many. Nothing outside the process depends on their pending records.
    fn is_immediate(&self, _type_name: &str) -> bool {
        false
    }

    /// Objects that share a key are written one at a time.
    fn serialization_key(&self, _type_name: &str, _config: &Value) -> Option<String> {
        None
    }

    /// How long an operation is expected to take; used to prioritise the critical path.
    fn estimate(&self, _type_name: &str, _config: &Value) -> Duration {
        Duration::from_secs(1)
    }

    /// Plans a change from `prior` (refreshed; `None` for a create) to `config`.
    /// The default compares only the paths the user set (see [`diff`]). A provider may ask
    /// its service (a Kubernetes server-side dry run); most answer from what they know.
    async fn plan(
        &self,
        req: &Request<'_>,
        prior: Option<&Prior>,
        config: &Value,
    ) -> Result<Planned, ProviderError> {
        let schema = self.schema(req.type_name).unwrap_or_default();
        Ok(diff::plan_default(&schema, prior, config, &diff::ExactEq))
    }

    /// Reads the object; `Ok(None)` when it no longer exists.
    async fn read(
        &self,
        req: &Request<'_>,
        prior: &Prior,
    ) -> Result<Option<Observed>, ProviderError>;

    /// The collection an object can be read from together with others like it (an ARM list
    /// of one type under one parent, a Kubernetes list of one kind in one namespace): the
    /// engine hands objects whose keys are equal to [`Provider::read_batch`] together, when
    /// there are at least two. `None` (the default): the object is read alone with
    /// [`Provider::read`]. Pure, no request. The key names the collection (the type and
    /// the parent); the engine also groups by the requests' settings, so every request of
    /// one batch has the same settings.
    fn batch_key(&self, _req: &Request<'_>, _prior: &Prior) -> Option<String> {
        None
    }

    /// Reads the objects of one batch (equal [`Provider::batch_key`]s): one answer per entry
    /// of `reads`, in their order, each what [`Provider::read`] would have answered for it —
    /// the same attributes, the same `None` for an object that is gone (a provider that
    /// lists must confirm a [`BatchRead::recorded`] object missing from a list before calling
    /// it gone, and any object missing from a list of several pages: a list read page by page
    /// is no snapshot). The default reads each with `read`, one after another.
    async fn read_batch(
        &self,
        reads: &[BatchRead<'_>],
    ) -> Vec<Result<Option<Observed>, ProviderError>> {
        let mut out = Vec::with_capacity(reads.len());
        for r in reads {
            out.push(self.read(&r.req, r.prior).await);
        }
        out
    }

    /// Reads a data source.
    async fn read_data(
        &self,
        req: &Request<'_>,
        _config: &Value,
    ) -> Result<Observed, ProviderError> {
        Err(ProviderError::new(format!(
            "{} cannot be read as a data source",
            req.type_name
        )))
    }

    /// Creates the object. `config` is wholly known.
    async fn create(&self, req: &Request<'_>, config: &Value) -> Result<Observed, ProviderError>;

    /// Changes the object in place.
    async fn update(
        &self,
        req: &Request<'_>,
        prior: &Prior,
        config: &Value,
    ) -> Result<Observed, ProviderError>;

    /// Deletes the object and returns once it is gone.
    async fn delete(&self, req: &Request<'_>, prior: &Prior) -> Result<(), ProviderError>;

    /// Reads an existing object by id for `plinth import`; returns what it observed and
    /// the inputs a configuration would need to match it.
    async fn import(
        &self,
        req: &Request<'_>,
        id: &str,
    ) -> Result<(Observed, Value), ProviderError> {
        let _ = id;
        Err(ProviderError::new(format!(
            "{} does not support import",
            req.type_name
        )))
    }

    /// Why `id` cannot name an object of `type_name` (without the prefix), when the id alone
    /// tells (an ARM id carries its resource type, a Kubernetes id its kind): checked before
    /// anything is read. `None` when it may (or the id does not tell).
    fn import_id_mismatch(&self, type_name: &str, id: &str) -> Option<String> {
        let _ = (type_name, id);
        None
    }

    /// The type (without the prefix) an object with this id has, when the id tells and this
    /// provider knows the type (to suggest an `[[import]]` block's `type`).
    fn type_of_id(&self, id: &str) -> Option<String> {
        let _ = id;
        None
    }

    /// Where an input path appears in the attributes read back, if it does (ARM:
    /// `body.properties.x` is `properties.x`). The engine uses it to keep values changed
    /// outside plinth at `ignore_changes` paths.
    fn attribute_path(&self, _type_name: &str, input_path: &Path) -> Option<Path> {
        Some(input_path.clone())
    }

    /// The input path that sets an attribute path, if one does: the inverse of
    /// [`Provider::attribute_path`] (ARM: `properties.x` is set by `body.properties.x`).
    /// `lifecycle.manage` uses it to plan back an attribute the configuration does not set.
    fn input_path(&self, _type_name: &str, attribute_path: &Path) -> Option<Path> {
        Some(attribute_path.clone())
    }

    /// True when the service owns this attribute and changes it by itself: bookkeeping and
    /// status (a uid, a resource version, timestamps, a provisioning state, a message
    /// count). Renderings leave such attributes out of creates unless the configuration
    /// refers to them, a change to one is never shown as an update, and drift in one is not
    /// reported. Attribute paths; a path under a volatile one is volatile too.
    fn is_volatile(&self, _type_name: &str, _attribute_path: &Path) -> bool {
        false
    }

    /// A few words about attribute values of `attributes` (planned or read) that a reviewer
    /// cannot read from the value alone: the role name of a role definition id. Pure: no
    /// request. Attribute paths.
    fn annotations(&self, _type_name: &str, _attributes: &Value) -> Vec<(Path, String)> {
        vec![]
    }

    /// Functions this provider adds to expressions, without the prefix: `role_definition_id`
    /// is called as `${azure.role_definition_id("...")}`.
    fn functions(&self) -> Vec<String> {
        Vec::new()
    }

    /// Calls one of [`Provider::functions`]. Arguments arrive known and without sensitive marks
    /// (the evaluator propagates marks and unknowns itself).
    fn call_function(&self, name: &str, _args: &[Value]) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!(
            "{}.{name} is not a function",
            self.name()
        )))
    }

    /// Runs an action (`[action.NAME]`).
    async fn run_action(&self, req: &Request<'_>, _config: &Value) -> Result<(), ProviderError> {
        Err(ProviderError::new(format!(
            "{} is not an action type",
            req.type_name
        )))
    }
}

/// The providers a run can use, by prefix.
#[derive(Clone, Default)]
pub struct Registry {
    providers: BTreeMap<String, Arc<dyn Provider>>,
}

impl Registry {
    /// A registry with no providers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a provider under its [`Provider::name`], replacing one registered before under
    /// the same name.
    pub fn register(&mut self, p: Arc<dyn Provider>) {
        self.providers.insert(p.name().to_string(), p);
    }

    /// Splits `prefix:type` and finds the provider.
    pub fn lookup(&self, full_type: &str) -> Option<(&Arc<dyn Provider>, String)> {
        let (prefix, rest) = plinth_addr::TypeName::split(full_type)?;
        let p = self.providers.get(prefix)?;
        Some((p, rest.to_string()))
    }

    /// Every registered provider, ordered by name.
    pub fn providers(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.providers.values()
    }

    /// Every provider function, as written in expressions (`azure.role_definition_id`).
    pub fn all_functions(&self) -> Vec<String> {
        self.providers
            .values()
            .flat_map(|p| {
                p.functions()
                    .into_iter()
                    .map(move |f| format!("{}.{f}", p.name()))
            })
            .collect()
    }

    /// Calls a provider function by its full name; `None` when no provider has it.
    pub fn call_function(
        &self,
        full_name: &str,
        args: &[Value],
    ) -> Option<Result<Value, ProviderError>> {
        let (prefix, name) = full_name.split_once('.')?;
        let p = self.providers.get(prefix)?;
        if !p.functions().iter().any(|f| f == name) {
            return None;
        }
        Some(p.call_function(name, args))
    }

    /// Every known full type name.
    pub fn all_types(&self) -> Vec<String> {
        self.providers
            .values()
            .flat_map(|p| {
                p.type_names()
                    .into_iter()
                    .map(move |t| format!("{}:{t}", p.name()))
            })
            .collect()
    }
}
