//! What each command does: [`run`] picks the command's module and reports its error. One
//! module per command family; `shared` holds what several of them use. Modules depend on
//! `shared` and on the crate's loading modules (`workspace`, `backend`, `error`), and among
//! themselves only one way: `apply` on `plan` (making a plan), `state` on `show` (printing a
//! record).

mod apply;
mod config;
mod console;
mod env;
mod import;
mod init;
mod output;
mod plan;
mod shared;
mod show;
mod sim;
mod state;
mod test;

use crate::error::CliError;
use crate::{Cli, Command, Common, EnvCommand, PlanFlags, SimCommand, StateCommand};

/// Runs a command; its exit code (errors are reported here, and exit 1).
pub async fn run(cli: Cli) -> u8 {
    let common = match &cli.command {
        Command::Validate { common, .. }
        | Command::Init { common, .. }
        | Command::Plan { common, .. }
        | Command::Apply { common, .. }
        | Command::Destroy { common, .. }
        | Command::Show { common, .. }
        | Command::Output { common, .. }
        | Command::Graph { common, .. }
        | Command::Test { common, .. }
        | Command::Console { common, .. }
        | Command::Import { common, .. }
        | Command::ForceUnlock { common, .. }
        | Command::Env {
            command: EnvCommand::List { common, .. },
        } => common.clone(),
        Command::State { command } => match command {
            StateCommand::List { common, .. }
            | StateCommand::Show { common, .. }
            | StateCommand::Rm { common, .. }
            | StateCommand::Mv { common, .. }
            | StateCommand::Pull { common, .. }
            | StateCommand::Push { common, .. }
            | StateCommand::Migrate { common, .. } => common.clone(),
        },
        Command::Schema | Command::Sim { .. } => Common::default(),
    };
    let color = crate::workspace::use_color(&common);
    let selected = crate::backend::select_environment(match &cli.command {
        // `sim kubeconfig` reads the state of the environment its own flags name.
        Command::Sim {
            command: SimCommand::Kubeconfig { common, .. },
        } => common,
        _ => &common,
    });
    if let Err(e) = selected {
        e.report(common.json, color);
        return 1;
    }
    match dispatch(cli.command, &common).await {
        Ok(code) => code,
        Err(e) => {
            e.report(common.json, color);
            1
        }
    }
}

async fn dispatch(command: Command, common: &Common) -> Result<u8, CliError> {
    match command {
        Command::Validate { dir, .. } => config::validate(&dir, common),
        Command::Init { dir, upgrade, .. } => init::init(&dir, upgrade, common),
        Command::Plan {
            dir,
            out,
            detailed_exitcode,
            fail_on,
            generate_config,
            flags,
            ..
        } => {
            plan::plan_cmd(
                &dir,
                plan::PlanFiles {
                    out: out.as_deref(),
                    generate_config: generate_config.as_deref(),
                },
                detailed_exitcode,
                &fail_on,
                &flags,
                common,
            )
            .await
        }
        Command::Apply {
            target,
            auto_approve,
            flags,
            ..
        } => {
            if target.is_file() {
                // A saved plan was reviewed when it was made: applying it is the approval.
                apply::apply_saved(&target, &flags, common).await
            } else {
                apply::apply_dir(&target, auto_approve, &flags, common).await
            }
        }
        Command::Destroy {
            dir,
            auto_approve,
            targets,
            parallelism,
            ..
        } => {
            let flags = PlanFlags {
                destroy: true,
                targets,
                parallelism,
                ..Default::default()
            };
            apply::apply_dir(&dir, auto_approve, &flags, common).await
        }
        Command::Show {
            file,
            format,
            show_sensitive,
            fail_on,
            dir,
            ..
        } => show::show(
            file.as_deref(),
            format,
            show_sensitive,
            &fail_on,
            &dir,
            common,
        ),
        Command::Output {
            name,
            dir,
            show_sensitive,
            ..
        } => output::output(name.as_deref(), &dir, show_sensitive, common),
        Command::Graph { dir, format, .. } => config::graph(&dir, format),
        Command::Test {
            dir,
            junit,
            filters,
            ..
        } => test::test_cmd(&dir, junit.as_deref(), &filters, common).await,
        Command::Console { dir, .. } => console::console(&dir, common),
        Command::Import {
            address, id, dir, ..
        } => import::import(&address, &id, &dir, common).await,
        Command::State { command } => state::state_cmd(command),
        Command::ForceUnlock { id, dir, .. } => state::force_unlock(&id, &dir),
        Command::Env {
            command: EnvCommand::List { dir, .. },
        } => env::list(&dir, common),
        Command::Sim {
            command:
                SimCommand::Serve {
                    addr,
                    world,
                    latency,
                    faults,
                    seed,
                    tls,
                },
        } => sim::sim_serve(addr, world, latency, faults, seed, tls).await,
        Command::Sim {
            command:
                SimCommand::Kubeconfig {
                    address,
                    dir,
                    admin,
                    common,
                },
        } => sim::sim_kubeconfig(address, &dir, admin, &common).await,
        Command::Schema => config::schema(),
    }
}
