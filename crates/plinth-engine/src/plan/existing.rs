//! Planned creates whose id is known up front, checked concurrently for an object that
//! already exists outside state (SPEC §3).

use plinth_config::{Diagnostic, Diagnostics};
use plinth_provider::{Prior, Request};
use plinth_value::Value;

use crate::events::EventSink;

/// A create to check for an object that already exists.
pub(super) struct CreateCheck {
    pub(super) address: String,
    /// The provider's settings as planned.
    pub(super) settings: Value,
    pub(super) provider: std::sync::Arc<dyn plinth_provider::Provider>,
    pub(super) type_name: String,
    pub(super) id: String,
    pub(super) config: Value,
    pub(super) loc: plinth_config::Loc,
}

/// Reads, concurrently, the ids that planned creates will take; an object that already
/// exists is reported now rather than overwritten or refused at apply time.
pub(super) async fn find_existing(
    checks: Vec<CreateCheck>,
    parallelism: usize,
    events: &dyn EventSink,
) -> Diagnostics {
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(parallelism));
    let mut set = tokio::task::JoinSet::new();
    // Providers' notes (retries) become events, as during refresh and apply.
    let (tx, mut notes) = tokio::sync::mpsc::unbounded_channel();
    let reporter = std::sync::Arc::new(crate::reporter::EventReporter { tx });
    for c in checks {
        let sem = sem.clone();
        let reporter = reporter.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let req = Request::new(&c.type_name, &c.address, reporter.as_ref())
                .with_settings(&c.settings);
            let prior = Prior {
                id: Some(c.id.clone()),
                inputs: c.config.clone(),
                attributes: Value::Null,
            };
            let found = c.provider.read(&req, &prior).await;
            (c, found)
        });
    }
    drop(reporter);
    let mut diags = Diagnostics::default();
    let mut found = Vec::new();
    while let Some(joined) = set.join_next().await {
        while let Ok(e) = notes.try_recv() {
            events.emit(e);
        }
        let Ok((c, res)) = joined else { continue };
        match res {
            Ok(Some(_)) => found.push(
                Diagnostic::at(format!("`{}` would be created as {}, but that object already exists and is not in state", c.address, c.id), c.loc.clone())
                    .label("already exists")
                    .help(format!("adopt it with an import block, [[import]] to = {:?} id = {:?} (or `plinth import '{}' '{}'`), or choose another name", c.address, c.id, c.address, c.id)),
            ),
            Ok(None) => {}
            Err(e) => found.push(Diagnostic::at(format!("checking whether `{}` already exists failed: {e}", c.address), c.loc.clone())),
        }
    }
    while let Ok(e) = notes.try_recv() {
        events.emit(e);
    }
    found.sort_by(|a, b| a.message.cmp(&b.message));
    for d in found {
        diags.push(d);
    }
    diags
}
