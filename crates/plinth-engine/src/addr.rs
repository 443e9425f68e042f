//! Addresses and their kinds are [`plinth_addr`]'s, shared by every crate.

pub use plinth_addr::{Address, DeclKind};
