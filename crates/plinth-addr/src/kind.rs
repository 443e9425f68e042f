//! The kinds of declaration an address can name.

use serde::{Deserialize, Serialize};

/// What an address names. Serialised as state and plan files always spelled it
/// (`managed`, `data`, `action`, `output`, `provider`; `local` is new with locals).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclKind {
    /// `[resource.NAME]`: an object plinth manages.
    #[serde(rename = "managed")]
    Resource,
    /// `[data.NAME]`: an object plinth only reads.
    Data,
    /// `[action.NAME]`: an imperative step.
    Action,
    /// `[output.NAME]`.
    Output,
    /// `[provider.NAME]`: a provider's settings table.
    Provider,
    /// An entry of `[locals]`, referred to as `local.NAME`.
    Local,
}

impl DeclKind {
    /// The prefix an address of this kind carries (`data.`), empty for resources.
    pub fn prefix(self) -> &'static str {
        match self {
            DeclKind::Resource => "",
            DeclKind::Data => "data.",
            DeclKind::Action => "action.",
            DeclKind::Output => "output.",
            DeclKind::Provider => "provider.",
            DeclKind::Local => "local.",
        }
    }

    /// The TOML table that declares it (`resource`, `data`, ..., `locals`).
    pub fn table(self) -> &'static str {
        match self {
            DeclKind::Resource => "resource",
            DeclKind::Data => "data",
            DeclKind::Action => "action",
            DeclKind::Output => "output",
            DeclKind::Provider => "provider",
            DeclKind::Local => "locals",
        }
    }

    /// Whether objects of this kind live in state (resources and data sources).
    pub fn is_object(self) -> bool {
        matches!(self, DeclKind::Resource | DeclKind::Data)
    }
}
