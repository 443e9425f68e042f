//! Addresses and type names: the one model of "which object" and "of what type" that
//! configuration, engine, plan, state and renderings share.
//!
//! - [`Address`]: `rg`, `app["blue"]`, `data.sub`, `action.restart`, `output.url`,
//!   `provider.kubernetes`, a deposed object `rg (deposed)`, and (for modules) a module path
//!   in front: `module.app["prod"].mi`. Parsed and printed here only; it serialises as its
//!   text, so state and plan files keep the strings they always had.
//! - [`InstanceKey`]: `[0]` (an instance of `count`) or `["blue"]` (of `for_each`).
//! - [`DeclKind`]: what kind of declaration an address names.
//! - [`TypeName`]: `PROVIDER:TYPE`, e.g. `azure:Microsoft.Resources/resourceGroups@2025-04-01`.
//!
//! Architecture invariant: this crate knows nothing of values, configuration files or
//! providers; it is pure data with parsing and printing, and no other crate splits an
//! address or a type name by hand.

#![warn(missing_docs)]

/// Serialises a type as its `Display` text and deserialises it through `FromStr`, so files
/// hold the same text users write.
macro_rules! serde_as_text {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_as_text;

mod address;
mod key;
mod kind;
mod type_name;

pub use address::{Address, AddressError, ModuleStep};
pub use key::InstanceKey;
pub use kind::DeclKind;
pub use type_name::{TypeName, TypeNameError};
