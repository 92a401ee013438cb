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

use crate::capabilities::{Capability, GroupAppPre, SUPPORTED_VERSIONS, handler, v0_1};
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
    #[error("the component imports `{0}`, which this host does not offer; {hint}", hint = forbidden_hint(.0))]
    ForbiddenImport(String),
    /// It does not implement the `group-app` world.
    #[error(
        "the component is not a Qun app (it must export qun:app/handler of a supported version: 0.1.0 or 0.2.0): {0}"
    )]
    NotAnApp(String),
    /// It is built against a version of the contract this host does not serve.
    #[error(
        "the component is built against {0}, which this host does not serve; it serves qun:app@0.1.0 and qun:app@0.2.0"
    )]
    UnsupportedVersion(String),
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
    /// The app could not be instantiated under this host's limits as they
    /// are now (e.g. its initial memory is above `--memory-mib`, lowered
    /// since the upload). Not the app's fault: its health is not charged.
    #[error("this host cannot start the app under its current limits: {0}")]
    CannotStart(String),
}

/// A command or action an app declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    /// The name.
    pub name: String,
    /// One line of help.
    pub description: String,
    /// A command's typed options (`qun:app@0.2.0`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<qun_blocks::CommandOption>,
}

/// The version of the `qun:app` contract a component is built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContractVersion {
    /// `qun:app@0.1.0`: text and cards, served through the adapter.
    #[serde(rename = "0.1.0")]
    V0_1,
    /// `qun:app@0.2.0`: blocks, forms, typed commands, message handles.
    #[serde(rename = "0.2.0")]
    V0_2,
}

impl ContractVersion {
    /// The version as written in WIT (`0.2.0`).
    pub fn as_str(self) -> &'static str {
        match self {
            ContractVersion::V0_1 => SUPPORTED_VERSIONS[0],
            ContractVersion::V0_2 => SUPPORTED_VERSIONS[1],
        }
    }

    /// The supported version `version` (`0.2.0`) is compatible with.
    fn of(version: &str) -> Option<ContractVersion> {
        if version.starts_with("0.1.") {
            Some(ContractVersion::V0_1)
        } else if version.starts_with("0.2.") {
            Some(ContractVersion::V0_2)
        } else {
            None
        }
    }
}

/// A component ready to instantiate, with the bindings of its version.
#[derive(Clone)]
pub(crate) enum AppPre {
    /// A `qun:app@0.1.0` component.
    V0_1(v0_1::GroupAppPre<InvocationState>),
    /// A `qun:app@0.2.0` component.
    V0_2(GroupAppPre<InvocationState>),
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
    /// The contract version it is built against.
    #[serde(default = "contract_v0_1")]
    pub contract: ContractVersion,
}

fn contract_v0_1() -> ContractVersion {
    ContractVersion::V0_1
}

/// A validated, compiled app version, ready to instantiate.
pub struct LoadedApp {
    /// sha256 of the component bytes, hex.
    pub sha256: String,
    /// Capabilities it asks for, read from its imports.
    pub capabilities: Vec<Capability>,
    /// Its `describe` answer.
    pub manifest: Manifest,
    pub(crate) pre: AppPre,
    /// The actions it declared (what its messages' elements may name).
    pub(crate) actions: std::sync::Arc<[String]>,
    /// What one instance takes from the instance pool.
    pub(crate) needs: super::pool::Needs,
    /// Bytes of its compiled code (mapped from the cache when there is one).
    pub(crate) code_bytes: usize,
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
/// and what other languages' runtimes need (componentize-py imports
/// `wasi:sockets` whatever the app does), none of them a way out of the
/// sandbox: no preopened directories, no environment, and sockets with no
/// network (every address is refused, name lookup is off).
const WASI_ALLOWED: [&str; 6] = [
    "wasi:io/",
    "wasi:cli/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
    "wasi:sockets/",
];

/// `wasi:http` interfaces an app may import (issue 15 item 2): what
/// componentize-js imports by default. The types are data; the outgoing
/// handler refuses every request (`http-request-denied`, see `http.rs`).
/// Any other `wasi:http` interface or version stays refused.
const WASI_HTTP_ALLOWED: [&str; 2] = ["wasi:http/types", "wasi:http/outgoing-handler"];

/// What to do about a refused import: the build flag that removes it where
/// a toolchain adds it by default, else what the host offers.
fn forbidden_hint(import: &str) -> String {
    let offered = "apps may import qun:app/* (one contract version) and the WASI 0.2 interfaces wasi:io, wasi:cli, wasi:clocks, wasi:random, wasi:filesystem (no directories), wasi:sockets (no network) and wasi:http/types and wasi:http/outgoing-handler (every request refused)";
    if import.starts_with("wasi:http/") {
        format!(
            "apps reach the network only through the host: of wasi:http it links only the 0.2 types and outgoing-handler, and refuses every request. componentize-js's default build imports just those; build with `-d http` (`@qun/sdk`'s build passes it) to import no wasi:http at all; in Rust, drop the `wasi` crate's http feature. ({offered})"
        )
    } else if import.starts_with("qun:app/") {
        format!(
            "a component is built against one version of the contract: every qun:app import must have the version of the qun:app/handler it exports ({offered})"
        )
    } else {
        offered.to_string()
    }
}

/// Whether `base@version` (not `qun:app`) is a WASI import this host links.
fn wasi_allowed(base: &str, version: &str) -> bool {
    version.starts_with("0.2.")
        && (WASI_ALLOWED.iter().any(|p| base.starts_with(p)) || WASI_HTTP_ALLOWED.contains(&base))
}

/// The contract version a component is built against, read from the
/// `qun:app/handler@X` it exports; refused when it exports none or one of a
/// version this host does not serve.
pub fn contract_of(engine: &Engine, component: &Component) -> Result<ContractVersion, LoadError> {
    let ty = component.component_type();
    let handler = ty
        .exports(engine)
        .find_map(|(name, _)| name.strip_prefix("qun:app/handler@").map(str::to_string));
    let Some(version) = handler else {
        return Err(LoadError::NotAnApp("no qun:app/handler export".into()));
    };
    ContractVersion::of(&version)
        .ok_or_else(|| LoadError::UnsupportedVersion(format!("qun:app@{version}")))
}

/// The capabilities a component of contract `version` asks for, or the
/// first import we refuse.
pub fn capabilities_of(
    engine: &Engine,
    component: &Component,
    version: ContractVersion,
) -> Result<Vec<Capability>, LoadError> {
    let mut caps = BTreeSet::new();
    let ty = component.component_type();
    for (name, _) in ty.imports(engine) {
        let (base, v) = name.split_once('@').unwrap_or((name, ""));
        if let Some(iface) = base.strip_prefix("qun:app/") {
            // One contract version per component.
            if ContractVersion::of(v) != Some(version) {
                return Err(LoadError::ForbiddenImport(name.to_string()));
            }
            // Types only: they ask for nothing.
            if iface == "types" || (iface == "blocks" && version == ContractVersion::V0_2) {
                continue;
            }
            match Capability::parse(iface) {
                Some(cap) => caps.insert(cap),
                None => return Err(LoadError::ForbiddenImport(name.to_string())),
            };
        } else if !wasi_allowed(base, v) {
            // (wasi:cli/environment and wasi:filesystem are offered but empty:
            // no variables, no preopened directories; wasi:http sends nothing.)
            return Err(LoadError::ForbiddenImport(name.to_string()));
        }
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

// Issue 12 item 6: compiled code is mapped from the cache, not read into
// memory. A mapped file must never change under the mapping (a truncated one
// kills the host with SIGBUS), so every cache file is written once under a
// temporary name, synced, renamed into place and never modified: a new
// compilation writes a new file and renames it over the old name, which
// leaves any mapping of the old file intact. Before a file is mapped, its
// length and sha256 are checked against the checksum file written beside it
// after it; a file without one, short, or corrupt is compiled again from the
// stored source. The checksum is a CRC-32 (issue 15 item 4: a 40 MB file of
// a Python app took ~30 ms to sha256 here on every load, the CRC ~2 ms):
// it guards against accidents, not attackers, since whoever can write the
// cache directory can write its checksums too. Checksum files written
// before (sha256) are still read.

/// The checksum beside the compiled code at `path`: `"{length} crc32:{hex}"`
/// (or, written by an older host, `"{length} {sha256}"`).
fn sum_path(path: &Path) -> PathBuf {
    path.with_extension("cwasm.sum")
}

/// Compiled code not yet in the cache: complete and synced under a
/// temporary name (and already mapped from there), renamed into place only
/// once the upload is accepted; a refused one is removed when dropped.
pub struct Unsaved {
    tmp: PathBuf,
    path: PathBuf,
    /// The checksum line of the compiled code.
    sum: String,
    saved: bool,
}

impl Unsaved {
    /// Move it into the cache (a rename, then its checksum file).
    pub fn save(mut self) {
        match self.publish() {
            Ok(()) => self.saved = true,
            Err(e) => tracing::warn!(
                "could not write the compiled cache {}: {e}",
                self.path.display()
            ),
        }
    }

    fn publish(&self) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        // Renaming over a file another process has mapped leaves its mapping
        // on the old file, untouched.
        std::fs::rename(&self.tmp, &self.path)?;
        write_atomically(dir, &sum_path(&self.path), self.sum.as_bytes())
    }
}

impl Drop for Unsaved {
    fn drop(&mut self) {
        if !self.saved {
            // Unlinking a mapped file leaves the mapping intact.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Map the compiled code this host cached for `sha256`, if it has any that
/// matches its checksum.
pub fn cached_component(
    engine: &Engine,
    sha256: &str,
    cache_dir: Option<&Path>,
) -> Option<Component> {
    let path = cache_path(engine, cache_dir?, sha256);
    // No checksum: never cached, or not finished (or from before checksums).
    let sum = std::fs::read_to_string(sum_path(&path)).ok()?;
    if let Err(e) = check_file(&path, &sum) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!("recompiling: the compiled cache {} {e}", path.display());
        }
        return None;
    }
    // SAFETY: the file is in the host's private cache directory, named by
    // the sha256 of the source and this engine's compatibility hash, and
    // has just been checked against the checksum written after it; it was
    // written once by `compile` from code this engine produced and is never
    // modified (only replaced by a rename, which leaves this mapping
    // intact). wasmtime checks its header and that a compatible engine
    // produced it.
    #[allow(unsafe_code)]
    let loaded = unsafe { Component::deserialize_file(engine, &path) };
    match loaded {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!("ignoring unusable compiled cache {}: {e:#}", path.display());
            None
        }
    }
}

/// Whether the file at `path` is exactly what `sum` says: its length first
/// (a short file), then its sha256 (a corrupt one).
fn check_file(path: &Path, sum: &str) -> std::io::Result<()> {
    let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
    let (len, digest) = sum
        .trim()
        .split_once(' ')
        .ok_or_else(|| bad("has a malformed checksum file".into()))?;
    let len: u64 = len
        .parse()
        .map_err(|_| bad("has a malformed checksum file".into()))?;
    let mut file = std::fs::File::open(path)?;
    let actual = file.metadata()?.len();
    if actual != len {
        return Err(bad(format!("is {actual} bytes, not {len}")));
    }
    let matches = if digest.starts_with("crc32:") {
        let mut crc = Crc32(crc32fast::Hasher::new());
        std::io::copy(&mut file, &mut crc)?;
        format!("crc32:{:08x}", crc.0.finalize()) == digest
    } else {
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher)?;
        hex::encode(hasher.finalize()) == digest
    };
    if !matches {
        return Err(bad("does not match its checksum".into()));
    }
    Ok(())
}

/// The checksum of `bytes` as a checksum file holds it: `crc32:{hex}`.
fn crc32_sum(bytes: &[u8]) -> String {
    format!("crc32:{:08x}", crc32fast::hash(bytes))
}

/// A CRC-32 to `std::io::copy` a file into.
struct Crc32(crc32fast::Hasher);

impl std::io::Write for Crc32 {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Compile `bytes` (Cranelift; slow for a large component). With a cache
/// directory, the compiled code is written to a temporary file and mapped
/// from there, and comes back unsaved for the caller to keep once the app
/// is accepted.
pub fn compile(
    engine: &Engine,
    bytes: &[u8],
    sha256: &str,
    cache_dir: Option<&Path>,
) -> Result<(Component, Option<Unsaved>), LoadError> {
    let invalid = |e: wasmtime::Error| LoadError::Invalid(format!("{e:#}"));
    let Some(dir) = cache_dir else {
        let component = Component::new(engine, bytes).map_err(invalid)?;
        return Ok((component, None));
    };
    let compiled = engine.precompile_component(bytes).map_err(invalid)?;
    let path = cache_path(engine, dir, sha256);
    let sum = format!("{} {}\n", compiled.len(), crc32_sum(&compiled));
    let tmp = match write_temp(dir, &path, &compiled) {
        Ok(tmp) => tmp,
        Err(e) => {
            tracing::warn!(
                "could not write compiled code to {}: {e}; keeping it in memory",
                dir.display()
            );
            // SAFETY: `compiled` was just produced by this engine.
            #[allow(unsafe_code)]
            let component = unsafe { Component::deserialize(engine, &compiled) };
            return Ok((component.map_err(invalid)?, None));
        }
    };
    drop(compiled);
    let unsaved = Unsaved {
        tmp,
        path,
        sum,
        saved: false,
    };
    // SAFETY: the temporary file was just written, completely and synced,
    // from code this engine produced; it is only ever renamed into place or
    // removed, never modified.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize_file(engine, &unsaved.tmp) };
    Ok((component.map_err(invalid)?, Some(unsaved)))
}

/// Write `bytes` to a new file beside `path` and sync it; its name.
fn write_temp(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        });
    match written {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Write `bytes` to `path` atomically: a synced temporary file renamed into
/// place, the directory synced after.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = write_temp(dir, path, bytes)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::File::open(dir)?.sync_all()
}

/// Check and convert a `describe` answer (a 0.1 answer converted to 0.2's).
pub fn manifest_from(
    info: handler::AppInfo,
    contract: ContractVersion,
) -> Result<Manifest, LoadError> {
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
    let commands: Vec<qun_blocks::CommandSpec> = info
        .commands
        .into_iter()
        .map(crate::capabilities::command_spec_from_wit)
        .collect();
    crate::runtime::manifest::check_commands(&commands).map_err(LoadError::BadManifest)?;
    let spec = |s: qun_blocks::CommandSpec| Spec {
        name: s.name,
        description: s.description,
        options: s.options,
    };
    Ok(Manifest {
        name: info.name,
        title: info.title,
        version: info.version,
        description: info.description,
        commands: commands.into_iter().map(spec).collect(),
        actions: info
            .actions
            .into_iter()
            .map(|s| Spec {
                name: s.name,
                description: s.description,
                options: Vec::new(),
            })
            .collect(),
        subscriptions: crate::runtime::manifest::subscription_names(&info.subscriptions),
        contract,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasi_http_types_are_linked_but_nothing_else_of_wasi_http() {
        // componentize-js 0.23's default build.
        assert!(wasi_allowed("wasi:http/types", "0.2.10"));
        assert!(wasi_allowed("wasi:http/outgoing-handler", "0.2.10"));
        // Another version, or an interface the host does not link.
        assert!(!wasi_allowed("wasi:http/outgoing-handler", "0.3.0"));
        assert!(!wasi_allowed("wasi:http/handler", "0.3.0"));
        assert!(!wasi_allowed("wasi:http/incoming-handler", "0.2.10"));
        assert!(!wasi_allowed("wasi:http/typesx", "0.2.10"));
        // The rest of WASI 0.2 as before.
        assert!(wasi_allowed("wasi:sockets/tcp", "0.2.12"));
        assert!(!wasi_allowed("wasi:sockets/tcp", "0.3.0"));
        assert!(!wasi_allowed("wasi:nn/graph", "0.2.0"));
        let hint = forbidden_hint("wasi:http/outgoing-handler@0.3.0");
        assert!(hint.contains("`-d http`"), "{hint}");
    }

    #[test]
    fn cache_checksums_are_crc32_and_older_sha256_ones_still_read() {
        let dir = std::env::temp_dir().join(format!("qun-sum-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("code.cwasm");
        let bytes = b"compiled code, as far as this test knows".repeat(1000);
        std::fs::write(&path, &bytes).expect("write");
        let crc = format!("{} {}\n", bytes.len(), crc32_sum(&bytes));
        assert!(crc.contains(" crc32:"), "{crc}");
        assert!(check_file(&path, &crc).is_ok());
        let old = format!("{} {}\n", bytes.len(), sha256_hex(&bytes));
        assert!(
            check_file(&path, &old).is_ok(),
            "a sha256 sum of an older host"
        );
        let mut corrupt = bytes.clone();
        corrupt[bytes.len() / 2] ^= 1;
        std::fs::write(&path, &corrupt).expect("write");
        assert!(check_file(&path, &crc).is_err());
        assert!(check_file(&path, &old).is_err());
        std::fs::write(&path, &bytes[..10]).expect("write");
        assert!(check_file(&path, &crc).is_err(), "short");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
