//! `qun login URL`: remember a server and a token for the developer commands.

use std::io::BufRead;

use anyhow::Context;
use clap::Args;

use super::client::{Api, Login, check_url};

/// Arguments of `qun login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// An API token (create a `publish` token in the web app or with
    /// `POST /v1/me/tokens`); read from `QUN_TOKEN` or standard input when
    /// not given, so it stays out of the shell's history.
    #[arg(long, env = "QUN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Check the token against the server, then save both.
pub async fn run(args: LoginArgs) -> anyhow::Result<()> {
    check_url(&args.url)?;
    let token = match args.token {
        Some(token) => token,
        None => {
            eprint!("API token for {}: ", args.url);
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the token from standard input")?;
            line.trim().to_string()
        }
    };
    if token.is_empty() {
        anyhow::bail!("no token given; pass --token, set QUN_TOKEN, or type it when asked");
    }
    let login = Login {
        server: args.url.trim_end_matches('/').to_string(),
        token,
    };
    let me = Api::new(login.clone())?.get("/v1/me").await?;
    let file = login.save()?;
    println!(
        "logged in to {} as {}{} (saved in {})",
        login.server,
        me["name"].as_str().unwrap_or("?"),
        if me["developer"] == true {
            ", a developer"
        } else {
            ""
        },
        file.display()
    );
    Ok(())
}
