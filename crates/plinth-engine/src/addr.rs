//! Addresses are [`plinth_addr::Address`]; this module maps the kinds of the crates that have
//! not adopted [`DeclKind`] yet (configuration `Mode`, plan `Kind`).

pub use plinth_addr::{Address, DeclKind};

use plinth_config::Mode;
use plinth_plan::Kind;

/// The kind of address of a declaration in `mode`.
pub fn kind_of(m: Mode) -> DeclKind {
    match m {
        Mode::Managed => DeclKind::Resource,
        Mode::Data => DeclKind::Data,
    }
}

/// The plan's kind of change for an address kind.
pub fn plan_kind(k: DeclKind) -> Kind {
    match k {
        DeclKind::Data => Kind::Data,
        DeclKind::Action => Kind::Action,
        _ => Kind::Managed,
    }
}
