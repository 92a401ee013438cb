//! The command line: `qun serve`, `qun user add`, `qun app check`,
//! `qun audit verify`, `qun ledger check`; for developers `qun login` and
//! `qun app new|build|publish|status|logs`.

mod app;
mod audit;
mod check;
mod client;
mod config;
mod demo;
mod ledger;
mod login;
mod replay;
mod rollout;
mod serve;
mod user;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Qun: a host server for group apps (sandboxed WebAssembly components).
#[derive(Debug, Parser)]
#[command(name = "qun", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(Box<serve::ServeArgs>),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Work with app components.
    #[command(subcommand)]
    App(AppCommand),
    /// Inspect the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Inspect the payments ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Print the HTTP API's OpenAPI document (what `/openapi.json` serves).
    Openapi,
    /// Remember a server and an API token for the `qun app` commands.
    Login(login::LoginArgs),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the audit trail's hash chain and report the first broken link.
    Verify(audit::VerifyArgs),
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Verify that every transaction sums to zero and every balance equals its entries.
    Check(ledger::CheckArgs),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user and print their token.
    Add(user::AddArgs),
}

#[derive(Debug, Subcommand)]
enum AppCommand {
    /// Validate a component offline: print what it is, or why it is rejected.
    Check(check::CheckArgs),
    /// Create a new app (Rust, with a unit test) in a new folder.
    New(app::NewArgs),
    /// Build the app's component (`cargo build --release --target wasm32-wasip2`).
    Build(app::BuildArgs),
    /// Build, check, register (if needed) and upload the app to the server of `qun login`.
    Publish(app::PublishArgs),
    /// The app's versions and their review status.
    Status(app::AppArgs),
    /// The app's log (`--follow` for new lines as they come).
    Logs(app::AppArgs),
    /// Release an approved version to a share of the app's installations
    /// (`VERSION --percent N --group ID`), or widen the active rollout
    /// (`--widen N`).
    Rollout(rollout::RolloutArgs),
    /// Roll the app's active rollout back in one step.
    Rollback(rollout::RollbackArgs),
    /// The app's failed invocations (`replay`), download one (`replay ID
    /// --fetch`), or run a component against one (`replay ID --wasm FILE`):
    /// its calls answered from the record, deterministically.
    Replay(replay::ReplayArgs),
}

/// Parse the command line, run, and turn errors into a non-zero exit.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,sqlx=warn,wasmtime=warn,cranelift=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(*args).await.map(|()| ExitCode::SUCCESS),
            Command::User(UserCommand::Add(args)) => {
                user::add(args).await.map(|()| ExitCode::SUCCESS)
            }
            Command::App(AppCommand::Check(args)) => check::run(args).await,
            Command::App(AppCommand::New(args)) => app::new(args).map(|()| ExitCode::SUCCESS),
            Command::App(AppCommand::Build(args)) => app::build(args).map(|_| ExitCode::SUCCESS),
            Command::App(AppCommand::Publish(args)) => {
                app::publish(args).await.map(|()| ExitCode::SUCCESS)
            }
            Command::App(AppCommand::Status(args)) => {
                app::status(args).await.map(|()| ExitCode::SUCCESS)
            }
            Command::App(AppCommand::Logs(args)) => {
                app::logs(args).await.map(|()| ExitCode::SUCCESS)
            }
            Command::App(AppCommand::Rollout(args)) => {
                rollout::rollout(args).await.map(|()| ExitCode::SUCCESS)
            }
            Command::App(AppCommand::Replay(args)) => replay::run(args).await,
            Command::App(AppCommand::Rollback(args)) => {
                rollout::rollback(args).await.map(|()| ExitCode::SUCCESS)
            }
            Command::Login(args) => login::run(args).await.map(|()| ExitCode::SUCCESS),
            Command::Audit(AuditCommand::Verify(args)) => audit::verify(args).await,
            Command::Ledger(LedgerCommand::Check(args)) => ledger::check(args).await,
            Command::Openapi => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&qun_host::http::openapi())?
                );
                Ok(ExitCode::SUCCESS)
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
