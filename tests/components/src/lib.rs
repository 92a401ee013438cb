//! The guest components the host's tests run, compiled from source by this
//! crate's build script (see `build.rs`): the raw test apps in
//! `tests/components/apps` and the first-party plugins in `plugins/`, built
//! for `wasm32-wasip2` into `<repo>/target/wasm`.
//!
//! Every constant is the absolute path of a component file; [`read`] loads one.
//!
//! ```no_run
//! let bytes = qun_components::read(qun_components::PROBE);
//! ```

use std::path::Path;

/// `noop`: imports no capability; `on-action` answers `{}`. For the benchmark.
pub const NOOP: &str = env!("QUN_COMPONENT_NOOP");

/// `probe`: exercises every capability on demand through `on-action`; see
/// `tests/components/apps/probe/README.md` for its actions.
pub const PROBE: &str = env!("QUN_COMPONENT_PROBE");

/// `forbidden`: a valid group app that also imports
/// `wasi:http/outgoing-handler`, which the host does not offer; uploading it
/// must be rejected.
pub const FORBIDDEN: &str = env!("QUN_COMPONENT_FORBIDDEN");

/// `netless`: imports `wasi:sockets/*` (through `std::net`); accepted, and
/// its action `connect` finds no network.
pub const NETLESS: &str = env!("QUN_COMPONENT_NETLESS");

/// `stateful`: counts `on-action("count")` calls in instance memory; with a
/// fresh instance per invocation it always answers `{"count":1}`.
pub const STATEFUL: &str = env!("QUN_COMPONENT_STATEFUL");

/// `upgrader` 1.0.0: asks for `storage`; actions `version`, `note`, `read`.
pub const UPGRADER_V1: &str = env!("QUN_COMPONENT_UPGRADER_V1");

/// `upgrader` 2.0.0: asks for `storage` and `messaging`; adds `announce`, so
/// moving an installation of 1.0.0 to it needs the owner's consent.
pub const UPGRADER_V2: &str = env!("QUN_COMPONENT_UPGRADER_V2");
/// `recorder`: records every event it receives, in order, and subscribes to
/// nothing; see `tests/components/apps/recorder/README.md`.
pub const RECORDER: &str = env!("QUN_COMPONENT_RECORDER");
/// `legacy-polls`: a tiny poll built against `qun:app@0.1.0` with raw
/// wit-bindgen; see `tests/components/apps/legacy-polls/README.md`.
pub const LEGACY_POLLS: &str = env!("QUN_COMPONENT_LEGACY_POLLS");
/// `messenger`: message handles, private replies and recurring timers of
/// `qun:app@0.2.0`; see `tests/components/apps/messenger/README.md`.
pub const MESSENGER: &str = env!("QUN_COMPONENT_MESSENGER");
/// `future-version`: exports `qun:app/handler@0.9.0`, a version the host
/// does not serve.
pub const FUTURE_VERSION: &str = env!("QUN_COMPONENT_FUTURE_VERSION");
/// `chatty`: makes N cheap capability calls in one invocation, ignoring every
/// error; see `tests/components/apps/chatty/README.md`.
pub const CHATTY: &str = env!("QUN_COMPONENT_CHATTY");

// Issue 10 items 4 and 5 (manifest).
/// `hostile-manifest`: declares 20,000 commands; its upload must be refused
/// with `manifest_limit`, leaving nothing stored or cached.
pub const HOSTILE_MANIFEST: &str = env!("QUN_COMPONENT_HOSTILE_MANIFEST");
/// `hostile-subscriptions`: subscribes to `message-posted` 100,000 times.
pub const HOSTILE_SUBSCRIPTIONS: &str = env!("QUN_COMPONENT_HOSTILE_SUBSCRIPTIONS");
/// `hostile-text`: a title with a terminal escape (a control character).
pub const HOSTILE_TEXT: &str = env!("QUN_COMPONENT_HOSTILE_TEXT");
/// `manifest-rival` 1.0.0: answers `/rival`, subscribes to `message-posted`.
pub const MANIFEST_RIVAL_V1: &str = env!("QUN_COMPONENT_MANIFEST_RIVAL_V1");
/// `manifest-rival` 2.0.0: also declares `/probe`, the `probe` app's command.
pub const MANIFEST_RIVAL_V2: &str = env!("QUN_COMPONENT_MANIFEST_RIVAL_V2");

/// `hostile-spin`: `on-action("spin")` and `/spin` loop forever; `ok` answers
/// `{}` (issue 10: fairness between groups).
pub const HOSTILE_SPIN: &str = env!("QUN_COMPONENT_HOSTILE_SPIN");

/// `hostile-bytes`: huge errors, logs, DMs, timers, writes and posts on
/// demand, ignoring the errors it is given (issue 10: every byte bounded).
pub const HOSTILE_BYTES: &str = env!("QUN_COMPONENT_HOSTILE_BYTES");

// Issue 13 (contract 0.2, HTTP).
/// `asker` (qun:app@0.2.0, raw wit-bindgen): opens forms with every input
/// kind, posts a card with every element kind, logs every submission and
/// click; see `tests/components/apps/asker/README.md`.
pub const ASKER: &str = env!("QUN_COMPONENT_ASKER");

/// `filer` (qun:app@0.2.0, raw wit-bindgen): the `files` capability; see
/// `tests/components/apps/filer/README.md`.
pub const FILER: &str = env!("QUN_COMPONENT_FILER");

// Issue 16: rollouts.
/// `canary` 1.0.0: no capabilities; actions `version` and `crash` (`{}`).
pub const CANARY_V1: &str = env!("QUN_COMPONENT_CANARY_V1");
/// `canary` 2.0.0: no capabilities; `version` answers 2.0.0, `crash` traps.
pub const CANARY_V2: &str = env!("QUN_COMPONENT_CANARY_V2");

// Issue 16: replay.
/// `replayable` 1.0.0 (storage): `/tally` counts, reads the clock, draws a
/// random number, writes them to stderr, and traps.
pub const REPLAYABLE_V1: &str = env!("QUN_COMPONENT_REPLAYABLE_V1");
/// `replayable` 2.0.0: the same, fixed: it posts the line instead of trapping.
pub const REPLAYABLE_V2: &str = env!("QUN_COMPONENT_REPLAYABLE_V2");

/// The `polls` plugin, when `plugins/Cargo.toml` existed at build time.
pub const POLLS: Option<&str> = option_env!("QUN_COMPONENT_POLLS");

// `PLUGINS: &[(&str, &str)]`: every plugin built, as (name, path).
include!(concat!(env!("OUT_DIR"), "/plugins.rs"));

/// A minimal valid core WebAssembly module (magic and version 1, no sections):
/// not a component, so uploading it must be rejected.
pub const CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";

/// The first 8 bytes of every component: the magic, then version `0x0d` and
/// layer `1` (a core module has version 1, layer 0).
pub const COMPONENT_HEADER: &[u8; 8] = b"\0asm\x0d\0\x01\0";

/// The path of the plugin `name` (e.g. `"polls"`), if it was built.
pub fn plugin(name: &str) -> Option<&'static str> {
    PLUGINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, path)| *path)
}

/// Reads a component file; panics with the path if it cannot (for tests).
pub fn read(path: impl AsRef<Path>) -> Vec<u8> {
    let path = path.as_ref();
    std::fs::read(path).unwrap_or_else(|e| panic!("reading component {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<&'static str> {
        let mut paths = vec![NOOP, PROBE, FORBIDDEN, STATEFUL];
        paths.extend(POLLS);
        paths.extend(PLUGINS.iter().map(|(_, path)| *path));
        paths
    }

    #[test]
    fn every_component_exists_and_is_a_component() {
        for path in all() {
            let bytes = read(path);
            assert_eq!(
                bytes.get(..8),
                Some(&COMPONENT_HEADER[..]),
                "{path} does not start with the component header"
            );
        }
    }

    #[test]
    fn polls_is_listed_with_the_plugins() {
        assert_eq!(POLLS, plugin("polls"));
    }

    #[test]
    fn core_module_is_a_core_module_header() {
        assert_eq!(CORE_MODULE.len(), 8);
        assert_eq!(&CORE_MODULE[..4], &COMPONENT_HEADER[..4]);
        assert_eq!(&CORE_MODULE[4..], b"\x01\0\0\0");
    }
}
