//! `qun app replay`: list an app's failed invocations, fetch one's record,
//! and run a component against it on this machine (issue 16).
//!
//! Records are kept in `.qun/replays/ID.json` under the app's folder. The
//! run uses the host's own runtime (`Runtime::replay`): the same engine,
//! linker, bounds and contract code as `qun serve`, with every capability
//! call, clock reading and random number answered from the record.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;

use super::app::{BuildArgs, build, package_name};
use super::client::Api;
use qun_host::runtime::Runtime;
use qun_host::runtime::replay::{ReplayRecord, ReplayReport};

/// Arguments of `qun app replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The record (`rp_...`); without it, the app's records are listed.
    pub id: Option<String>,
    /// Download the record into `.qun/replays/ID.json` (and do not run it).
    #[arg(long)]
    pub fetch: bool,
    /// The component to run against the record; without it (and without
    /// `--fetch`), the app in `--dir` is built first.
    #[arg(long)]
    pub wasm: Option<PathBuf>,
    /// A record file to use instead of `.qun/replays/ID.json`.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// The app's slug (default: the package name of the app in `--dir`).
    #[arg(long)]
    pub app: Option<String>,
    /// The app's folder.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn slug(args: &ReplayArgs) -> anyhow::Result<String> {
    match &args.app {
        Some(slug) => Ok(slug.clone()),
        None => package_name(&args.dir),
    }
}

fn record_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(".qun").join("replays").join(format!("{id}.json"))
}

/// List, fetch or run (see [`ReplayArgs`]); the exit code is 0 when the run
/// ended as recorded or succeeded, 1 when it failed differently.
pub async fn run(args: ReplayArgs) -> anyhow::Result<std::process::ExitCode> {
    let Some(id) = args.id.clone() else {
        list(&slug(&args)?).await?;
        return Ok(std::process::ExitCode::SUCCESS);
    };
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bail!("{id:?} is not a replay record id (rp_...)");
    }
    let path = match &args.record {
        Some(path) => path.clone(),
        None => record_path(&args.dir, &id),
    };
    if args.fetch || (args.record.is_none() && !path.exists()) {
        fetch(&slug(&args)?, &id, &path).await?;
        if args.fetch {
            return Ok(std::process::ExitCode::SUCCESS);
        }
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the record {}", path.display()))?;
    let record = ReplayRecord::parse(&text)?;
    let wasm_path = match &args.wasm {
        Some(path) => path.clone(),
        None => build(BuildArgs {
            dir: args.dir.clone(),
        })?,
    };
    let wasm = std::fs::read(&wasm_path)
        .with_context(|| format!("cannot read {}", wasm_path.display()))?;
    // A scratch database the runtime is built over (nothing is read from
    // it: the record answers every call), removed afterwards.
    let scratch =
        std::env::temp_dir().join(format!("qun-replay-{}-{}", std::process::id(), record.id));
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("cannot create {}", scratch.display()))?;
    let report = async {
        let runtime = Runtime::for_replay(&record, &scratch).await?;
        runtime.replay(&wasm, &record).await
    }
    .await;
    let _ = std::fs::remove_dir_all(&scratch);
    let report = report?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&record, &report, &wasm_path);
    }
    let as_recorded = report.reproduced || report.failure.is_none();
    Ok(if as_recorded {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

async fn list(slug: &str) -> anyhow::Result<()> {
    let page = Api::from_login()?
        .get(&format!("/v1/apps/{slug}/replays?limit=50"))
        .await?;
    let records = page["records"].as_array().cloned().unwrap_or_default();
    if records.is_empty() {
        println!("{slug} has no replay records: no invocation of it failed recently");
        return Ok(());
    }
    for r in &records {
        println!(
            "{}  {}  {} {}  {}: {}  ({} calls, incident {})",
            r["id"].as_str().unwrap_or("?"),
            when(r["created_at"].as_i64().unwrap_or(0)),
            slug,
            r["version"].as_str().unwrap_or("?"),
            r["code"].as_str().unwrap_or("?"),
            r["message"].as_str().unwrap_or_default(),
            r["calls"].as_i64().unwrap_or(0),
            r["incident"].as_str().unwrap_or("?"),
        );
    }
    println!("run one: qun app replay ID --wasm <component>");
    Ok(())
}

async fn fetch(slug: &str, id: &str, path: &Path) -> anyhow::Result<()> {
    let record: Value = Api::from_login()?
        .get(&format!("/v1/apps/{slug}/replays/{id}"))
        .await?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, serde_json::to_string_pretty(&record)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "fetched {id} ({} {}, {}: {}) into {}",
        record["app_slug"].as_str().unwrap_or("?"),
        record["app_version"].as_str().unwrap_or("?"),
        record["failure"]["code"].as_str().unwrap_or("?"),
        record["failure"]["message"].as_str().unwrap_or_default(),
        path.display()
    );
    Ok(())
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn print_report(record: &ReplayRecord, report: &ReplayReport, wasm: &Path) {
    println!(
        "replay {} of {} {} ({}, {}), recorded {}",
        record.id,
        record.app_slug,
        record.app_version,
        record.failure.code,
        record.incident,
        when(record.created_at)
    );
    println!(
        "component: {} ({})",
        wasm.display(),
        if report.same_build {
            "the build that failed".to_string()
        } else {
            format!(
                "another build, sha256 {}",
                &report.sha256[..12.min(report.sha256.len())]
            )
        }
    );
    println!(
        "calls: {} made, {} answered from the record ({} recorded{})",
        report.played.calls_made,
        report.played.answered,
        report.calls_recorded,
        if report.record_cut {
            "; the record was cut"
        } else {
            ""
        }
    );
    for line in &report.log {
        println!("  [{}] {}", line.level, line.message);
    }
    match &report.failure {
        Some(f) if report.reproduced => {
            println!(
                "result: {} — the same failure as recorded: {}",
                f.code, f.message
            )
        }
        Some(f) => println!(
            "result: {} — {}\n  (recorded: {} — {})",
            f.code, f.message, report.recorded.code, report.recorded.message
        ),
        None => println!(
            "result: ok — {} (recorded: {} — {})",
            report
                .answer
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default(),
            report.recorded.code,
            report.recorded.message
        ),
    }
    match &report.played.divergence {
        Some(d) => println!("diverges from the record at {d}"),
        None => println!("the run made exactly the recorded calls"),
    }
}
