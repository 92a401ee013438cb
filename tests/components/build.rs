//! Compiles the guest components from source, like Spin's
//! `tests/test-components`: the test apps in `tests/components/apps` and, when
//! `plugins/Cargo.toml` exists, the first-party plugins. Both are separate
//! cargo workspaces built for `wasm32-wasip2` into the shared target directory
//! `<repo>/target/wasm`. Every `cdylib` built is passed to `src/lib.rs` as the
//! environment variable `QUN_COMPONENT_<NAME>` (its absolute path), and the
//! plugins are also listed in `$OUT_DIR/plugins.rs`.

use std::collections::BTreeMap;
use std::env;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const TARGET: &str = "wasm32-wasip2";

/// The test apps `src/lib.rs` names; the build fails if one is missing.
const APPS: &[&str] = &[
    "noop",
    "probe",
    "forbidden",
    "netless",
    "stateful",
    "recorder",
    "upgrader_v1",
    "upgrader_v2",
    "chatty",
    // Issue 10 items 4 and 5 (manifest).
    "hostile_manifest",
    "hostile_subscriptions",
    "hostile_text",
    "manifest_rival_v1",
    "manifest_rival_v2",
    "hostile_spin",
    "hostile_bytes",
    // Issue 13: both contract versions side by side.
    "legacy_polls",
    "messenger",
    "future_version",
    // Issue 13 (contract 0.2, HTTP).
    "asker",
    // Issue 17: files.
    "filer",
    // Issue 16: rollouts.
    "canary_v1",
    "canary_v2",
    // Issue 16: replay.
    "replayable_v1",
    "replayable_v2",
];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // tests/components -> the repository root.
    let root = manifest_dir
        .parent()
        .and_then(Path::parent)
        .expect("tests/components lies two levels below the repository root")
        .to_path_buf();
    let target_dir = root.join("target").join("wasm");
    let apps = manifest_dir.join("apps");
    let plugins = root.join("plugins");

    println!("cargo:rerun-if-changed=build.rs");
    for dir in [
        root.join("wit"),
        root.join("sdk"),
        plugins.clone(),
        apps.clone(),
    ] {
        watch(&dir);
    }

    check_target_installed();

    let built_apps = build_workspace(&apps, &target_dir);
    for app in APPS {
        if !built_apps.contains_key(*app) {
            panic!(
                "building {} did not produce the component `{app}`; built: {:?}",
                apps.display(),
                built_apps.keys().collect::<Vec<_>>()
            );
        }
    }

    let built_plugins = if plugins.join("Cargo.toml").is_file() {
        build_workspace(&plugins, &target_dir)
    } else {
        println!(
            "cargo:warning=qun-components: {} not found; building no plugins (POLLS is None)",
            plugins.join("Cargo.toml").display()
        );
        BTreeMap::new()
    };

    // Plugins are known by their name without a `qun-` prefix: `qun-polls` is `polls`.
    let built_plugins: BTreeMap<String, PathBuf> = built_plugins
        .into_iter()
        .map(|(name, path)| (name.strip_prefix("qun_").unwrap_or(&name).to_string(), path))
        .collect();

    for (name, path) in built_apps.iter().chain(&built_plugins) {
        let var = format!("QUN_COMPONENT_{}", name.to_uppercase().replace('-', "_"));
        println!("cargo:rustc-env={var}={}", path.display());
    }

    let mut listing =
        String::from("/// The plugins built from `plugins/`: (name, path of the component).\n");
    listing.push_str("pub const PLUGINS: &[(&str, &str)] = &[\n");
    for (name, path) in &built_plugins {
        writeln!(listing, "    ({name:?}, {:?}),", path.display().to_string())
            .expect("writing to a String");
    }
    listing.push_str("];\n");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out_dir.join("plugins.rs"), listing).expect("writing $OUT_DIR/plugins.rs");
}

/// Fails with a clear message when the compiler has no `wasm32-wasip2` std.
fn check_target_installed() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .unwrap_or_else(|e| panic!("running `{} --print sysroot`: {e}", rustc.to_string_lossy()));
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success()
        || !Path::new(&sysroot)
            .join("lib/rustlib")
            .join(TARGET)
            .is_dir()
    {
        panic!(
            "\n\nthe Rust target {TARGET} is not installed (no {sysroot}/lib/rustlib/{TARGET}); \
             the test components cannot be built.\n    run: rustup target add {TARGET}\n\n"
        );
    }
}

/// Builds one guest workspace and answers its `cdylib` components by target name.
fn build_workspace(workspace: &Path, target_dir: &Path) -> BTreeMap<String, PathBuf> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = workspace.join("Cargo.toml");
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--release")
        .args(["--target", TARGET])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .arg("--message-format=json-render-diagnostics")
        .current_dir(workspace)
        // Cargo's JSON messages; the human-readable diagnostics and progress go to
        // stderr, which cargo shows when this build script fails.
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    scrub_env(&mut command);

    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("starting cargo to build {}: {e}", manifest.display()));
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_string(&mut stdout)
        .unwrap_or_else(|e| panic!("reading cargo's output for {}: {e}", manifest.display()));
    let status = child
        .wait()
        .unwrap_or_else(|e| panic!("waiting for cargo: {e}"));
    if !status.success() {
        panic!(
            "\n\nbuilding the guest components in {} for {TARGET} failed ({status}); cargo's output is above.\n\
             Reproduce with: cargo build --release --target {TARGET} --manifest-path {} --target-dir {}\n\n",
            workspace.display(),
            manifest.display(),
            target_dir.display()
        );
    }

    let mut components = BTreeMap::new();
    for line in stdout.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let is_cdylib = message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"));
        let Some(name) = message["target"]["name"].as_str() else {
            continue;
        };
        if !is_cdylib {
            continue;
        }
        let wasm = message["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
            .map(PathBuf::from)
            .find(|path| path.extension() == Some(OsStr::new("wasm")));
        match wasm {
            Some(path) if path.is_file() => {
                components.insert(name.to_string(), path);
            }
            _ => panic!(
                "cargo reported no .wasm file for the cdylib `{name}` in {}",
                manifest.display()
            ),
        }
    }
    components
}

/// Removes what the outer cargo (or the user's environment) set that would
/// redirect or break the nested build: target dir and target, flags for the
/// host build, wrappers, the outer jobserver, profile overrides.
fn scrub_env(command: &mut Command) {
    // Kept: where cargo lives and how it reaches registries.
    const KEEP: &[&str] = &[
        "CARGO_HOME",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "CARGO_TERM_",
    ];
    const REMOVE: &[&str] = &[
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_LINKER",
        "TARGET",
        "HOST",
        "OUT_DIR",
        "NUM_JOBS",
        "OPT_LEVEL",
        "DEBUG",
        "PROFILE",
    ];
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let cargo_var = (key.starts_with("CARGO_")
            && !KEEP.iter().any(|keep| key.starts_with(keep)))
            || key.starts_with("__CARGO");
        if cargo_var || REMOVE.contains(&key) {
            command.env_remove(key);
        }
    }
}

/// Asks cargo to rerun this script when anything under `path` changes, except
/// in `target` directories and hidden ones (`.git`), which change all the time.
fn watch(path: &Path) {
    if !path.is_dir() || !contains_ignored(path) {
        println!("cargo:rerun-if-changed={}", path.display());
        return;
    }
    let Ok(entries) = fs::read_dir(path) else {
        println!("cargo:rerun-if-changed={}", path.display());
        return;
    };
    for entry in entries.flatten() {
        if !ignored(&entry.file_name()) {
            watch(&entry.path());
        }
    }
}

fn ignored(name: &OsStr) -> bool {
    name == "target" || name.to_str().is_some_and(|n| n.starts_with('.'))
}

/// True if a `target` or hidden entry lies anywhere under `dir`.
fn contains_ignored(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        ignored(&entry.file_name()) || (entry.path().is_dir() && contains_ignored(&entry.path()))
    })
}
