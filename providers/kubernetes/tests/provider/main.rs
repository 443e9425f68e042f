//! The Kubernetes provider end to end: against the simulated cloud (an AKS cluster created
//! over ARM with the Azure provider, its credentials fetched with `listClusterUserCredential`,
//! the cluster's Kubernetes API driven through the provider) and against hostile servers and
//! files. Every test has its own simulator on an ephemeral loopback port and nothing waits on
//! a clock (the simulator answers synchronously). One module per behaviour; the harness is
//! `support` ([`support::World`]).

mod support;

mod batched_reads;
mod clusters_not_created_yet;
mod data_sources;
mod fields;
mod hostile_servers_and_kubeconfigs;
mod import;
mod plans;
mod reaching_clusters;
mod rollout_restart;
mod server_side_apply;
mod waits_and_deletes;
