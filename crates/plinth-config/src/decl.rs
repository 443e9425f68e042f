//! The declarations of a configuration, as decoded from its TOML files.

use plinth_addr::DeclKind;
use plinth_value::Path;

use crate::node::Node;
use crate::source::{Loc, Sources};

/// A whole configuration directory.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub sources: Sources,
    pub backend: Option<BackendDecl>,
    pub variables: Vec<VariableDecl>,
    pub providers: Vec<ProviderDecl>,
    /// Managed resources and data sources, in file order.
    pub resources: Vec<ResourceDecl>,
    pub actions: Vec<ActionDecl>,
    pub outputs: Vec<OutputDecl>,
    /// `(mode, name)` → index in `resources`, built on first lookup (a configuration is not
    /// changed once loaded).
    index: std::sync::OnceLock<std::collections::HashMap<(DeclKind, String), usize>>,
}

impl Config {
    /// The resource or data source declared with this name; O(1).
    pub fn resource(&self, mode: DeclKind, name: &str) -> Option<&ResourceDecl> {
        let index = self.index.get_or_init(|| {
            self.resources
                .iter()
                .enumerate()
                .map(|(i, r)| ((r.mode, r.name.clone()), i))
                .collect()
        });
        index
            .get(&(mode, name.to_string()))
            .map(|&i| &self.resources[i])
    }

    pub fn variable(&self, name: &str) -> Option<&VariableDecl> {
        self.variables.iter().find(|v| v.name == name)
    }
}

/// `[backend]`.
#[derive(Clone, Debug)]
pub struct BackendDecl {
    pub type_name: String,
    pub loc: Loc,
    /// Everything but `type`.
    pub config: Node,
}

/// The declared type of a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarType {
    String,
    Number,
    Bool,
    List,
    Map,
    Any,
}

impl VarType {
    pub fn parse(s: &str) -> Option<VarType> {
        Some(match s {
            "string" => VarType::String,
            "number" => VarType::Number,
            "bool" => VarType::Bool,
            "list" => VarType::List,
            "map" => VarType::Map,
            "any" => VarType::Any,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            VarType::String => "string",
            VarType::Number => "number",
            VarType::Bool => "bool",
            VarType::List => "list",
            VarType::Map => "map",
            VarType::Any => "any",
        }
    }
}

/// `[variable.NAME]`.
#[derive(Clone, Debug)]
pub struct VariableDecl {
    pub name: String,
    pub loc: Loc,
    pub default: Option<Node>,
    pub description: Option<String>,
    pub var_type: VarType,
    pub sensitive: bool,
}

/// `[provider.NAME]`.
#[derive(Clone, Debug)]
pub struct ProviderDecl {
    pub name: String,
    pub loc: Loc,
    pub config: Node,
}

/// A reference to another declaration by address text (`rg`, `data.sub`, `app["x"]`).
#[derive(Clone, Debug)]
pub struct AddrRef {
    pub text: String,
    pub loc: Loc,
}

/// `lifecycle = { ... }`.
#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    pub prevent_destroy: bool,
    pub create_before_destroy: bool,
    pub ignore_changes: Vec<(Path, Loc)>,
    /// `ignore_changes = "all"`.
    pub ignore_all_changes: bool,
    pub replace_triggered_by: Vec<AddrRef>,
}

/// `[resource.NAME]` or `[data.NAME]`.
#[derive(Clone, Debug)]
pub struct ResourceDecl {
    pub mode: DeclKind,
    pub name: String,
    /// Where the name is declared (the table header key).
    pub loc: Loc,
    pub type_name: String,
    pub type_loc: Loc,
    /// Everything that is not a meta-argument: the provider's inputs.
    pub inputs: Node,
    pub depends_on: Vec<AddrRef>,
    pub for_each: Option<Node>,
    pub lifecycle: Lifecycle,
}

impl ResourceDecl {
    /// `name` or `data.name`.
    pub fn address(&self) -> String {
        plinth_addr::Address::new(self.mode, &self.name, None).to_string()
    }
}

/// `[action.NAME]`.
#[derive(Clone, Debug)]
pub struct ActionDecl {
    pub name: String,
    pub loc: Loc,
    pub type_name: String,
    pub type_loc: Loc,
    pub inputs: Node,
    /// Addresses whose create/update/replace makes this action run.
    pub on: Vec<AddrRef>,
    pub depends_on: Vec<AddrRef>,
}

/// `[output.NAME]`.
#[derive(Clone, Debug)]
pub struct OutputDecl {
    pub name: String,
    pub loc: Loc,
    pub value: Node,
    pub sensitive: bool,
    pub description: Option<String>,
}
