//! `qun audit verify`: walk every audit chain (one per installation) and the
//! global anchor chain, and report the first broken link (a row changed,
//! inserted or deleted directly in the database).

use std::process::ExitCode;

use clap::Args;

use super::config::DataArgs;

/// Arguments of `qun audit verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub data: DataArgs,
}

/// Verify the chain; exit 0 when intact, 1 (with the first broken row) when not.
pub async fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let store = args.data.connect().await?;
    let result = store.verify_audit().await?;
    store.close().await;
    let unchained = if result.unchained > 0 {
        format!(
            " ({} older rows were written before the chain existed and are not covered)",
            result.unchained
        )
    } else {
        String::new()
    };
    match result.broken {
        None => {
            println!(
                "audit trail intact: {} rows in {} chains and {} anchors, every link verified{unchained}",
                result.rows, result.chains, result.anchors
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(link) => {
            println!("audit trail BROKEN at row {}: {}", link.id, link.reason);
            println!("  expected hash: {}", link.expected);
            println!(
                "  stored hash:   {}",
                link.found.as_deref().unwrap_or("(none)")
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
