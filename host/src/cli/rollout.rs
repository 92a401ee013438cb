//! `qun app rollout` and `qun app rollback` (issue 16): release an approved
//! version to a share of the app's installations, widen it, roll it back;
//! `qun app status` shows the rollouts with their numbers.

use std::path::Path;

use anyhow::bail;
use clap::Args;
use serde_json::{Value, json};

use super::client::{Api, refusal};

/// Arguments of `qun app rollout`.
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// The approved version to release (omit it with `--widen`).
    #[arg(required_unless_present = "widen", conflicts_with = "widen")]
    pub version: Option<String>,
    /// The share of installations that runs it, in percent (0 to 100).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub percent: Option<u32>,
    /// A group released first (repeat for several).
    #[arg(long = "group", value_name = "ID")]
    pub groups: Vec<String>,
    /// Widen the active rollout to this percentage (100 completes it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub widen: Option<u32>,
    /// Roll back automatically past this fault rate, in percent (default 10).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_fault_percent: Option<u32>,
    /// Judge the fault rate after this many invocations of the new version (default 20).
    #[arg(long)]
    pub min_invocations: Option<u32>,
    /// The app's slug (default: the package name in `./Cargo.toml`).
    #[arg(long = "app", value_name = "SLUG")]
    pub slug: Option<String>,
}

/// Arguments of `qun app rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The app's slug (default: the package name in `./Cargo.toml`).
    pub slug: Option<String>,
}

fn slug_or_package(slug: &Option<String>) -> anyhow::Result<String> {
    match slug {
        Some(slug) => Ok(slug.clone()),
        None => super::app::package_name(Path::new(".")),
    }
}

/// The app's active rollout, if any.
async fn active(api: &Api, slug: &str) -> anyhow::Result<Option<Value>> {
    let all = api.get(&format!("/v1/apps/{slug}/rollouts")).await?;
    Ok(all
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["status"] == "active")
        .cloned())
}

fn counts(c: &Value) -> String {
    format!(
        "{} invocations, {} errors ({:.1}%), {} faults ({:.1}%)",
        c["invocations"].as_i64().unwrap_or(0),
        c["errors"].as_i64().unwrap_or(0),
        c["error_percent"].as_f64().unwrap_or(0.0),
        c["faults"].as_i64().unwrap_or(0),
        c["fault_percent"].as_f64().unwrap_or(0.0),
    )
}

fn print_rollout(r: &Value) {
    let chosen = r["installations"].as_array().map_or(0, Vec::len);
    let moved = r["installations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["status"] == "moved")
        .count();
    println!(
        "  rollout {} of {}: {} at {}%{} — {chosen} installations chosen, {moved} moved",
        r["id"].as_str().unwrap_or("?"),
        r["version"].as_str().unwrap_or("?"),
        r["status"].as_str().unwrap_or("?"),
        r["percent"].as_u64().unwrap_or(0),
        r["groups"]
            .as_array()
            .filter(|g| !g.is_empty())
            .map(|g| format!(
                " and groups {}",
                g.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .unwrap_or_default(),
    );
    println!("    new version:    {}", counts(&r["new_version"]));
    println!("    other versions: {}", counts(&r["other_versions"]));
    if let Some(reason) = r["end_reason"].as_str() {
        println!("    {reason}");
    }
    for i in r["installations"].as_array().into_iter().flatten() {
        let status = i["status"].as_str().unwrap_or("?");
        if status != "moved" {
            println!(
                "    group {}: {status}",
                i["group_id"].as_str().unwrap_or("?")
            );
        }
    }
}

/// Start a rollout, or widen the active one.
pub async fn rollout(args: RolloutArgs) -> anyhow::Result<()> {
    let slug = slug_or_package(&args.slug)?;
    let api = Api::from_login()?;
    let answer = match (&args.version, args.widen) {
        (Some(version), None) => {
            if args.percent.unwrap_or(0) == 0 && args.groups.is_empty() {
                bail!("say how far: --percent N (1 to 100) and/or --group ID");
            }
            let mut body = json!({
                "version": version,
                "percent": args.percent.unwrap_or(0),
                "groups": args.groups,
            });
            if let Some(max) = args.max_fault_percent {
                body["max_fault_percent"] = json!(max);
            }
            if let Some(min) = args.min_invocations {
                body["min_invocations"] = json!(min);
            }
            api.post(&format!("/v1/apps/{slug}/rollouts"), &body)
                .await?
        }
        (None, Some(percent)) => {
            let Some(current) = active(&api, &slug).await? else {
                bail!(
                    "{slug} has no active rollout to widen; start one: qun app rollout VERSION --percent N"
                );
            };
            let id = current["id"].as_str().unwrap_or_default();
            api.patch(
                &format!("/v1/apps/{slug}/rollouts/{id}"),
                &json!({"percent": percent, "groups": args.groups}),
            )
            .await?
        }
        _ => bail!("give a VERSION to start a rollout, or --widen N to widen the active one"),
    };
    print_rollout(&answer);
    Ok(())
}

/// Roll the active rollout back.
pub async fn rollback(args: RollbackArgs) -> anyhow::Result<()> {
    let slug = slug_or_package(&args.slug)?;
    let api = Api::from_login()?;
    let Some(current) = active(&api, &slug).await? else {
        bail!("{slug} has no active rollout to roll back");
    };
    let id = current["id"].as_str().unwrap_or_default();
    let answer = api
        .post(
            &format!("/v1/apps/{slug}/rollouts/{id}/rollback"),
            &json!({}),
        )
        .await?;
    print_rollout(&answer);
    Ok(())
}

/// The app's rollouts (the active one and the last few), for `qun app status`.
pub async fn print_status(api: &Api, slug: &str) -> anyhow::Result<()> {
    let all = match api.get(&format!("/v1/apps/{slug}/rollouts")).await {
        Ok(all) => all,
        // A `publish` token reads versions only: no rollouts to show.
        Err(e) if refusal(&e).is_some_and(|r| r.code == "token_scope") => return Ok(()),
        Err(e) => return Err(e),
    };
    for r in all.as_array().into_iter().flatten().take(3) {
        print_rollout(r);
    }
    Ok(())
}
