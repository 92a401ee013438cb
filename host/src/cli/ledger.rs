//! `qun ledger check`: verify the ledger offline (exit 1 and the differences
//! when it is off).

use std::process::ExitCode;

use clap::Args;

use super::config::DataArgs;

/// Arguments of `qun ledger check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Check every transaction, balance and payment; print what differs.
pub async fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let store = args.data.connect().await?;
    let report = store.ledger_check().await?;
    store.close().await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if report.ok {
        println!(
            "ledger ok: {} transactions, {} accounts; every transaction sums to zero and every balance equals its entries",
            report.transactions, report.accounts
        );
    } else {
        println!(
            "ledger NOT ok ({} transactions, {} accounts):",
            report.transactions, report.accounts
        );
        for line in report.differences() {
            println!("  {line}");
        }
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
