//! Plinth's state: the document model, the backend trait, the local backend and the
//! azure-blob backend ([`azure`]).
//!
//! Modules are private; this file re-exports the API other crates use. `azure` is public
//! for its configuration and credential types and for `azure::azurite`, the emulator that
//! end-to-end tests start.

#![warn(missing_docs)]

pub mod azure;
mod backend;
pub mod environment;
mod error;
mod files;
mod journal;
mod local;
mod lock;
mod memory;
mod model;
mod parse;

pub use azure::AzureBlobBackend;
pub use backend::{Backend, LoadedState, LockGuard, StateWriter};
pub use error::StateError;
pub use files::{MAX_STATE_FILE_BYTES, read_regular};
pub use local::{
    BACKUP_FILE, JOURNAL_FILE, LOCK_FILE, LOCK_INFO_FILE, LocalBackend, MIGRATED_FILE,
    SNAPSHOT_FILE,
};
pub use lock::LockInfo;
pub use memory::MemoryBackend;
pub use model::{
    Change, DeclKind, HistoryEntry, MAX_HISTORY, MAX_PUSHED_SERIAL, MAX_SERIAL, OutputState,
    PENDING, ResourceState, STATE_FORMAT, State, Status, next_serial,
};

#[cfg(test)]
mod tests;
