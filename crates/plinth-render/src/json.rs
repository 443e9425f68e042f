//! Plan JSON (being written).
