//! `qun app check FILE.wasm`: validate a component offline.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use qun_host::{Runtime, RuntimeConfig, Store};

/// Arguments of `qun app check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The component to check (a `wasm32-wasip2` build).
    pub file: PathBuf,
}

/// Print the app's name, version, commands, actions and capabilities, or the
/// precise reason it would be rejected (and exit non-zero).
pub async fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    // The runtime needs a store; `describe` runs with no capability, so a
    // throwaway database is enough.
    let scratch = std::env::temp_dir().join(format!("qun-check-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let result = async {
        let store = Store::open_sqlite(&scratch.join("check.db")).await?;
        let runtime = Runtime::new(store.clone(), RuntimeConfig::default())?;
        let loaded = runtime.load(&bytes).await;
        store.close().await;
        anyhow::Ok(loaded)
    }
    .await;
    let _ = std::fs::remove_dir_all(&scratch);
    match result? {
        Ok(app) => {
            let m = &app.manifest;
            println!("ok: {} is a valid Qun app", args.file.display());
            println!("name:         {}", m.name);
            println!("title:        {}", m.title);
            println!("version:      {}", m.version);
            println!("sha256:       {}", app.sha256);
            let list = |items: &[qun_host::runtime::Spec]| {
                if items.is_empty() {
                    "(none)".to_string()
                } else {
                    items
                        .iter()
                        .map(|s| s.name.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            println!(
                "commands:     {}",
                if m.commands.is_empty() {
                    "(none)".into()
                } else {
                    m.commands
                        .iter()
                        .map(|c| format!("/{}", c.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
            println!("actions:      {}", list(&m.actions));
            let caps: Vec<&str> = app.capabilities.iter().map(|c| c.name()).collect();
            println!(
                "capabilities: {}",
                if caps.is_empty() {
                    "(none)".into()
                } else {
                    caps.join(", ")
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("rejected: {}: {e}", args.file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}
