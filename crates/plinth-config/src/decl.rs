//! The declarations of a configuration, as decoded from its TOML files.

use plinth_addr::DeclKind;
use plinth_value::Path;

use crate::node::Node;
use crate::source::{Loc, Sources};

/// A whole configuration directory.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Every file read, for locating diagnostics: the `*.toml` files, the manifest files
    /// they name, and the var files variable resolution reads; every [`Loc`] points here.
    pub sources: Sources,
    /// The `[backend]` table; `None` when the configuration has none.
    pub backend: Option<BackendDecl>,
    /// `[variable.NAME]` declarations, in file order.
    pub variables: Vec<VariableDecl>,
    /// `[provider.NAME]` settings tables, in file order; a provider without one has none here.
    pub providers: Vec<ProviderDecl>,
    /// Managed resources and data sources, in file order.
    pub resources: Vec<ResourceDecl>,
    /// `[action.NAME]` declarations, in file order.
    pub actions: Vec<ActionDecl>,
    /// `[output.NAME]` declarations, in file order.
    pub outputs: Vec<OutputDecl>,
    /// `[locals]` entries, in file order (every file's `[locals]` table is merged).
    pub locals: Vec<LocalDecl>,
    /// `[module.NAME]` calls, in file order, each with the module it loaded.
    pub module_calls: Vec<ModuleCall>,
    /// `[[moved]]` declarations, in file order (addresses relative to this module).
    pub moved: Vec<MovedDecl>,
    /// `[[removed]]` declarations, in file order (addresses relative to this module).
    pub removed: Vec<RemovedDecl>,
    /// `[[import]]` declarations, in file order (the root configuration's only: a module's
    /// are refused when it is loaded).
    pub imports: Vec<ImportDecl>,
    /// `[check.NAME]` blocks, in file order.
    pub checks: Vec<CheckDecl>,
    /// The files `file(...)`, `templatefile(...)` and `fileexists(...)` name, read when the
    /// configuration was loaded, by the path as the expression gives it.
    pub files: std::collections::BTreeMap<String, ConfigFile>,
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

    /// The variable declared with this name; `None` when there is none.
    pub fn variable(&self, name: &str) -> Option<&VariableDecl> {
        self.variables.iter().find(|v| v.name == name)
    }
}

/// `[backend]`.
#[derive(Clone, Debug)]
pub struct BackendDecl {
    /// The backend's `type`: `local` or `azure-blob` (checked by whoever opens it).
    pub type_name: String,
    /// The `[backend]` table header.
    pub loc: Loc,
    /// Everything but `type`.
    pub config: Node,
}

/// The declared type of a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarType {
    /// `type = "string"`.
    String,
    /// `type = "number"`: an integer or a float.
    Number,
    /// `type = "bool"`.
    Bool,
    /// `type = "list"`, of items of any type.
    List,
    /// `type = "map"`, of values of any type.
    Map,
    /// `type = "any"`, and what a variable without `type` gets: every value is admitted.
    Any,
}

impl VarType {
    /// The type a `type = "..."` string names; `None` for an unknown name.
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

    /// The name as a configuration writes it and error messages say it (`string`, ...).
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
    /// The variable's name, as `${var.NAME}` and `--var NAME=...` write it.
    pub name: String,
    /// The name in the `[variable.NAME]` header.
    pub loc: Loc,
    /// The `default`, a fixed value (never a `${...}` template); `None` makes the variable
    /// required.
    pub default: Option<Node>,
    /// The `description`; `None` when not given.
    pub description: Option<String>,
    /// The declared `type`; [`VarType::Any`] when not given.
    pub var_type: VarType,
    /// `sensitive = true`: the value is marked sensitive and never shown, not even in errors.
    pub sensitive: bool,
}

/// `[provider.NAME]`.
#[derive(Clone, Debug)]
pub struct ProviderDecl {
    /// The settings table's name (`azure`, `kubernetes`), which a provider names itself;
    /// it need not be the types' prefix (`k8s:`).
    pub name: String,
    /// The name in the `[provider.NAME]` header.
    pub loc: Loc,
    /// The whole table: the provider's settings, unevaluated (they may hold `${...}`).
    pub config: Node,
}

/// A reference to another declaration by address text (`rg`, `data.sub`, `app["x"]`).
#[derive(Clone, Debug)]
pub struct AddrRef {
    /// The address as written; parsed and checked against the configuration later.
    pub text: String,
    /// The string in the file, for errors about the address.
    pub loc: Loc,
}

/// `lifecycle = { ... }`.
#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    /// `prevent_destroy = true`: a plan that would delete (or replace) the object is an error.
    pub prevent_destroy: bool,
    /// `create_before_destroy = true`: a replacement creates the new object first and
    /// deletes the old (then deposed) one after.
    pub create_before_destroy: bool,
    /// `ignore_changes = [...]`: input paths whose differences are not planned, each with
    /// the location of its string; never the root path.
    pub ignore_changes: Vec<(Path, Loc)>,
    /// `ignore_changes = "all"`.
    pub ignore_all_changes: bool,
    /// `manage = [...]`: *attribute* paths (as the object reports them:
    /// `properties.minimumTlsVersion`) that the configuration does not set but plinth
    /// enforces: a change made outside plinth at or under one is planned back to the value
    /// last recorded in state, instead of being reported as "not managed here". Each with
    /// the location of its string; never the root path.
    pub manage: Vec<(Path, Loc)>,
    /// `replace_triggered_by = [...]`: addresses whose create, update or replace in the same
    /// plan replaces this object.
    pub replace_triggered_by: Vec<AddrRef>,
    /// `precondition = [{ condition, message }, ...]`: checked before the provider is asked
    /// anything about the object; a false one stops it (and its dependents).
    pub preconditions: Vec<Condition>,
    /// `postcondition = [{ condition, message }, ...]`: checked once the provider has
    /// planned (and again once it has applied) the object, `self` being the object; a false
    /// one fails it.
    pub postconditions: Vec<Condition>,
}

/// One `{ condition = "${...}", message = "..." }` of a precondition, postcondition or
/// check's `assert`.
#[derive(Clone, Debug)]
pub struct Condition {
    /// The `{ ... }` table.
    pub loc: Loc,
    /// `condition`, unevaluated: it must evaluate to a bool.
    pub condition: Node,
    /// `message`, unevaluated (a template: it may name values).
    pub message: Node,
}

/// `[[moved]]`: the object state knows at `from` is the one now declared at `to`, so a plan
/// renames its record instead of deleting and creating it.
#[derive(Clone, Debug)]
pub struct MovedDecl {
    /// The `[[moved]]` table.
    pub loc: Loc,
    /// `from`: a resource (all its instances), a resource instance (`app["a"]`), a module
    /// call or a module instance (`module.app["a"]`), relative to the declaring module.
    pub from: AddrRef,
    /// `to`: an address of the same kind that the configuration declares.
    pub to: AddrRef,
}

/// `[[removed]]`: an object the configuration no longer declares, and what to do with it.
#[derive(Clone, Debug)]
pub struct RemovedDecl {
    /// The `[[removed]]` table.
    pub loc: Loc,
    /// `from`: a resource (all its instances) or a module call, relative to the declaring
    /// module; it must not be declared any more.
    pub from: AddrRef,
    /// `destroy`: `true` (the default) deletes the objects; `false` only forgets them
    /// (removed from state, left in the cloud).
    pub destroy: bool,
}

/// `[[import]]`: an existing object adopted at a declared (or, with `plan
/// --generate-config`, to be generated) address.
#[derive(Clone, Debug)]
pub struct ImportDecl {
    /// The `[[import]]` table.
    pub loc: Loc,
    /// `to`, as written: a resource instance address; with `for_each` its key may be an
    /// expression (`app[each.key]`).
    pub to: AddrRef,
    /// `id`, unevaluated (it may refer to variables, locals and `each`).
    pub id: Node,
    /// `type` with its location: needed when `to` has no declaration (the type to generate
    /// configuration for); when given for a declared address it must match.
    pub type_name: Option<(String, Loc)>,
    /// `for_each`, unevaluated: one import per element (`each.key`, `each.value`).
    pub for_each: Option<Node>,
}

/// `[check.NAME]`: assertions evaluated at the end of plan and of apply, reported as
/// warnings, never blocking.
#[derive(Clone, Debug)]
pub struct CheckDecl {
    /// The name in the `[check.NAME]` header.
    pub name: String,
    /// The name in the table header.
    pub loc: Loc,
    /// `assert = [{ condition, message }, ...]`.
    pub asserts: Vec<Condition>,
    /// `[check.NAME.data.READ]`: data sources read only for this check (visible to its
    /// assertions as `data.READ`; a failed read is a failed check, not an error).
    pub data: Vec<ResourceDecl>,
}

/// `[resource.NAME]` or `[data.NAME]`.
#[derive(Clone, Debug)]
pub struct ResourceDecl {
    /// [`DeclKind::Resource`] or [`DeclKind::Data`]; never another kind.
    pub mode: DeclKind,
    /// The name in the table header, without the `data.` prefix.
    pub name: String,
    /// Where the name is declared (the table header key).
    pub loc: Loc,
    /// The `type`, `PROVIDER:TYPE` as written (split with `plinth_addr::TypeName`).
    pub type_name: String,
    /// The `type` string's value in the file.
    pub type_loc: Loc,
    /// Everything that is not a meta-argument: the provider's inputs.
    pub inputs: Node,
    /// `depends_on = [...]`: explicit dependencies besides the references in `inputs`.
    pub depends_on: Vec<AddrRef>,
    /// `for_each`, unevaluated; `None` for a single instance without a key.
    pub for_each: Option<Node>,
    /// `count`, unevaluated; `None` unless given (never together with `for_each`).
    pub count: Option<Node>,
    /// `lifecycle = {...}`; the default (all off) when not given. A data source's has only
    /// preconditions and postconditions.
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
    /// The name in the `[action.NAME]` header.
    pub name: String,
    /// The name in the table header.
    pub loc: Loc,
    /// The `type`, `PROVIDER:TYPE` as written (`k8s:rollout-restart`).
    pub type_name: String,
    /// The `type` string's value in the file.
    pub type_loc: Loc,
    /// Everything but `type`, `on` and `depends_on`: the provider's inputs.
    pub inputs: Node,
    /// Addresses whose create/update/replace makes this action run.
    pub on: Vec<AddrRef>,
    /// `depends_on = [...]`: explicit dependencies besides the references in `inputs`.
    pub depends_on: Vec<AddrRef>,
}

/// `[output.NAME]`.
#[derive(Clone, Debug)]
pub struct OutputDecl {
    /// The name in the `[output.NAME]` header.
    pub name: String,
    /// The name in the table header.
    pub loc: Loc,
    /// The `value`, unevaluated.
    pub value: Node,
    /// `sensitive = true`: the value is shown as `(sensitive)`. An output of a sensitive
    /// variable must say so (validation rejects it otherwise).
    pub sensitive: bool,
    /// The `description`; `None` when not given.
    pub description: Option<String>,
    /// `lifecycle = { precondition = [...] }`: checked before the value is recorded.
    pub preconditions: Vec<Condition>,
}

/// One entry of a `[locals]` table: `name_prefix = "${var.prefix}-${var.env}"`.
#[derive(Clone, Debug)]
pub struct LocalDecl {
    /// The name, as `${local.NAME}` writes it.
    pub name: String,
    /// The key in the `[locals]` table.
    pub loc: Loc,
    /// The value, unevaluated (it may hold `${...}` anywhere inside).
    pub value: Node,
}

/// A file a configuration's expressions name, as read at load time.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    /// The file's text; `None` when it does not exist (`fileexists` is then false and
    /// `file` an error naming the path).
    pub text: Option<String>,
    /// The file in [`Config::sources`] (for locating errors inside a template file); `None`
    /// when it does not exist.
    pub source: Option<crate::source::FileId>,
}

/// `[module.NAME]`: a call of a module, a directory of TOML like any configuration.
#[derive(Clone, Debug)]
pub struct ModuleCall {
    /// The call's name, as `module.NAME` addresses write it.
    pub name: String,
    /// The name in the `[module.NAME]` header.
    pub loc: Loc,
    /// `source` as written: a path relative to the calling configuration's directory
    /// (`./modules/x`), or a git source (`git::https://host/repo.git//path?ref=v1`).
    pub source: String,
    /// The `source` string in the file.
    pub source_loc: Loc,
    /// The module's input variables as the call sets them: every key that is not a
    /// meta-argument, unevaluated, with the key's location.
    pub inputs: Vec<(String, Loc, Node)>,
    /// `for_each`, unevaluated; `None` unless given.
    pub for_each: Option<Node>,
    /// `count`, unevaluated; `None` unless given (never together with `for_each`).
    pub count: Option<Node>,
    /// `depends_on = [...]`: everything in the module waits for these.
    pub depends_on: Vec<AddrRef>,
    /// `[module.NAME.providers.X]`: provider settings given to the module explicitly,
    /// instead of the ones it inherits from its caller.
    pub providers: Vec<ProviderDecl>,
    /// The module as loaded from its directory. Its `sources` are empty: every file of
    /// every module is in the root configuration's `sources`, which its `Loc`s point into.
    pub module: std::sync::Arc<Config>,
    /// The module's directory, absolute (what `path.module` means inside it).
    pub dir: std::path::PathBuf,
}
