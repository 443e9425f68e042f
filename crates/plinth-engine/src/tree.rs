//! The static module tree: the root configuration and every module it calls, transitively —
//! one node per call path (`module.net.module.sub`), not per instance. The declaration
//! graph has a node per declaration per static module; planning expands each module's
//! instances (its call's `for_each`/`count`) and evaluates the module's declarations once
//! per instance.

use plinth_addr::ModuleStep;
use plinth_config::{Config, ModuleCall};

/// How deep modules may nest (the loader refuses a module that calls itself; this bounds
/// the walk whatever it is given).
const MAX_DEPTH: usize = 64;

/// One static module: the root (index 0) or a module call's module.
pub struct Module<'c> {
    /// The module's configuration.
    pub config: &'c Config,
    /// The call names from the root: `["net", "sub"]` for `module.net.module.sub`.
    pub path: Vec<String>,
    /// The calling module; `None` for the root.
    pub parent: Option<usize>,
    /// The call in the parent that makes this module; `None` for the root.
    pub call: Option<&'c ModuleCall>,
    /// The module of each of this configuration's `module_calls`, by call index.
    pub children: Vec<usize>,
}

/// Every static module of a configuration, the root first, then depth-first in call order.
pub struct ModTree<'c> {
    /// The modules; index 0 is the root.
    pub modules: Vec<Module<'c>>,
}

/// The root module's index.
pub const ROOT: usize = 0;

impl<'c> ModTree<'c> {
    /// The tree of `root` and the modules it calls.
    pub fn new(root: &'c Config) -> Self {
        let mut t = ModTree {
            modules: Vec::new(),
        };
        t.add(root, Vec::new(), None, None);
        t
    }

    fn add(
        &mut self,
        config: &'c Config,
        path: Vec<String>,
        parent: Option<usize>,
        call: Option<&'c ModuleCall>,
    ) -> usize {
        let me = self.modules.len();
        self.modules.push(Module {
            config,
            path: path.clone(),
            parent,
            call,
            children: Vec::new(),
        });
        if path.len() < MAX_DEPTH {
            for c in &config.module_calls {
                let mut p = path.clone();
                p.push(c.name.clone());
                let child = self.add(&c.module, p, Some(me), Some(c));
                self.modules[me].children.push(child);
            }
        }
        me
    }

    /// The module `m`.
    pub fn get(&self, m: usize) -> &Module<'c> {
        &self.modules[m]
    }

    /// Whether the configuration calls no modules.
    pub fn is_flat(&self) -> bool {
        self.modules.len() == 1
    }

    /// The child of module `m` made by its call `name`.
    pub fn child(&self, m: usize, name: &str) -> Option<usize> {
        let module = &self.modules[m];
        module
            .config
            .module_calls
            .iter()
            .position(|c| c.name == name)
            .and_then(|i| module.children.get(i).copied())
    }

    /// The static module of an instance path (keys ignored); `None` when the configuration
    /// has no such module.
    pub fn of_instance(&self, inst: &[ModuleStep]) -> Option<usize> {
        let mut m = ROOT;
        for step in inst {
            m = self.child(m, &step.name)?;
        }
        Some(m)
    }

    /// The address prefix of module `m` without keys: `module.net.module.sub.` (empty for
    /// the root), for declarations in the graph and messages about them.
    pub fn prefix(&self, m: usize) -> String {
        self.modules[m]
            .path
            .iter()
            .map(|n| format!("module.{n}."))
            .collect()
    }

    /// How many call steps module `a` and module `b` share from the root (the depth of
    /// their nearest common ancestor).
    pub fn common_depth(&self, a: usize, b: usize) -> usize {
        let (pa, pb) = (&self.modules[a].path, &self.modules[b].path);
        pa.iter().zip(pb).take_while(|(x, y)| x == y).count()
    }
}
