//! Planned creates whose id is known up front, checked concurrently for an object that
//! already exists outside state (SPEC §3).

use plinth_config::{Diagnostic, Diagnostics};
use std::collections::HashMap;

use plinth_provider::Prior;
use plinth_value::Value;

use crate::reads::{Read, Reader, Reading, batches};

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
/// exists is reported now rather than overwritten or refused at apply time. Creates under
/// one collection (1,000 identities in a new resource group) are checked with one batch read.
pub(super) async fn find_existing(
    checks: Vec<CreateCheck>,
    reading: Reading,
    events: &dyn EventSink,
) -> Diagnostics {
    // Providers' notes (retries) become events, as during refresh and apply.
    let (tx, mut notes) = tokio::sync::mpsc::unbounded_channel();
    let reporter = std::sync::Arc::new(crate::reporter::EventReporter { tx });
    let mut by_address = HashMap::new();
    let mut reads = Vec::with_capacity(checks.len());
    for mut c in checks {
        reads.push(Read {
            provider: c.provider.clone(),
            type_name: std::mem::take(&mut c.type_name),
            address: c.address.clone(),
            settings: std::mem::take(&mut c.settings),
            prior: Prior {
                id: Some(c.id.clone()),
                inputs: std::mem::take(&mut c.config),
                attributes: Value::Null,
            },
            recorded: false,
        });
        by_address.insert(c.address.clone(), c);
    }
    let batches = batches(reads, reading.batch, reporter.as_ref());
    let mut reader = Reader::new(batches, reading.parallelism, reporter.clone());
    drop(reporter);
    let mut diags = Diagnostics::default();
    let mut found = Vec::new();
    while let Some(joined) = reader.next().await {
        while let Ok(e) = notes.try_recv() {
            events.emit(e);
        }
        let Ok(answers) = joined else { continue };
        for (address, _, res) in answers {
            let Some(c) = by_address.remove(&address) else {
                continue;
            };
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
