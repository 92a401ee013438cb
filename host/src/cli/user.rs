//! `qun user add NAME [--admin] [--developer]`.

use anyhow::bail;
use clap::Args;

use super::config::DataArgs;

/// Arguments of `qun user add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The new user's unique handle (1 to 64 ASCII letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// Make them a platform admin.
    #[arg(long)]
    pub admin: bool,
    /// Let them upload apps.
    #[arg(long)]
    pub developer: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

/// Create the user and print their token (the only time it is shown).
pub async fn add(args: AddArgs) -> anyhow::Result<()> {
    if let Err(why) = qun_host::text::handle("name", &args.name) {
        bail!("{why}");
    }
    let store = args.data.connect().await?;
    if store.user_by_name(&args.name).await?.is_some() {
        bail!("a user named {:?} already exists", args.name);
    }
    let token = qun_host::http::new_token();
    let user = store
        .create_user(&args.name, &token, args.admin, args.developer)
        .await?;
    eprintln!("created user {} ({})", user.name, user.id);
    println!("{token}");
    store.close().await;
    Ok(())
}
