//! Dependency graphs and concurrent walk scheduling for plinth.
//!
//! This crate holds small, generic primitives in the spirit of OpenTofu's
//! `internal/dag`: a directed graph type ([`Dag`]) with deterministic
//! algorithms, and a scheduler-agnostic walk state machine ([`Walk`]) that the
//! engine drives from its own runtime (the crate itself spawns nothing and has
//! no async code).
//!
//! # Edge direction
//!
//! An edge points **from a dependency to its dependent**. For a resource group
//! `rg` and a cluster `aks` that lives in it, the edge is `rg -> aks`: `aks`
//! depends on `rg`, so `rg` must be created first. Consequently:
//!
//! * [`Dag::topo_order`] lists dependencies before dependents (create order);
//! * [`Dag::reversed`] flips every edge, giving the destroy order;
//! * [`Dag::dependencies`] follows edges backwards, [`Dag::dependents`]
//!   forwards;
//! * a cycle reported by [`Dag::find_cycle`] follows edge direction:
//!   `[a, b, c]` means `a -> b -> c -> a`.
//!
//! Self-loops and cycles can be added (the builder does not reject them);
//! [`Dag::find_cycle`] or [`Dag::topo_order`] report them.
//!
//! # Node identity and determinism
//!
//! [`NodeId`]s are dense indices handed out by [`Dag::add_node`] in insertion
//! order (`0, 1, 2, …`); [`NodeId::index`] can index plain `Vec`s such as the
//! one returned by [`Dag::critical_path`]. Every algorithm is deterministic:
//! whenever there is a choice, the smaller `NodeId` wins, so the same graph
//! always yields the same order, the same cycle and the same rendering.
//!
//! # Walk semantics
//!
//! [`Walk`] tracks one [`NodeOutcome`] per node:
//!
//! ```text
//! Pending --(all dependencies Succeeded)--> Ready --next_ready--> Running
//! Running --complete--> Succeeded     Running --fail--> Failed
//! Pending/Ready/Running --skip / a dependency failed or was skipped--> Skipped
//! ```
//!
//! * A node becomes ready only when **every** dependency succeeded.
//! * [`Walk::next_ready`] pops the ready node with the highest priority (the
//!   engine uses [`Dag::critical_path`], so the longest remaining chain starts
//!   first); ties go to the smaller `NodeId`. It runs in `O(log n)`.
//! * [`Walk::fail`] marks the node failed and every transitive dependent
//!   skipped; independent branches keep going.
//! * [`Walk::skip`] is for nodes the caller decides not to run (e.g. after an
//!   interrupt): the node and its transitive dependents become skipped.
//!   [`Walk::skip_remaining`] does this for everything not yet started.
//! * [`Walk::is_finished`] is true when nothing is ready and nothing running.
//!   On an acyclic graph every node then has a terminal outcome; nodes on a
//!   cycle never become ready and stay `Pending`, so check
//!   [`Dag::topo_order`] before walking.
//!
//! ```
//! use plinth_graph::{Dag, NodeOutcome, Walk};
//!
//! let mut dag = Dag::new();
//! let rg = dag.add_node("rg");
//! let aks = dag.add_node("aks");
//! let dns = dag.add_node("dns");
//! dag.add_edge(rg, aks); // aks depends on rg
//!
//! let priority = dag.critical_path(|_| 1);
//! let mut walk = Walk::new(&dag, priority);
//! let first = walk.next_ready().unwrap();
//! assert_eq!(first, rg); // longest chain first
//! let second = walk.next_ready().unwrap();
//! assert_eq!(second, dns);
//! assert_eq!(walk.fail(rg), vec![aks]); // aks can no longer run
//! walk.complete(dns); // the independent branch is unaffected
//! assert!(walk.is_finished());
//! assert_eq!(walk.outcome(aks), NodeOutcome::Skipped);
//! ```

#![warn(missing_docs)]

mod dag;
mod render;
mod walk;

pub use dag::{Dag, NodeId};
pub use render::escape_mermaid;
pub use walk::{NodeOutcome, Walk};
