//! Bridges provider notes into the event stream.

use plinth_provider::{Note, Reporter};
use tokio::sync::mpsc::UnboundedSender;

use crate::events::Event;

/// A [`Reporter`] that forwards notes as [`Event::Note`]s over a channel, so providers
/// running in tasks never block on the CLI's rendering.
pub struct EventReporter {
    /// Where the notes go; the receiving side emits them to the event sink.
    pub tx: UnboundedSender<Event>,
}

impl Reporter for EventReporter {
    fn note(&self, note: Note) {
        let _ = self.tx.send(Event::Note {
            address: note.address,
            message: note.message,
            detail: note.detail,
        });
    }
}

/// A [`Reporter`] that emits notes straight into an
/// [`EventSink`](crate::events::EventSink), for provider calls made on the planning task
/// itself.
pub struct SinkReporter<'a>(pub &'a dyn crate::events::EventSink);

impl Reporter for SinkReporter<'_> {
    fn note(&self, note: Note) {
        self.0.emit(Event::Note {
            address: note.address,
            message: note.message,
            detail: note.detail,
        });
    }
}
