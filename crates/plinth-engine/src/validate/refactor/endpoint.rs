//! What the two addresses of a `[[moved]]` block name, shared by validation and by the plan
//! that runs the moves (`plan::moves`).

use crate::addr::Address;

/// What a `from` or `to` names, once the two are unified as Terraform does: when one side
/// has an instance key and the other has none, the keyless side is the instance without a
/// key (`from = "mi"`, `to = "mi[\"a\"]"` moves the one object of `mi`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// Every instance of a resource (`mi`).
    Resource,
    /// One instance of a resource (`mi["a"]`, `mi[0]`, or `mi` moved to/from a keyed one).
    ResourceInstance,
    /// Every instance of a module call (`module.app`).
    ModuleCall,
    /// One module instance (`module.app["a"]`).
    ModuleInstance,
}

impl Endpoint {
    /// The kinds of `from` and `to`, unified; `None` when one is a resource and the other a
    /// module.
    pub(crate) fn of(from: &Address, to: &Address) -> Option<(Endpoint, Endpoint)> {
        let keyed = |a: &Address| {
            if a.is_module() {
                a.module.last().is_some_and(|s| s.key.is_some())
            } else {
                a.key.is_some()
            }
        };
        let instance = keyed(from) || keyed(to);
        let kind = |a: &Address| match (a.is_module(), instance) {
            (false, false) => Endpoint::Resource,
            (false, true) => Endpoint::ResourceInstance,
            (true, false) => Endpoint::ModuleCall,
            (true, true) => Endpoint::ModuleInstance,
        };
        (from.is_module() == to.is_module()).then(|| (kind(from), kind(to)))
    }

    pub(super) fn noun(self) -> &'static str {
        match self {
            Endpoint::Resource => "resource",
            Endpoint::ResourceInstance => "resource instance",
            Endpoint::ModuleCall => "module call",
            Endpoint::ModuleInstance => "module instance",
        }
    }
}

/// Whether `inner` names part of what `outer` names: an instance of a whole resource, or
/// something inside a module call or instance.
pub(crate) fn within(inner: &Address, outer: &Address) -> bool {
    if inner == outer {
        return false;
    }
    if outer.is_module() {
        let n = outer.module.len();
        let last = &outer.module[n - 1];
        return inner.module.len() >= n
            && inner.module[..n - 1] == outer.module[..n - 1]
            && inner.module[n - 1].name == last.name
            && (last.key.is_none() || inner.module[n - 1].key == last.key);
    }
    !inner.is_module()
        && outer.key.is_none()
        && inner.key.is_some()
        && inner.module == outer.module
        && inner.name == outer.name
}
