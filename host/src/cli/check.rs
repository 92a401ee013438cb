//! `qun app check FILE.wasm`: validate a component offline.

use std::io::Write;
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

/// Load `bytes` as the server would: the app, or why it would be refused.
pub async fn load(
    bytes: &[u8],
) -> anyhow::Result<
    Result<std::sync::Arc<qun_host::runtime::LoadedApp>, qun_host::runtime::LoadError>,
> {
    // The runtime needs a store; `describe` runs with no capability, so a
    // throwaway database is enough.
    let scratch = std::env::temp_dir().join(format!("qun-check-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&scratch)?;
    let result = async {
        let store = Store::open_sqlite(&scratch.join("check.db")).await?;
        let runtime = Runtime::new(store.clone(), RuntimeConfig::default())?;
        let loaded = runtime.load(bytes).await;
        store.close().await;
        anyhow::Ok(loaded)
    }
    .await;
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// Print the app's name, version, commands, actions and capabilities, or the
/// precise reason it would be rejected (and exit non-zero).
pub async fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let result = load(&bytes).await;
    match result? {
        Ok(app) => {
            let m = &app.manifest;
            let names = |items: &mut dyn Iterator<Item = String>| {
                let joined = items.collect::<Vec<_>>().join(", ");
                if joined.is_empty() {
                    "(none)".to_string()
                } else {
                    joined
                }
            };
            let report = format!(
                "ok: {} is a valid Qun app\n\
                 name:         {}\n\
                 title:        {}\n\
                 version:      {}\n\
                 sha256:       {}\n\
                 commands:     {}\n\
                 actions:      {}\n\
                 capabilities: {}\n",
                args.file.display(),
                m.name,
                m.title,
                m.version,
                app.sha256,
                names(&mut m.commands.iter().map(|c| format!("/{}", c.name))),
                names(&mut m.actions.iter().map(|a| a.name.clone())),
                names(&mut app.capabilities.iter().map(|c| c.name().to_string())),
            );
            // Written through a handle: a closed pipe (`qun app check x | head -1`)
            // ends the output quietly instead of panicking like `println!`.
            let mut out = std::io::stdout().lock();
            match out.write_all(report.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(e.into()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("rejected: {}: {e}", args.file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}
