//! `qun serve`: the HTTP server, with the event delivery loop, the bootstrap admin,
//! an optional demo seed, and graceful shutdown.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use qun_host::{AppState, Runtime, RuntimeConfig, Store};

use super::config::{DataArgs, DeliveryArgs, LimitArgs};
use super::demo;

/// Arguments of `qun serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, env = "QUN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Seed demo users, a demo group and the first-party apps (idempotent).
    #[arg(long, env = "QUN_DEMO")]
    pub demo: bool,
    /// Where `--demo` finds the app components (`*.wasm`) to install [default: DATA_DIR/apps].
    #[arg(long, env = "QUN_DEMO_APPS")]
    pub demo_apps: Option<PathBuf>,
    /// Serve the web app from this directory (a `web/dist` build) instead of
    /// the one built into the binary; for working on the web app.
    #[arg(long, env = "QUN_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
}

/// Run until SIGTERM or SIGINT, then finish in-flight requests and exit.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    args.limits.check()?;
    let store = args.data.connect().await?;
    bootstrap_admin(&store).await?;
    let cache_dir = args.data.cache_dir();
    std::fs::create_dir_all(&cache_dir)
        .with_context(|| format!("creating {}", cache_dir.display()))?;
    let runtime = Runtime::new(
        store.clone(),
        RuntimeConfig {
            limits: args.limits.limits(),
            cache_dir: Some(cache_dir),
        },
    )?;
    let seeded = if args.demo {
        let apps = args
            .demo_apps
            .clone()
            .unwrap_or_else(|| args.data.data_dir.join("apps"));
        Some(demo::seed(&runtime, &apps).await?)
    } else {
        None
    };

    let mut http = args.limits.http();
    http.web_dir = args.web_dir.clone();
    if let Some(seeded) = &seeded {
        http.demo_users = demo::web_users(seeded);
    }
    let state = AppState::new(runtime.clone(), http);
    let notifier = state.notifier.clone();
    let delivery = runtime.spawn_delivery_loop(args.delivery.config());
    // Load what installed apps run before their first call (issue 15 item 4).
    let warm_up = runtime.spawn_warm_up();
    // Summaries of read-only invocations wait in memory about a second;
    // chain heads are anchored every ten (issue 12 item 1).
    let audit = store.spawn_audit_flusher(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(10),
    );
    let expiry =
        qun_host::http::spawn_payment_expiry(state.clone(), std::time::Duration::from_secs(1));
    // Files nothing uses, and bytes a crash left behind (issue 17).
    let sweeper = store.spawn_file_sweeper(std::time::Duration::from_secs(600));
    tracing::info!(files = %store.blobs().location(), "file bytes");
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(backend = ?store.backend(), "qun listening on http://{addr}");
    // Tests and scripts read this line to learn the port.
    println!("qun listening on http://{addr}");
    if let Some(seeded) = &seeded {
        demo::print(seeded, &addr.to_string());
    }

    // Forget rate-limit state of clients that went quiet (bounded memory).
    let prune = state.rate.clone().map(|rate| {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                rate.prune();
            }
        })
    });
    qun_host::http::serve::serve(
        listener,
        qun_host::app(state),
        args.limits.serve(),
        async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing in-flight requests");
            // Live streams never end on their own; end them so shutdown can finish.
            notifier.close();
        },
    )
    .await
    .context("serving HTTP")?;
    if let Some(prune) = prune {
        prune.abort();
    }
    expiry.abort();
    sweeper.abort();
    warm_up.abort();
    // Let the delivery pass under way finish (bounded by the invocation
    // deadlines) so its claims do not have to run out after a restart.
    delivery.stop(std::time::Duration::from_secs(30)).await;
    audit.stop().await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// With `QUN_BOOTSTRAP_ADMIN_TOKEN` set and no admin yet, create admin `admin`.
async fn bootstrap_admin(store: &Store) -> anyhow::Result<()> {
    let Ok(token) = std::env::var("QUN_BOOTSTRAP_ADMIN_TOKEN") else {
        return Ok(());
    };
    if token.trim().is_empty() || store.admin_exists().await? {
        return Ok(());
    }
    let name = if store.user_by_name("admin").await?.is_none() {
        "admin".to_string()
    } else {
        format!("admin-{}", &qun_host::http::new_token()[4..10])
    };
    store
        .create_user(&name, token.trim(), true, true)
        .await
        .context("creating the bootstrap admin")?;
    tracing::info!("created the bootstrap admin `{name}` from QUN_BOOTSTRAP_ADMIN_TOKEN");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
