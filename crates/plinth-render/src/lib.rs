//! Renderings of plans for people and tools:
//! - [`text`]: what a terminal shows;
//! - [`markdown`]: what a pull request shows (GitHub-flavoured, size-bounded);
//! - [`json`]: plinth's versioned plan JSON (with its JSON Schema) and an export in
//!   Terraform's plan JSON representation.
//!
//! Sensitive values are hidden everywhere unless the caller asks otherwise.
//!
//! The three renderings are the public modules; what they share is private: `grouping`
//! (action groups, the provider of a type, changes by provider), `address` (the parts of
//! an address string), `marks` (sensitive marks across the sides of a change) and `review`
//! (the facts a reviewer needs that every rendering shows: hidden bookkeeping, parents,
//! cascades, plain reasons, blast radius, annotations, drift undone). None depends on a
//! rendering.

#![warn(missing_docs)]

mod address;
mod grouping;
pub mod json;
pub mod markdown;
mod marks;
mod review;
pub mod text;

pub use text::{TextOptions, plan_text};
