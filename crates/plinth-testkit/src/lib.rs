//! plinth's test kit, shared by the crates' tests (a dev-dependency only; never published).
//!
//! - `Engine` loads a configuration from TOML text and drives `plinth_engine::plan` and
//!   `plinth_engine::apply` over a `MemoryBackend` with whatever providers a test registers,
//!   and checks the key promise (`assert_converged`: a second plan has nothing to do).
//! - `FakeProvider` (`fake:thing`, `fake:reader`, `fake:poke`) keeps objects in memory, logs
//!   every operation's start and finish, and can be made to fail or to wait on a `Gate`.
//! - `Tenant` (`ten:obj`) keeps objects "inside" a resource its settings name (`home`), as
//!   Kubernetes objects live in a cluster, and logs the settings every request carried.
//! - `Harness` is an `Engine` with the fake provider registered, for the engine's own tests.
//!
//! It re-exports `async_trait`, so a test can write its own small provider without
//! depending on `async-trait` itself.
//!
//! Architecture Invariant: the kit does no I/O but the engine's own (in-memory state, no
//! files, no network), so tests that use it run in parallel without tempdirs; it holds no
//! provider-specific helpers (the simulated cloud's admin calls stay with the tests that use
//! them).

mod engine;
mod fake;
mod harness;
mod lookup;
mod tenant;

pub use async_trait::async_trait;
pub use engine::{Engine, load};
pub use fake::{Entry, FakeProvider, Gate, Op, Phase};
pub use harness::Harness;
pub use lookup::{action, path, state_id};
pub use tenant::{TENANT_DEFAULT_HOME, Tenant};
