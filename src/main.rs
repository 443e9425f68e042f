//! The `plinth` command line (SPEC §8).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Writes a line to stdout. A closed stdout (`plinth schema | head -1`) is not an error
/// worth a panic: the reader has what it wanted.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Writes to stdout, ignoring a closed pipe (see `outln!`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// The allocator: a plan of 100,000 resources allocates and frees tens of millions of small
/// values (mimalloc: 1.6x faster than glibc's malloc there).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod backend;
mod commands;
mod environment;
mod error;
mod progress;
mod schema;
mod workspace;

/// Infrastructure as code for Azure and Kubernetes, declared in TOML.
#[derive(Parser, Debug)]
#[command(name = "plinth", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command that reads a configuration takes.
#[derive(Args, Debug, Clone, Default)]
pub struct Common {
    /// Set a variable: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", global = true)]
    pub vars: Vec<String>,
    /// Read variables from a TOML file of NAME = VALUE lines (repeatable).
    #[arg(long = "var-file", value_name = "FILE", global = true)]
    pub var_files: Vec<PathBuf>,
    /// Do not colour the output.
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Machine-readable output: JSON lines of events, or JSON documents.
    #[arg(long, global = true)]
    pub json: bool,
    /// How long to wait for the state lock, e.g. 30s (default: fail at once).
    #[arg(long, value_name = "DURATION", default_value = "0s", global = true, value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
    /// Use the simulated cloud: alone, start one in-process (its world kept in
    /// DIR/.plinth/sim-world.json); with a URL, use a running `plinth sim serve`.
    #[arg(long, value_name = "URL", global = true, num_args = 0..=1, default_missing_value = IN_PROCESS, env = "PLINTH_SIM")]
    pub sim: Option<String>,
    /// The CA certificate a `--sim https://...` simulator's certificate is trusted by: the
    /// file `plinth sim serve --tls` printed (nothing else is trusted for it).
    #[arg(long, value_name = "FILE", global = true, env = "PLINTH_SIM_CA")]
    pub sim_ca: Option<PathBuf>,
    /// The environment (dev, staging, prod, ...): its own state in the same backend, read by
    /// expressions as `${env.PLINTH_ENV}` (default: "default", the state kept so far).
    #[arg(long = "env", value_name = "NAME", global = true, env = "PLINTH_ENV")]
    pub environment: Option<String>,
}

/// The value of a bare `--sim`.
pub const IN_PROCESS: &str = "in-process";

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. 30s or 2m"))
}

#[derive(Args, Debug, Clone, Default)]
pub struct PlanFlags {
    /// Plan to destroy everything in state.
    #[arg(long)]
    pub destroy: bool,
    /// Only refresh: record changes made outside plinth, change nothing else.
    #[arg(long)]
    pub refresh_only: bool,
    /// Limit to this address and what it depends on (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Replace this address even if nothing changed (repeatable).
    #[arg(long = "replace", value_name = "ADDR")]
    pub replace: Vec<String>,
    /// Show sensitive values in the plan.
    #[arg(long)]
    pub show_sensitive: bool,
    /// How many operations run at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub parallelism: u32,
    /// Read every object with its own request instead of a collection at once (an ARM list
    /// page, a Kubernetes list): slower, the same plan; to rule batched reads out.
    #[arg(long)]
    pub per_object_reads: bool,
    /// Evaluate the Rego policies (*.rego) of DIR over the plan: their deny/violation/warn
    /// results join the plan as findings (docs/policy.md); apply refuses a plan a policy
    /// denies.
    #[arg(long, value_name = "DIR")]
    pub policy: Option<PathBuf>,
    /// The `input` the policies see: plinth's plan JSON, or the Terraform plan JSON export
    /// (`show --format terraform-json`), for policies written for `terraform show -json`.
    #[arg(long, value_enum, default_value = "plinth", requires = "policy")]
    pub policy_input: PolicyInput,
}

/// What `--policy-input` gives the policies as `input`.
#[derive(Copy, Clone, Debug, Default, ValueEnum, PartialEq, Eq)]
pub enum PolicyInput {
    /// plinth's plan JSON (docs/plan-json.md).
    #[default]
    Plinth,
    /// Terraform's plan JSON (format_version 1.2), as `show --format terraform-json`.
    Terraform,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum ShowFormat {
    Text,
    /// plinth's versioned plan JSON (docs/plan-json.md).
    Json,
    /// For pull requests: GitHub-flavoured, under GitHub's comment size limit.
    Markdown,
    /// Terraform's plan JSON representation (format_version 1.2), for existing tools.
    TerraformJson,
}

/// Plans that `--fail-on` refuses.
#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum FailOn {
    /// Anything deleted, including the old object of a replacement.
    Destroy,
    /// Anything replaced.
    Replace,
    /// A policy of --policy DIR denies something.
    Policy,
    /// The identity-chain check found a broken link (its findings are warnings otherwise).
    IdentityChain,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a configuration without touching state or any cloud.
    Validate {
        /// The configuration directory (its *.toml files).
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Fetch the configuration's git module sources into .plinth/modules/ and record the
    /// commit each resolved to in plinth.lock (commit that file).
    Init {
        /// The configuration directory (its *.toml files).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Resolve every source's ref again instead of using the commit plinth.lock holds.
        #[arg(long)]
        upgrade: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Show what apply would do.
    Plan {
        /// The configuration directory (its *.toml files).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Save the plan to FILE for `plinth apply FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Exit 0 when there are no changes, 2 when there are, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Exit 1 (after showing the plan) when it deletes or replaces anything, a policy
        /// denies something, or the identity chain is broken (repeatable).
        #[arg(long, value_enum, value_name = "destroy|replace|policy|identity-chain")]
        fail_on: Vec<FailOn>,
        /// Write configuration for the [[import]] blocks whose `to` is not declared yet to
        /// FILE (a new file in the configuration directory), from the objects they import,
        /// then plan with it.
        #[arg(long, value_name = "FILE")]
        generate_config: Option<PathBuf>,
        #[command(flatten)]
        flags: PlanFlags,
        #[command(flatten)]
        common: Common,
    },
    /// Make the infrastructure match the configuration (or a saved plan).
    Apply {
        /// A configuration directory, or a plan file saved by `plan --out`.
        #[arg(default_value = ".")]
        target: PathBuf,
        /// Do not ask for confirmation.
        #[arg(long)]
        auto_approve: bool,
        #[command(flatten)]
        flags: PlanFlags,
        #[command(flatten)]
        common: Common,
    },
    /// Destroy everything in state.
    Destroy {
        /// The configuration directory (its *.toml files).
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long)]
        auto_approve: bool,
        /// Limit to this address and what depends on it (repeatable).
        #[arg(long = "target", value_name = "ADDR")]
        targets: Vec<String>,
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
        parallelism: u32,
        #[command(flatten)]
        common: Common,
    },
    /// Show a saved plan, or the current state.
    Show {
        /// A plan file; without it, the state of the configuration in the current directory.
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: ShowFormat,
        /// Show sensitive values.
        #[arg(long)]
        show_sensitive: bool,
        /// Exit 1 (after showing the plan) when it deletes or replaces anything, a policy
        /// denies something, or the identity chain is broken (repeatable).
        #[arg(long, value_enum, value_name = "destroy|replace|policy|identity-chain")]
        fail_on: Vec<FailOn>,
        /// The configuration directory (when showing state).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Print outputs from state.
    Output {
        name: Option<String>,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Print sensitive values.
        #[arg(long)]
        show_sensitive: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Run the configuration's tests (tests/*.test.toml), each file against a fresh
    /// simulated cloud (or `--sim URL`), and destroy what they made.
    Test {
        /// The configuration directory (its *.toml files and tests/ folder).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Also write the results as JUnit XML to FILE (for CI test reports).
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Run only this test file (`NAME`, `NAME.test.toml` or `tests/NAME.test.toml`;
        /// repeatable).
        #[arg(long = "filter", value_name = "NAME")]
        filters: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Print the dependency graph.
    Graph {
        /// The configuration directory (its *.toml files).
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
        #[command(flatten)]
        common: Common,
    },
    /// Evaluate expressions against the configuration and its state (a REPL; piped: one
    /// result a line, exit 1 if any failed).
    Console {
        /// The configuration directory (its *.toml files).
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Adopt an existing object into state.
    Import {
        /// The address in the configuration, e.g. rg or app["blue"].
        address: String,
        /// The provider's id of the object.
        id: String,
        /// The configuration directory (its *.toml files).
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Inspect or edit state.
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// Remove a stale state lock.
    ForceUnlock {
        /// The lock id, as the lock error printed it.
        id: String,
        /// The configuration directory (its *.toml files).
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Environments (dev, staging, prod): one configuration, a state for each (`--env NAME`).
    Env {
        #[command(subcommand)]
        command: EnvCommand,
    },
    /// Print a JSON Schema of the configuration format (for editors).
    Schema,
    /// The simulated cloud (ARM, Entra, and a Kubernetes API per AKS cluster) on loopback.
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum EnvCommand {
    /// List the environments that have state, the selected one marked with `*`.
    List {
        /// The configuration directory (its *.toml files).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Serve the simulated cloud until interrupted.
    Serve {
        /// Address to listen on; port 0 picks a free one (the URL is printed).
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: std::net::SocketAddr,
        /// Load the world from FILE if it exists, and save it there after every change.
        #[arg(long, value_name = "FILE")]
        world: Option<PathBuf>,
        /// How long simulated operations take: instant, demo or realistic.
        #[arg(long, default_value = "demo")]
        latency: plinth_sim::Latency,
        /// Fraction (0 to 1) of ARM requests that fail transiently (429, 500, 503, dropped).
        #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
        faults: f64,
        /// Seed for injected faults, for reproducible runs.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Serve HTTPS with a CA of the simulator's own (kept next to --world FILE as
        /// FILE.ca.pem; its path is printed): clients trust it with --sim-ca PATH,
        /// REQUESTS_CA_BUNDLE=PATH, or the kubeconfigs the simulator hands out.
        #[arg(long)]
        tls: bool,
    },
    /// Print the kubeconfig of a simulated AKS cluster in state, for kubectl (what
    /// `az aks get-credentials` gives for a real one). Needs `--sim URL`.
    Kubeconfig {
        /// The cluster's address in state (default: the resource `[provider.kubernetes]
        /// cluster` names, else `aks`).
        address: Option<String>,
        /// The configuration directory whose state holds the cluster.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The admin credential (listClusterAdminCredential) instead of the user one.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        common: Common,
    },
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("`{s}` is not a rate between 0 and 1, e.g. 0.3")),
    }
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// List addresses in state.
    List {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Show one record.
    Show {
        address: String,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long)]
        show_sensitive: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Forget records without destroying the objects.
    Rm {
        #[arg(required = true)]
        addresses: Vec<String>,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Print the current state (snapshot plus journal) as JSON.
    Pull {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Replace the stored state with FILE (same lineage, newer serial; --force to override).
    Push {
        file: PathBuf,
        /// Push even if FILE's lineage differs or its serial is not newer (the stored lineage
        /// is kept and its serial continued).
        #[arg(long)]
        force: bool,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Move the local state to the backend [backend] names (e.g. azure-blob), keeping its
    /// lineage and serial; the local snapshot is renamed to state.json.migrated.
    Migrate {
        /// The local state directory to move (default DIR/.plinth).
        #[arg(long, value_name = "STATE_DIR")]
        from: Option<PathBuf>,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Rename a record (after renaming it in the configuration).
    Mv {
        from: String,
        to: String,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

/// `--sim` takes an optional URL, so `plinth apply --sim examples/x` would read the
/// directory as the simulator's URL. A value that is not an http(s) URL is left for the
/// positional argument: `--sim X` becomes `--sim=in-process X`.
fn sim_flag_fix(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::new();
    let mut args = args.peekable();
    while let Some(a) = args.next() {
        if a == "--sim"
            && let Some(next) = args.peek()
            && let Some(next) = next.to_str()
            && !next.starts_with('-')
            && !next.starts_with("http://")
            && !next.starts_with("https://")
        {
            out.push(format!("--sim={IN_PROCESS}").into());
            continue;
        }
        out.push(a);
    }
    out
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse_from(sim_flag_fix(std::env::args_os())) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(commands::run(cli));
    // Tasks abandoned by a second Ctrl-C must not hold the process open.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    ExitCode::from(code)
}

/// Logs go to stderr, filtered by `PLINTH_LOG` (e.g. `PLINTH_LOG=debug`); off by default.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    if let Ok(filter) = EnvFilter::try_from_env("PLINTH_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            // Above the live view while one is drawn, so neither garbles the other.
            .with_writer(progress::log_writer)
            // Escape codes only on a terminal: a log piped to a file stays plain text.
            .with_ansi(
                std::io::IsTerminal::is_terminal(&std::io::stderr())
                    && std::env::var_os("NO_COLOR").is_none(),
            )
            .try_init();
    }
}
