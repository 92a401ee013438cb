//! The developer's loop in a terminal: `qun app new`, `build`, `publish`,
//! `status` and `logs` (with `qun app check` in `check.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use super::client::{Api, refusal};

const TARGET: &str = "wasm32-wasip2";

/// Arguments of `qun app new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The app's name: lowercase letters, digits and `-` (it is also its slug).
    pub name: String,
    /// Where to create it (default: a new folder named after the app).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The language: `rust` (the default), `js` or `python`.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    pub lang: Lang,
    /// The Qun SDK to build against: the `sdk/` (Rust), `sdk-js/` or
    /// `sdk-py/` folder of a Qun checkout (default: the one this `qun` was
    /// built from, when it still exists).
    #[arg(long, env = "QUN_SDK")]
    pub sdk: Option<PathBuf>,
}

/// The languages `qun app new` scaffolds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust, with `qun-sdk`.
    Rust,
    /// JavaScript, with `@qun/sdk` (componentize-js).
    #[value(alias = "javascript")]
    Js,
    /// Python, with `qun-sdk` (componentize-py).
    #[value(alias = "py")]
    Python,
}

impl Lang {
    /// The SDK's folder in a Qun checkout, and the file that marks it.
    fn sdk_folder(self) -> (&'static str, &'static str) {
        match self {
            Lang::Rust => ("sdk", "Cargo.toml"),
            Lang::Js => ("sdk-js", "package.json"),
            Lang::Python => ("sdk-py", "pyproject.toml"),
        }
    }
}

/// Arguments of `qun app build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The app's folder (its `Cargo.toml`, `package.json` or `pyproject.toml`).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

/// Arguments of `qun app publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The component to publish; without it, the app in `--dir` is built first.
    pub file: Option<PathBuf>,
    /// The app's folder, when no file is given.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

/// Arguments of `qun app status` and `qun app logs`.
#[derive(Debug, Args)]
pub struct AppArgs {
    /// The app's slug (default: the package name of the app in `.`).
    pub slug: Option<String>,
    /// Keep printing new lines as they come (`logs` only).
    #[arg(long)]
    pub follow: bool,
}

/// The SDK for `lang` this binary was built beside, if it is still there.
fn default_sdk(lang: Lang) -> Option<PathBuf> {
    let (folder, marker) = lang.sdk_folder();
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(folder);
    sdk.join(marker)
        .is_file()
        .then(|| sdk.canonicalize().unwrap_or(sdk))
}

fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = (2..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !ok {
        bail!(
            "{name:?} is not an app name: 2 to 32 lowercase letters, digits and `-`, starting with a letter"
        );
    }
    Ok(())
}

/// Create a working app (a check-in command, kept in storage) with a unit test.
pub fn new(args: NewArgs) -> anyhow::Result<()> {
    check_name(&args.name)?;
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() {
        bail!("{} exists already; choose another --dir", dir.display());
    }
    let (folder, marker) = args.lang.sdk_folder();
    let sdk = match args.sdk.or_else(|| default_sdk(args.lang)) {
        Some(sdk) if sdk.join(marker).is_file() => sdk,
        Some(sdk) => bail!("{} is not the Qun SDK (no {marker} there)", sdk.display()),
        None => bail!("where is the Qun SDK? pass --sdk PATH/TO/qun/{folder} (a checkout of Qun)"),
    };
    let sdk = sdk.canonicalize().unwrap_or(sdk);
    if args.lang != Lang::Rust {
        return new_from_template(&args.name, &dir, &sdk, args.lang);
    }
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let name = &args.name;
    let title = title(name);
    let files = [
        ("Cargo.toml", cargo_toml(name, &sdk)),
        (
            "src/lib.rs",
            LIB_RS
                .replace("{{name}}", name)
                .replace("{{title}}", &title),
        ),
        (".gitignore", "/target\n".to_string()),
        ("README.md", README.replace("{{name}}", name)),
    ];
    for (path, text) in files {
        std::fs::write(dir.join(path), text).with_context(|| format!("writing {path}"))?;
    }
    println!("created {} in {}", name, dir.display());
    println!(
        "  cd {} && cargo test        # its unit test, no server needed",
        dir.display()
    );
    println!("  qun app build                  # the component");
    println!("  qun app publish                # build, check, register, upload");
    Ok(())
}

/// Copy the SDK's `template/` folder to `dir`, filling in the app's name
/// (`{{name}}`, `{{module}}`, `{{title}}`) and where the SDK is
/// (`{{sdk_js}}` / `{{sdk_py}}`).
fn new_from_template(name: &str, dir: &Path, sdk: &Path, lang: Lang) -> anyhow::Result<()> {
    let template = sdk.join("template");
    if !template.is_dir() {
        bail!("{} has no template/ folder", sdk.display());
    }
    let sdk_path = sdk.display().to_string();
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{module}}", &name.replace('-', "_"))
            .replace("{{title}}", &title(name))
            .replace("{{sdk_js}}", &sdk_path)
            .replace("{{sdk_py}}", &sdk_path)
    };
    // A `file:` dependency on sdk-js is a link: the SDK's own tools
    // (esbuild, componentize-js) must be installed in the checkout once.
    if lang == Lang::Js && !sdk.join("node_modules").is_dir() {
        eprintln!(
            "installing the SDK's tools once (npm ci in {})",
            sdk.display()
        );
        run(
            sdk,
            "npm",
            &["ci", "--no-audit", "--no-fund"],
            "npm ci in the SDK",
        )?;
    }
    copy_filled(&template, dir, &fill)?;
    println!("created {name} in {}", dir.display());
    let (setup, test) = match lang {
        Lang::Js => ("npm install", "npm test"),
        _ => (
            "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt",
            ".venv/bin/python -m pytest",
        ),
    };
    println!("  cd {} && {setup}", dir.display());
    println!("  {test}                         # its unit test, no server needed");
    println!("  qun app build                  # the component (dist/app.wasm)");
    println!("  qun app publish                # build, check, register, upload");
    Ok(())
}

fn copy_filled(from: &Path, to: &Path, fill: &dyn Fn(&str) -> String) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let file_name = entry.file_name();
        let name = file_name.to_string_lossy();
        // Installed or built things never belong in a new app.
        if matches!(
            name.as_ref(),
            "node_modules" | "dist" | "__pycache__" | ".pytest_cache" | "target" | ".venv"
        ) {
            continue;
        }
        let target = to.join(fill(&name));
        if entry.file_type()?.is_dir() {
            copy_filled(&entry.path(), &target, fill)?;
        } else {
            let bytes = std::fs::read(entry.path())?;
            match String::from_utf8(bytes) {
                Ok(text) => std::fs::write(&target, fill(&text)),
                Err(e) => std::fs::write(&target, e.into_bytes()),
            }
            .with_context(|| format!("writing {}", target.display()))?;
        }
    }
    Ok(())
}

fn title(name: &str) -> String {
    name.split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn cargo_toml(name: &str, sdk: &Path) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
# The Qun SDK (a checkout of Qun; `qun app new --sdk PATH` chose it).
qun-sdk = {{ path = {sdk:?} }}

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
strip = true
"#,
        sdk = sdk.display().to_string()
    )
}

const LIB_RS: &str = r#"//! {{title}}: a Qun group app. `/checkin` checks you in for today.

use qun_sdk::prelude::*;

pub struct MyApp;

impl App for MyApp {
    fn describe() -> Describe {
        Describe::new("{{name}}", "{{title}}")
            .version(env!("CARGO_PKG_VERSION"))
            .command("checkin", "Check in for today")
    }

    fn on_command(ctx: &Context, _cmd: &Command) -> Result<Reply> {
        let day = ctx.now().date();
        let me = ctx.actor()?;
        storage::set_json(&format!("{day}/{me}"), &true)?;
        let count = storage::list(&format!("{day}/"), None, 1000)?.entries.len();
        Ok(Reply::text(format!(
            "{} checked in ({count} today)",
            ctx.actor_name()?
        )))
    }
}

export_app!(MyApp);

#[cfg(test)]
mod tests {
    use super::*;
    use qun_sdk::testing::TestGroup;

    #[test]
    fn members_check_in_and_are_counted() {
        let mut group = TestGroup::<MyApp>::new()
            .member("ann", "Ann", Role::Owner)
            .member("ben", "Ben", Role::Member);
        group.command("ann", "/checkin").expect("ann checks in");
        group.command("ben", "/checkin").expect("ben checks in");
        assert_eq!(
            group.last_posted().map(|m| m.text.as_str()),
            Some("Ben checked in (2 today)")
        );
    }
}
"#;

const README: &str = "# {{name}}\n\nA Qun group app. `cargo test` runs its unit test against the SDK's \
in-memory host; `qun app build` builds the component; `qun app publish` registers and uploads it \
(after `qun login URL`); `qun app status` shows its review, `qun app logs --follow` its log.\n";

/// The language of the app in `dir`, from the file that describes it.
fn lang_of(dir: &Path) -> anyhow::Result<Lang> {
    if dir.join("Cargo.toml").is_file() {
        Ok(Lang::Rust)
    } else if dir.join("package.json").is_file() {
        Ok(Lang::Js)
    } else if dir.join("pyproject.toml").is_file() {
        Ok(Lang::Python)
    } else {
        bail!(
            "no app in {}: no Cargo.toml, package.json or pyproject.toml (`qun app new NAME` makes one)",
            dir.display()
        )
    }
}

/// The package name of the app in `dir` (`Cargo.toml`'s `[package]`,
/// `package.json`'s `name`, `pyproject.toml`'s `[project]`).
pub(super) fn package_name(dir: &Path) -> anyhow::Result<String> {
    let (file, table) = match lang_of(dir)? {
        Lang::Rust => ("Cargo.toml", "[package]"),
        Lang::Python => ("pyproject.toml", "[project]"),
        Lang::Js => {
            let manifest = dir.join("package.json");
            let text = std::fs::read_to_string(&manifest)
                .with_context(|| format!("reading {}", manifest.display()))?;
            let json: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", manifest.display()))?;
            return match json["name"].as_str() {
                // A scoped npm name (`@me/app`) names the app after the slash.
                Some(name) => Ok(name.rsplit('/').next().unwrap_or(name).to_string()),
                None => bail!("{} has no name", manifest.display()),
            };
        }
    };
    let manifest = dir.join(file);
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("no app here: cannot read {}", manifest.display()))?;
    let mut in_table = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_table = line == table;
        } else if in_table
            && let Some(rest) = line.strip_prefix("name")
            && let Some(value) = rest.trim_start().strip_prefix('=')
        {
            return Ok(value.trim().trim_matches('"').to_string());
        }
    }
    bail!("{} names no {table}", manifest.display())
}

/// Build the component of the app in `dir`; its path.
pub fn build(args: BuildArgs) -> anyhow::Result<PathBuf> {
    match lang_of(&args.dir)? {
        Lang::Rust => build_rust(&args.dir),
        Lang::Js => build_js(&args.dir),
        Lang::Python => build_python(&args.dir),
    }
}

/// Run `program args` in `dir`, failing with `what` when it fails.
fn run(dir: &Path, program: &str, args: &[&str], what: &str) -> anyhow::Result<()> {
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .with_context(|| format!("running {program} (is it installed?)"))?;
    if !status.success() {
        bail!("{what} failed (see {program}'s messages above)");
    }
    Ok(())
}

/// The built component at `wasm`, or an error naming where it was expected.
fn built(wasm: PathBuf) -> anyhow::Result<PathBuf> {
    if !wasm.is_file() {
        bail!("the build made no {}", wasm.display());
    }
    println!("built {}", wasm.display());
    Ok(wasm)
}

/// `npm run build` (after `npm install` the first time): `dist/app.wasm`.
fn build_js(dir: &Path) -> anyhow::Result<PathBuf> {
    if !dir.join("node_modules").is_dir() {
        run(
            dir,
            "npm",
            &["install", "--no-audit", "--no-fund"],
            "npm install",
        )?;
    }
    run(dir, "npm", &["run", "build"], "the build")?;
    built(dir.join("dist").join("app.wasm"))
}

/// The SDK's build command, with the app's own virtual environment when it
/// has one (`.venv`), else `python3`: `dist/app.wasm`.
fn build_python(dir: &Path) -> anyhow::Result<PathBuf> {
    let venv = dir.join(".venv").join("bin").join("python");
    let python = std::env::var("QUN_PYTHON").unwrap_or_else(|_| {
        if venv.is_file() {
            venv.display().to_string()
        } else {
            "python3".into()
        }
    });
    std::fs::create_dir_all(dir.join("dist"))?;
    run(
        dir,
        &python,
        &["-m", "qun.build", ".", "dist/app.wasm"],
        "the build",
    )?;
    built(dir.join("dist").join("app.wasm"))
}

/// `cargo build --release --target wasm32-wasip2` (installing the target).
fn build_rust(dir: &Path) -> anyhow::Result<PathBuf> {
    let name = package_name(dir)?;
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == TARGET)
        })
        .unwrap_or(false);
    if !installed {
        eprintln!("installing the {TARGET} target (rustup target add {TARGET})");
        let status = Command::new("rustup")
            .args(["target", "add", TARGET])
            .status();
        if !status.is_ok_and(|s| s.success()) {
            bail!("could not install the {TARGET} target; run `rustup target add {TARGET}`");
        }
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(
        dir,
        &cargo,
        &["build", "--release", "--target", TARGET],
        "the build",
    )?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("target"));
    built(
        target_dir
            .join(TARGET)
            .join("release")
            .join(format!("{}.wasm", name.replace('-', "_"))),
    )
}

fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Build (unless a file is given), check, register if needed, upload.
pub async fn publish(args: PublishArgs) -> anyhow::Result<()> {
    let wasm = match args.file {
        Some(file) => file,
        None => build(BuildArgs {
            dir: args.dir.clone(),
        })?,
    };
    let bytes = std::fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let bar = spinner("checking the component");
    let app = super::check::load(&bytes).await;
    bar.finish_and_clear();
    let app = match app? {
        Ok(app) => app,
        Err(e) => bail!("the server would refuse {}: {e}", wasm.display()),
    };
    let slug = app.manifest.name.clone();
    let api = Api::from_login()?;
    match api
        .post(
            "/v1/apps",
            &json!({"slug": slug, "name": app.manifest.title}),
        )
        .await
    {
        Ok(_) => println!("registered {slug} on {}", api.server()),
        Err(e) if refusal(&e).is_some_and(|r| r.status == 409) => {}
        Err(e) => return Err(e),
    }
    let bar = spinner(&format!(
        "uploading {} ({} KiB)",
        wasm.display(),
        bytes.len() / 1024
    ));
    let uploaded = api
        .upload(
            &format!("/v1/apps/{slug}/versions"),
            "application/wasm",
            bytes,
        )
        .await;
    bar.finish_and_clear();
    let exists = || {
        anyhow::anyhow!(
            "{slug} {} is on the server already: raise the app's version, rebuild and publish again",
            app.manifest.version
        )
    };
    let mut version = match uploaded {
        Ok(v) => v,
        Err(e) if refusal(&e).is_some_and(|r| r.code == "version_exists") => return Err(exists()),
        Err(e) => return Err(e),
    };
    // A large component compiles after the upload's answer (202): follow it.
    if version["status"] == "compiling" {
        let id = version["id"].as_str().unwrap_or_default().to_string();
        let bar = spinner("the server is compiling it");
        let followed = loop {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            let upload = match api.get(&format!("/v1/apps/{slug}/uploads/{id}")).await {
                Ok(upload) => upload,
                Err(e) => break Err(e),
            };
            match upload["status"].as_str() {
                Some("compiling") => continue,
                Some("done") => break Ok(upload["version"].clone()),
                _ => {
                    let code = upload["error"]["code"].as_str().unwrap_or("failed");
                    if code == "version_exists" {
                        break Err(exists());
                    }
                    break Err(anyhow::anyhow!(
                        "the server refused {} ({code}): {}",
                        wasm.display(),
                        upload["error"]["message"]
                            .as_str()
                            .unwrap_or("no reason given")
                    ));
                }
            }
        };
        bar.finish_and_clear();
        version = followed?;
    }
    println!(
        "published {slug} {}: {} (capabilities: {})",
        version["version"].as_str().unwrap_or("?"),
        version["status"].as_str().unwrap_or("?"),
        strings(&version["capabilities"]),
    );
    if version["status"] == "pending" {
        println!("a platform admin reviews it next; `qun app status {slug}` shows the decision");
    }
    Ok(())
}

fn strings(v: &Value) -> String {
    let items: Vec<&str> = v
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

fn slug_of(args: &AppArgs) -> anyhow::Result<String> {
    match &args.slug {
        Some(slug) => Ok(slug.clone()),
        None => package_name(Path::new(".")),
    }
}

/// Each version with its review status and the reviewer's reason.
pub async fn status(args: AppArgs) -> anyhow::Result<()> {
    let slug = slug_of(&args)?;
    let app = Api::from_login()?.get(&format!("/v1/apps/{slug}")).await?;
    println!(
        "{slug}: {}{}",
        app["name"].as_str().unwrap_or("?"),
        if app["suspended"] == true {
            format!(
                " — SUSPENDED: {}",
                app["suspend_reason"].as_str().unwrap_or("no reason given")
            )
        } else {
            String::new()
        }
    );
    for v in app["versions"].as_array().into_iter().flatten() {
        println!(
            "  {} {}{} (capabilities: {})",
            v["version"].as_str().unwrap_or("?"),
            v["status"].as_str().unwrap_or("?"),
            v["review_reason"]
                .as_str()
                .map(|r| format!(": {r}"))
                .unwrap_or_default(),
            strings(&v["capabilities"]),
        );
    }
    super::rollout::print_status(&Api::from_login()?, &slug).await
}

fn print_line(line: &Value) {
    println!(
        "{} {} {:<7} {}",
        line["at"].as_i64().unwrap_or_default(),
        line["version"].as_str().unwrap_or("?"),
        line["level"].as_str().unwrap_or("?"),
        line["message"].as_str().unwrap_or_default()
    );
}

/// The app's log, oldest of the last page first; with `--follow`, new lines as they come.
pub async fn logs(args: AppArgs) -> anyhow::Result<()> {
    let slug = slug_of(&args)?;
    let api = Api::from_login()?;
    let page = api.get(&format!("/v1/apps/{slug}/logs?limit=100")).await?;
    let mut lines: Vec<Value> = page["lines"].as_array().cloned().unwrap_or_default();
    lines.reverse();
    let mut newest = lines.last().and_then(|l| l["id"].as_i64()).unwrap_or(0);
    lines.iter().for_each(print_line);
    if !args.follow {
        return Ok(());
    }
    // Until interrupted (Ctrl-C).
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let page = api.get(&format!("/v1/apps/{slug}/logs?limit=500")).await?;
        let mut fresh: Vec<Value> = page["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|l| l["id"].as_i64().unwrap_or(0) > newest)
            .cloned()
            .collect();
        fresh.reverse();
        if let Some(last) = fresh.last().and_then(|l| l["id"].as_i64()) {
            newest = last;
        }
        fresh.iter().for_each(print_line);
    }
}
