//! Turning uploaded bytes into a runnable app: validation, the import check
//! that decides which capabilities an app asks for, compiled-code caching,
//! and the app's own `describe`.

use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::capabilities::{Capability, GroupAppPre, handler};
use crate::runtime::InvocationState;

/// Why bytes were refused as an app.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Nothing was uploaded.
    #[error("the file is empty")]
    Empty,
    /// Not WebAssembly at all.
    #[error("not a WebAssembly file: it does not start with the `\\0asm` magic bytes")]
    NotWasm,
    /// A core module, not a component.
    #[error(
        "this is a core WebAssembly module, not a component: build the app with `cargo build --release --target wasm32-wasip2`"
    )]
    CoreModule,
    /// Validation or compilation failed.
    #[error("invalid WebAssembly component: {0}")]
    Invalid(String),
    /// It imports something the host does not offer.
    #[error(
        "the component imports `{0}`, which this host does not offer; apps may import qun:app/* and the WASI 0.2 interfaces wasi:io, wasi:cli, wasi:clocks, wasi:random and wasi:filesystem"
    )]
    ForbiddenImport(String),
    /// It does not implement the `group-app` world.
    #[error("the component is not a Qun app (it must export qun:app/handler@0.1.x): {0}")]
    NotAnApp(String),
    /// `describe` trapped or timed out.
    #[error("the app's describe failed: {0}")]
    Describe(String),
    /// `describe` answered something unusable.
    #[error("the app's describe answer is invalid: {0}")]
    BadManifest(String),
    // Issue 10 item 4: bounded manifests.
    /// `describe` answered something outside the manifest limits.
    #[error("the app's manifest is over a limit: {0}")]
    ManifestLimit(#[from] crate::runtime::manifest::ManifestLimit),
    /// One instance would need more of the host's instance pool than one
    /// component may take (issue 10, item 7).
    #[error(
        "the component needs {needs} per instance; this host allows at most {max} per component"
    )]
    TooBig {
        /// What one instance needs.
        needs: super::pool::Needs,
        /// The most one component may take.
        max: super::pool::Needs,
    },
    /// The host's instance pool stayed full while describing the app (not the app's fault).
    #[error("the host is busy; try the upload again in a moment")]
    HostBusy,
}

/// A command or action an app declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    /// The name.
    pub name: String,
    /// One line of help.
    pub description: String,
}

/// What an app says about itself (`describe`), as the host keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Short machine name.
    pub name: String,
    /// Catalog title.
    pub title: String,
    /// Semver.
    pub version: String,
    /// Catalog description.
    pub description: String,
    /// Commands answered.
    pub commands: Vec<Spec>,
    /// Actions answered.
    pub actions: Vec<Spec>,
    /// Optional events wanted (e.g. `message-posted`).
    pub subscriptions: Vec<String>,
}

/// A validated, compiled app version, ready to instantiate.
pub struct LoadedApp {
    /// sha256 of the component bytes, hex.
    pub sha256: String,
    /// Capabilities it asks for, read from its imports.
    pub capabilities: Vec<Capability>,
    /// Its `describe` answer.
    pub manifest: Manifest,
    pub(crate) pre: GroupAppPre<InvocationState>,
    /// What one instance takes from the instance pool.
    pub(crate) needs: super::pool::Needs,
}

/// sha256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Check the header: component, core module, or not wasm.
pub fn check_header(bytes: &[u8]) -> Result<(), LoadError> {
    if bytes.is_empty() {
        return Err(LoadError::Empty);
    }
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(LoadError::NotWasm);
    }
    match &bytes[4..8] {
        [0x01, 0x00, 0x00, 0x00] => Err(LoadError::CoreModule),
        [_, _, 0x01, 0x00] => Ok(()),
        _ => Err(LoadError::Invalid(
            "unknown WebAssembly version/layer in the header".into(),
        )),
    }
}

/// WASI packages an app may import: what Rust's wasm32-wasip2 std pulls in
/// (and what other languages' runtimes need), none of them a way out of the
/// sandbox: no preopened directories, no environment, no network.
const WASI_ALLOWED: [&str; 5] = [
    "wasi:io/",
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
];

/// The capabilities a component asks for, or the first import we refuse.
pub fn capabilities_of(
    engine: &Engine,
    component: &Component,
) -> Result<Vec<Capability>, LoadError> {
    let mut caps = BTreeSet::new();
    let ty = component.component_type();
    for (name, _) in ty.imports(engine) {
        let (base, version) = name.split_once('@').unwrap_or((name, ""));
        if let Some(iface) = base.strip_prefix("qun:app/") {
            if !version.starts_with("0.1.") {
                return Err(LoadError::ForbiddenImport(name.to_string()));
            }
            if iface == "types" {
                continue;
            }
            match Capability::parse(iface) {
                Some(cap) => caps.insert(cap),
                None => return Err(LoadError::ForbiddenImport(name.to_string())),
            };
        } else if !(WASI_ALLOWED.iter().any(|p| base.starts_with(p)) && version.starts_with("0.2."))
        {
            // (wasi:cli/environment and wasi:filesystem are offered but empty:
            // no variables, no preopened directories.)
            return Err(LoadError::ForbiddenImport(name.to_string()));
        }
    }
    let exports_handler = ty
        .exports(engine)
        .any(|(name, _)| name.starts_with("qun:app/handler@0.1."));
    if !exports_handler {
        return Err(LoadError::NotAnApp("no qun:app/handler export".into()));
    }
    Ok(caps.into_iter().collect())
}

/// Where this engine caches the compiled code of `sha256` under `dir`. The
/// name includes the engine's compatibility hash, so a new wasmtime or
/// different settings never load stale code.
pub fn cache_path(engine: &Engine, dir: &Path, sha256: &str) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    dir.join(format!("{sha256}-{:016x}.cwasm", hasher.finish()))
}

/// Compiled code not yet written to the cache: an upload is only cached once
/// it has been accepted, so a refused one leaves nothing behind.
pub struct Unsaved {
    path: PathBuf,
    compiled: Vec<u8>,
}

impl Unsaved {
    /// Write it into the cache (atomically: a temporary file renamed into place).
    pub fn save(self) {
        let Some(dir) = self.path.parent() else {
            return;
        };
        if let Err(e) = write_atomically(dir, &self.path, &self.compiled) {
            tracing::warn!(
                "could not write the compiled cache {}: {e}",
                self.path.display()
            );
        }
    }
}

/// Load the compiled code this host cached for `sha256`, if it has any.
pub fn cached_component(
    engine: &Engine,
    sha256: &str,
    cache_dir: Option<&Path>,
) -> Option<Component> {
    let path = cache_path(engine, cache_dir?, sha256);
    let compiled = std::fs::read(&path).ok()?;
    // Read into memory rather than `deserialize_file`: a mapped file that
    // someone truncates would crash the host with SIGBUS.
    // SAFETY: the file was written by `Unsaved::save` into the host's private
    // cache directory, named by the sha256 of the source bytes and this
    // engine's compatibility hash; wasmtime checks its header and that it was
    // produced by a compatible engine.
    #[allow(unsafe_code)]
    let loaded = unsafe { Component::deserialize(engine, &compiled) };
    match loaded {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!("ignoring unusable compiled cache {}: {e:#}", path.display());
            None
        }
    }
}

/// Compile `bytes` (Cranelift; slow for a large component). With a cache
/// directory, the compiled code comes back unsaved for the caller to keep
/// once the app is accepted.
pub fn compile(
    engine: &Engine,
    bytes: &[u8],
    sha256: &str,
    cache_dir: Option<&Path>,
) -> Result<(Component, Option<Unsaved>), LoadError> {
    let Some(dir) = cache_dir else {
        let component =
            Component::new(engine, bytes).map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
        return Ok((component, None));
    };
    let compiled = engine
        .precompile_component(bytes)
        .map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
    // SAFETY: `compiled` was just produced by this engine.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(engine, &compiled) }
        .map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
    let unsaved = Unsaved {
        path: cache_path(engine, dir, sha256),
        compiled,
    };
    Ok((component, Some(unsaved)))
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, path)
}

/// Check and convert a `describe` answer.
pub fn manifest_from(info: handler::AppInfo) -> Result<Manifest, LoadError> {
    crate::runtime::manifest::check(&info, &crate::runtime::manifest::MANIFEST_LIMITS)?;
    let ident_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    };
    if !ident_ok(&info.name) {
        return Err(LoadError::BadManifest(format!(
            "name {:?} must be 1-64 of a-z, 0-9, - and _",
            info.name
        )));
    }
    let parts: Vec<&str> = info.version.split('.').collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(LoadError::BadManifest(format!(
            "version {:?} must be MAJOR.MINOR.PATCH",
            info.version
        )));
    }
    let mut seen = BTreeSet::new();
    let names = info
        .commands
        .iter()
        .map(|c| &c.name)
        .chain(info.actions.iter().map(|a| &a.name));
    for name in names {
        if !ident_ok(name) {
            return Err(LoadError::BadManifest(format!(
                "command/action name {name:?} must be 1-64 of a-z, 0-9, - and _"
            )));
        }
    }
    for c in &info.commands {
        if !seen.insert(c.name.clone()) {
            return Err(LoadError::BadManifest(format!(
                "command {:?} is declared twice",
                c.name
            )));
        }
    }
    let spec = |s: handler::CommandSpec| Spec {
        name: s.name,
        description: s.description,
    };
    Ok(Manifest {
        name: info.name,
        title: info.title,
        version: info.version,
        description: info.description,
        commands: info.commands.into_iter().map(spec).collect(),
        actions: info
            .actions
            .into_iter()
            .map(|s| Spec {
                name: s.name,
                description: s.description,
            })
            .collect(),
        subscriptions: crate::runtime::manifest::subscription_names(&info.subscriptions),
    })
}
