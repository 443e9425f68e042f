//! `Harness`: an `Engine` with the fake provider (and `core`) registered — what the engine's
//! own tests use. It dereferences to the `Engine`, so `h.plan()`, `h.state()` and
//! `h.registry` work on it directly, and `h.fake` is the provider to steer and observe.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::engine::Engine;
use crate::fake::FakeProvider;

/// A configuration, the fake provider, the `core` provider, and an in-memory state backend.
pub struct Harness {
    /// The fake provider the registry holds (clones share its store and log).
    pub fake: FakeProvider,
    engine: Engine,
}

impl Harness {
    /// A harness over `toml` with a fresh fake provider.
    pub fn new(toml: &str) -> Self {
        let fake = FakeProvider::new();
        let engine = Engine::with_providers(toml, [Arc::new(fake.clone()) as _]);
        Harness { fake, engine }
    }
}

impl Deref for Harness {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.engine
    }
}

impl DerefMut for Harness {
    fn deref_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }
}
