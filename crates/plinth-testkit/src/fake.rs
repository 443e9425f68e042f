//! The fake provider (`fake:`): objects in an in-memory store, a log of every operation's
//! start and finish, and knobs that make operations fail, fail after taking effect, or wait
//! on a gate. Tests drive the engine with it to see exactly what it asked, in what order and
//! how many at once.
//!
//! It has three types:
//! - `fake:thing` — a managed object kept in an in-memory store keyed by id. Inputs are open;
//!   `name` (when known) gives a deterministic planned id `fake/<name>`; `group` is the
//!   serialisation key; `est_ms` is the duration estimate; `sleep_ms` makes each operation
//!   sleep (use with paused time); `immutable` forces replacement; `password` (input) and
//!   `token` (computed) are sensitive; `id`, `arn`, `token` are computed. An `etag` (which
//!   only a test's `mutate` sets, as a service would) is volatile: the service's own.
//!   `collection` (an input) is the batch key: things in one collection are read together
//!   with `read_batch` (counted by [`FakeProvider::batch_sizes`]), as a list would read them.
//! - `fake:reader` — a data source: `query` → `result = "r:<query>"`.
//! - `fake:poke` — an action.
//!
//! It also offers one function for expressions: `fake.shout("hi")` is `"HI!"`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use plinth_provider::{
    InputSchema, Observed, Prior, Provider, ProviderError, Request, TypeSchema, ValueKind,
};
use plinth_value::Value;
use serde_json::json;
use tokio::sync::{Notify, Semaphore};

use crate::lookup::path;

/// The kind of a provider call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `Provider::create`.
    Create,
    /// `Provider::update`.
    Update,
    /// `Provider::delete`.
    Delete,
    /// `Provider::read_data` (a data source).
    ReadData,
    /// `Provider::run_action`.
    Run,
}

/// Where an operation was when it was logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Started (after the in-flight counters went up, before any gate or sleep).
    Start,
    /// Finished; `ok` tells whether it succeeded.
    Finish {
        /// Whether the operation succeeded.
        ok: bool,
    },
}

/// One line of the operation log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The address the request carried (`app`, `inst["a"]`).
    pub address: String,
    /// The kind of call.
    pub op: Op,
    /// Started or finished.
    pub phase: Phase,
}

#[derive(Clone, Debug)]
enum Failure {
    /// Fail before doing anything.
    Before(String),
    /// Take effect, then report failure (a timeout after the service acted).
    After(String),
}

#[derive(Default)]
struct Counters {
    current: usize,
    max: usize,
    per_key: HashMap<String, usize>,
    max_per_key: HashMap<String, usize>,
}

#[derive(Default)]
struct Inner {
    /// id → attributes (plain JSON).
    store: Mutex<BTreeMap<String, serde_json::Value>>,
    log: Mutex<Vec<Entry>>,
    changed: Notify,
    failures: Mutex<HashMap<(String, Op), Failure>>,
    gates: Mutex<HashMap<(String, Op), Arc<Semaphore>>>,
    counters: Mutex<Counters>,
    next_id: AtomicU64,
    /// Number of provider `read` calls (refresh).
    reads: AtomicU64,
    /// The size of every `read_batch` call, in call order.
    batches: Mutex<Vec<usize>>,
}

/// The fake provider. Clones share everything.
#[derive(Clone, Default)]
pub struct FakeProvider {
    inner: Arc<Inner>,
}

/// A gate that an operation waits on until it is opened.
#[derive(Clone)]
pub struct Gate(Arc<Semaphore>);

impl Gate {
    /// Lets one waiting (or future) operation through.
    pub fn open(&self) {
        self.0.add_permits(1);
    }
}

/// Decrements the in-flight counters even when the task is aborted.
struct InFlight {
    inner: Arc<Inner>,
    key: Option<String>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut c = self.inner.counters.lock().unwrap();
        c.current -= 1;
        if let Some(k) = &self.key {
            *c.per_key.get_mut(k).unwrap() -= 1;
        }
    }
}

fn input(name: &str, kind: ValueKind) -> InputSchema {
    InputSchema {
        name: name.into(),
        kind,
        required: false,
        description: String::new(),
    }
}

fn str_at(v: &Value, key: &str) -> Option<String> {
    v.get(&path(key))
        .and_then(|x| x.unmarked().as_str().map(str::to_string))
}

fn num_at(v: &Value, key: &str) -> Option<u64> {
    match v.get(&path(key)).map(|x| x.unmark_all()) {
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    }
}

impl FakeProvider {
    /// A fake provider with an empty store and log.
    pub fn new() -> Self {
        Self::default()
    }

    // ----- configuration of behaviour -----

    /// Makes `op` on `address` fail (until cleared) before doing anything.
    pub fn fail(&self, address: &str, op: Op, message: &str) {
        self.inner.failures.lock().unwrap().insert(
            (address.to_string(), op),
            Failure::Before(message.to_string()),
        );
    }

    /// Makes `op` on `address` take effect and then report failure.
    pub fn fail_after_effect(&self, address: &str, op: Op, message: &str) {
        self.inner.failures.lock().unwrap().insert(
            (address.to_string(), op),
            Failure::After(message.to_string()),
        );
    }

    /// Removes every injected failure.
    pub fn clear_failures(&self) {
        self.inner.failures.lock().unwrap().clear();
    }

    /// Makes `op` on `address` wait until the returned gate is opened.
    pub fn gate(&self, address: &str, op: Op) -> Gate {
        let sem = Arc::new(Semaphore::new(0));
        self.inner
            .gates
            .lock()
            .unwrap()
            .insert((address.to_string(), op), sem.clone());
        Gate(sem)
    }

    // ----- the store -----

    /// Every object in the store, id → attributes.
    pub fn objects(&self) -> BTreeMap<String, serde_json::Value> {
        self.inner.store.lock().unwrap().clone()
    }

    /// What a read of `prior` finds in the store.
    fn observe(&self, prior: &Prior) -> Option<Observed> {
        let id = prior.id.as_ref()?;
        self.object(id).map(|a| Observed {
            id: Some(id.clone()),
            attributes: Value::from(a),
        })
    }

    /// The attributes of the object `id`, if it exists.
    pub fn object(&self, id: &str) -> Option<serde_json::Value> {
        self.inner.store.lock().unwrap().get(id).cloned()
    }

    /// Changes an attribute out of band (drift).
    pub fn mutate(&self, id: &str, key: &str, value: serde_json::Value) {
        let mut store = self.inner.store.lock().unwrap();
        let obj = store.get_mut(id).expect("object exists");
        obj[key] = value;
    }

    /// Deletes an object out of band.
    pub fn remove(&self, id: &str) {
        self.inner.store.lock().unwrap().remove(id);
    }

    /// Creates an object out of band (as a create whose answer was lost would have).
    pub fn insert(&self, id: &str, attributes: serde_json::Value) {
        self.inner
            .store
            .lock()
            .unwrap()
            .insert(id.to_string(), attributes);
    }

    // ----- observation -----

    /// The operation log, in order.
    pub fn log(&self) -> Vec<Entry> {
        self.inner.log.lock().unwrap().clone()
    }

    /// Empties the operation log.
    pub fn clear_log(&self) {
        self.inner.log.lock().unwrap().clear();
    }

    /// Addresses in the order their `op` started.
    pub fn started(&self, op: Op) -> Vec<String> {
        self.log()
            .into_iter()
            .filter(|e| e.op == op && e.phase == Phase::Start)
            .map(|e| e.address)
            .collect()
    }

    /// All starts, as `"op address"`, in order.
    pub fn starts(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter(|e| e.phase == Phase::Start)
            .map(|e| format!("{:?} {}", e.op, e.address).to_lowercase())
            .collect()
    }

    /// Index in the log of the start / finish of `op` on `address`.
    pub fn pos(&self, address: &str, op: Op, start: bool) -> usize {
        self.log()
            .iter()
            .position(|e| {
                e.address == address
                    && e.op == op
                    && (e.phase == Phase::Start) == start
                    && (start || matches!(e.phase, Phase::Finish { .. }))
            })
            .unwrap_or_else(|| {
                panic!(
                    "no {} of {op:?} {address} in {:#?}",
                    if start { "start" } else { "finish" },
                    self.log()
                )
            })
    }

    /// How many times `op` started.
    pub fn count(&self, op: Op) -> usize {
        self.started(op).len()
    }

    /// The most operations that were in flight at once (since `reset_counters`).
    pub fn max_in_flight(&self) -> usize {
        self.inner.counters.lock().unwrap().max
    }

    /// How many operations are in flight now.
    pub fn in_flight(&self) -> usize {
        self.inner.counters.lock().unwrap().current
    }

    /// The most operations with serialisation key `key` (`group:<name>`) in flight at once.
    pub fn max_in_flight_for(&self, key: &str) -> usize {
        self.inner
            .counters
            .lock()
            .unwrap()
            .max_per_key
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    /// Starts counting the maxima afresh (from what is in flight now).
    pub fn reset_counters(&self) {
        let mut c = self.inner.counters.lock().unwrap();
        c.max = c.current;
        c.max_per_key.clear();
    }

    /// Number of provider `read` calls (refresh) so far.
    /// The number of objects in each `read_batch` call so far, in call order (reads of a
    /// lone object are counted by [`FakeProvider::refresh_reads`] instead).
    pub fn batch_sizes(&self) -> Vec<usize> {
        self.inner.batches.lock().unwrap().clone()
    }

    /// Number of `read` calls (one object each) so far.
    pub fn refresh_reads(&self) -> u64 {
        self.inner.reads.load(Ordering::SeqCst)
    }

    /// Waits until `pred` holds for the log (re-checked on every log change).
    pub async fn wait_until(&self, pred: impl Fn(&[Entry]) -> bool) {
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if pred(&self.inner.log.lock().unwrap()) {
                return;
            }
            notified.await;
        }
    }

    /// Waits until `op` on `address` has started.
    pub async fn wait_started(&self, address: &str, op: Op) {
        let a = address.to_string();
        self.wait_until(move |log| {
            log.iter()
                .any(|e| e.address == a && e.op == op && e.phase == Phase::Start)
        })
        .await
    }

    // ----- internals -----

    fn push(&self, address: &str, op: Op, phase: Phase) {
        self.inner.log.lock().unwrap().push(Entry {
            address: address.to_string(),
            op,
            phase,
        });
        self.inner.changed.notify_waiters();
    }

    /// Start bookkeeping, gate, sleep; returns the guard and the injected failure, if any.
    async fn begin(
        &self,
        address: &str,
        op: Op,
        key: Option<String>,
        sleep_ms: Option<u64>,
    ) -> (InFlight, Option<Failure>) {
        {
            let mut c = self.inner.counters.lock().unwrap();
            c.current += 1;
            c.max = c.max.max(c.current);
            if let Some(k) = &key {
                let n = c.per_key.entry(k.clone()).or_default();
                *n += 1;
                let n = *n;
                let m = c.max_per_key.entry(k.clone()).or_default();
                *m = (*m).max(n);
            }
        }
        let guard = InFlight {
            inner: self.inner.clone(),
            key,
        };
        self.push(address, op, Phase::Start);
        let gate = self
            .inner
            .gates
            .lock()
            .unwrap()
            .get(&(address.to_string(), op))
            .cloned();
        if let Some(g) = gate {
            g.acquire().await.expect("gate").forget();
        }
        if let Some(ms) = sleep_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let failure = self
            .inner
            .failures
            .lock()
            .unwrap()
            .get(&(address.to_string(), op))
            .cloned();
        (guard, failure)
    }

    fn end<T>(
        &self,
        address: &str,
        op: Op,
        guard: InFlight,
        r: Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        drop(guard);
        self.push(address, op, Phase::Finish { ok: r.is_ok() });
        r
    }

    fn key_of(config: &Value) -> Option<String> {
        str_at(config, "group").map(|g| format!("group:{g}"))
    }

    fn attributes(id: &str, config: &Value) -> serde_json::Value {
        let mut attrs = config.unmark_all().to_json();
        if !attrs.is_object() {
            attrs = json!({});
        }
        attrs["id"] = json!(id);
        attrs["arn"] = json!(format!("arn:fake:{id}"));
        attrs["token"] = json!(format!("tok-{id}"));
        attrs
    }
}

fn thing_schema() -> TypeSchema {
    TypeSchema {
        type_name: "fake:thing".into(),
        description: "a fake object".into(),
        inputs: vec![
            input("name", ValueKind::String),
            input("group", ValueKind::String),
            input("est_ms", ValueKind::Number),
            input("sleep_ms", ValueKind::Number),
            input("immutable", ValueKind::Any),
            input("password", ValueKind::String),
            input("value", ValueKind::Any),
        ],
        open: true,
        computed: vec![path("id"), path("arn"), path("token")],
        force_new: vec![path("immutable")],
        sensitive: vec![path("password"), path("token")],
        data_source: false,
        managed: true,
        action: false,
    }
}

#[async_trait]
impl Provider for FakeProvider {
    fn name(&self) -> &str {
        "fake"
    }

    fn schema(&self, type_name: &str) -> Option<TypeSchema> {
        match type_name {
            "thing" => Some(thing_schema()),
            "reader" => Some(TypeSchema {
                type_name: "fake:reader".into(),
                inputs: vec![input("query", ValueKind::Any)],
                open: true,
                computed: vec![path("result"), path("id")],
                data_source: true,
                managed: false,
                ..Default::default()
            }),
            "poke" => Some(TypeSchema {
                type_name: "fake:poke".into(),
                inputs: vec![input("target", ValueKind::Any)],
                open: true,
                action: true,
                ..Default::default()
            }),
            _ => None,
        }
    }

    fn type_names(&self) -> Vec<String> {
        vec!["thing".into(), "reader".into(), "poke".into()]
    }

    fn planned_id(&self, type_name: &str, config: &Value) -> Option<String> {
        if type_name != "thing" {
            return None;
        }
        str_at(config, "name").map(|n| format!("fake/{n}"))
    }

    fn serialization_key(&self, _type_name: &str, config: &Value) -> Option<String> {
        Self::key_of(config)
    }

    fn is_volatile(&self, _type_name: &str, attribute_path: &plinth_value::Path) -> bool {
        attribute_path.starts_with(&path("etag"))
    }

    fn functions(&self) -> Vec<String> {
        vec!["shout".into()]
    }

    /// `fake.shout("hi")` is `"HI!"`.
    fn call_function(&self, name: &str, args: &[Value]) -> Result<Value, ProviderError> {
        match (name, args) {
            ("shout", [Value::String(s)]) => Ok(Value::String(format!("{}!", s.to_uppercase()))),
            ("shout", _) => Err(ProviderError::new("expects one string")),
            (other, _) => Err(ProviderError::new(format!("no function {other}"))),
        }
    }

    fn estimate(&self, _type_name: &str, config: &Value) -> Duration {
        Duration::from_millis(num_at(config, "est_ms").unwrap_or(1))
    }

    async fn read(
        &self,
        _req: &Request<'_>,
        prior: &Prior,
    ) -> Result<Option<Observed>, ProviderError> {
        self.inner.reads.fetch_add(1, Ordering::SeqCst);
        Ok(self.observe(prior))
    }

    fn batch_key(&self, req: &Request<'_>, prior: &Prior) -> Option<String> {
        (req.type_name == "thing")
            .then(|| str_at(&prior.inputs, "collection"))
            .flatten()
    }

    async fn read_batch(
        &self,
        reads: &[plinth_provider::BatchRead<'_>],
    ) -> Vec<Result<Option<Observed>, ProviderError>> {
        self.inner.batches.lock().unwrap().push(reads.len());
        reads.iter().map(|r| Ok(self.observe(r.prior))).collect()
    }

    async fn read_data(
        &self,
        req: &Request<'_>,
        config: &Value,
    ) -> Result<Observed, ProviderError> {
        let (g, f) = self
            .begin(req.address, Op::ReadData, None, num_at(config, "sleep_ms"))
            .await;
        let r = match f {
            Some(Failure::Before(m) | Failure::After(m)) => Err(ProviderError::new(m)),
            None => {
                let q = config
                    .get(&path("query"))
                    .map(|v| v.unmark_all())
                    .unwrap_or(Value::Null);
                let mut attrs = config.unmark_all().to_json();
                if !attrs.is_object() {
                    attrs = json!({});
                }
                let qs = match q.to_json() {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                attrs["result"] = json!(format!("r:{qs}"));
                attrs["id"] = json!(format!("data/{qs}"));
                Ok(Observed {
                    id: Some(format!("data/{qs}")),
                    attributes: Value::from(attrs),
                })
            }
        };
        self.end(req.address, Op::ReadData, g, r)
    }

    async fn create(&self, req: &Request<'_>, config: &Value) -> Result<Observed, ProviderError> {
        assert!(
            config.is_wholly_known(),
            "create of {} with unknowns: {config:?}",
            req.address
        );
        let (g, f) = self
            .begin(
                req.address,
                Op::Create,
                Self::key_of(config),
                num_at(config, "sleep_ms"),
            )
            .await;
        if let Some(Failure::Before(m)) = &f {
            return self.end(
                req.address,
                Op::Create,
                g,
                Err(ProviderError::new(m.clone())),
            );
        }
        let id = self.planned_id(req.type_name, config).unwrap_or_else(|| {
            format!("gen-{}", self.inner.next_id.fetch_add(1, Ordering::SeqCst))
        });
        let r = {
            let mut store = self.inner.store.lock().unwrap();
            if store.contains_key(&id) {
                Err(ProviderError::with_code(
                    "AlreadyExists",
                    format!("{id} already exists"),
                ))
            } else {
                let attrs = Self::attributes(&id, config);
                store.insert(id.clone(), attrs.clone());
                Ok(Observed {
                    id: Some(id),
                    attributes: Value::from(attrs),
                })
            }
        };
        let r = match (r, f) {
            (Ok(_), Some(Failure::After(m))) => Err(ProviderError::new(m)),
            (r, _) => r,
        };
        self.end(req.address, Op::Create, g, r)
    }

    async fn update(
        &self,
        req: &Request<'_>,
        prior: &Prior,
        config: &Value,
    ) -> Result<Observed, ProviderError> {
        assert!(config.is_wholly_known(), "update with unknowns");
        let (g, f) = self
            .begin(
                req.address,
                Op::Update,
                Self::key_of(config),
                num_at(config, "sleep_ms"),
            )
            .await;
        if let Some(Failure::Before(m)) = &f {
            return self.end(
                req.address,
                Op::Update,
                g,
                Err(ProviderError::new(m.clone())),
            );
        }
        let id = prior.id.clone().unwrap_or_default();
        let r = {
            let mut store = self.inner.store.lock().unwrap();
            if store.contains_key(&id) {
                let attrs = Self::attributes(&id, config);
                store.insert(id.clone(), attrs.clone());
                Ok(Observed {
                    id: Some(id),
                    attributes: Value::from(attrs),
                })
            } else {
                Err(ProviderError::with_code(
                    "NotFound",
                    format!("{id} does not exist"),
                ))
            }
        };
        let r = match (r, f) {
            (Ok(_), Some(Failure::After(m))) => Err(ProviderError::new(m)),
            (r, _) => r,
        };
        self.end(req.address, Op::Update, g, r)
    }

    async fn delete(&self, req: &Request<'_>, prior: &Prior) -> Result<(), ProviderError> {
        let (g, f) = self
            .begin(
                req.address,
                Op::Delete,
                Self::key_of(&prior.inputs),
                num_at(&prior.attributes, "sleep_ms"),
            )
            .await;
        if let Some(Failure::Before(m)) = &f {
            return self.end(
                req.address,
                Op::Delete,
                g,
                Err(ProviderError::new(m.clone())),
            );
        }
        if let Some(id) = &prior.id {
            self.inner.store.lock().unwrap().remove(id);
        }
        // A delete that took effect and then failed is one the service accepted (its wait
        // for completion failed), as the Azure and Kubernetes providers report it.
        let r = match f {
            Some(Failure::After(m)) => Err(ProviderError::new(m).after_accepted()),
            _ => Ok(()),
        };
        self.end(req.address, Op::Delete, g, r)
    }

    async fn run_action(&self, req: &Request<'_>, _config: &Value) -> Result<(), ProviderError> {
        let (g, f) = self.begin(req.address, Op::Run, None, None).await;
        let r = match f {
            Some(Failure::Before(m) | Failure::After(m)) => Err(ProviderError::new(m)),
            None => Ok(()),
        };
        self.end(req.address, Op::Run, g, r)
    }
}
