//! Bounds on what an app may declare about itself (`describe`).
//!
//! A manifest is read once, at upload, and then lives in typed rows
//! (`version_commands`, `version_subscriptions`) so that routing a command or
//! fanning out `message-posted` is one indexed query. What is stored must
//! therefore be small: a few commands and actions with short, plain-text
//! names and help, and each subscription at most once.

use crate::capabilities::handler;

/// The bounds on one manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestLimits {
    /// Commands one version may declare.
    pub commands: usize,
    /// Actions one version may declare.
    pub actions: usize,
    /// Entries in the subscription list (before duplicates are dropped).
    pub subscriptions: usize,
    /// Bytes of the app's title.
    pub title_bytes: usize,
    /// Bytes of the app's catalog description.
    pub description_bytes: usize,
    /// Bytes of one command's or action's help line.
    pub help_bytes: usize,
    /// Bytes of the version string.
    pub version_bytes: usize,
}

/// The bounds every upload is held to.
pub const MANIFEST_LIMITS: ManifestLimits = ManifestLimits {
    commands: 32,
    actions: 128,
    subscriptions: 16,
    title_bytes: 100,
    description_bytes: 2_000,
    help_bytes: 300,
    version_bytes: 32,
};

/// A manifest outside [`MANIFEST_LIMITS`]: which limit, and by how much.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestLimit {
    /// Too many entries in a list.
    #[error("the manifest declares {actual} {what}; the limit is {limit} {what}")]
    TooMany {
        /// What was counted (`commands`, `actions`, `subscriptions`).
        what: &'static str,
        /// The limit.
        limit: usize,
        /// What the app declared.
        actual: usize,
    },
    /// A text is too long.
    #[error("{what} is {actual} bytes long; the limit is {limit} bytes")]
    TooLong {
        /// Which text.
        what: String,
        /// The limit.
        limit: usize,
        /// Its length.
        actual: usize,
    },
    /// A text holds a control character (newline, escape, NUL, ...).
    #[error(
        "{what} contains the control character U+{code:04X}; manifest texts are one line of plain text"
    )]
    ControlCharacter {
        /// Which text.
        what: String,
        /// The character.
        code: u32,
    },
}

fn count(what: &'static str, limit: usize, actual: usize) -> Result<(), ManifestLimit> {
    if actual > limit {
        return Err(ManifestLimit::TooMany {
            what,
            limit,
            actual,
        });
    }
    Ok(())
}

fn text(what: impl Fn() -> String, value: &str, limit: usize) -> Result<(), ManifestLimit> {
    if value.len() > limit {
        return Err(ManifestLimit::TooLong {
            what: what(),
            limit,
            actual: value.len(),
        });
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(ManifestLimit::ControlCharacter {
            what: what(),
            code: u32::from(c),
        });
    }
    Ok(())
}

/// A short, printable rendering of an app-chosen name for an error message.
fn shown(name: &str) -> String {
    let mut out: String = name.chars().take(40).collect();
    if out.len() < name.len() {
        out.push('…');
    }
    format!("{out:?}")
}

/// Check a `describe` answer against `limits`. Counts first, so a manifest
/// with a million entries is refused without looking at each one.
pub fn check(info: &handler::AppInfo, limits: &ManifestLimits) -> Result<(), ManifestLimit> {
    count("commands", limits.commands, info.commands.len())?;
    count("actions", limits.actions, info.actions.len())?;
    count(
        "subscriptions",
        limits.subscriptions,
        info.subscriptions.len(),
    )?;
    text(|| "the title".into(), &info.title, limits.title_bytes)?;
    text(
        || "the description".into(),
        &info.description,
        limits.description_bytes,
    )?;
    text(|| "the version".into(), &info.version, limits.version_bytes)?;
    // Names are checked for their alphabet by `load::manifest_from`; here
    // only their help lines, which are free text.
    for c in &info.commands {
        text(
            || format!("the help of command {}", shown(&c.name)),
            &c.description,
            limits.help_bytes,
        )?;
    }
    for a in &info.actions {
        text(
            || format!("the help of action {}", shown(&a.name)),
            &a.description,
            limits.help_bytes,
        )?;
    }
    Ok(())
}

/// Check the typed options of an app's commands (`Err` says which and why).
pub fn check_commands(commands: &[qun_blocks::CommandSpec]) -> Result<(), String> {
    qun_blocks::check_app_commands(commands).map_err(|e| e.to_string())
}

/// The subscriptions' stored names, each once, in a stable order.
pub fn subscription_names(subscriptions: &[handler::Subscription]) -> Vec<String> {
    let mut names: Vec<String> = subscriptions
        .iter()
        .map(|s| match s {
            handler::Subscription::MessagePosted => "message-posted".to_string(),
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use handler::{ActionSpec, AppInfo, CommandSpec, Subscription};

    fn info() -> AppInfo {
        AppInfo {
            name: "demo".into(),
            title: "Demo".into(),
            version: "1.0.0".into(),
            description: "A demo.".into(),
            commands: vec![CommandSpec {
                name: "demo".into(),
                description: "Run the demo.".into(),
                options: Vec::new(),
            }],
            actions: vec![ActionSpec {
                name: "go".into(),
                description: String::new(),
            }],
            subscriptions: vec![Subscription::MessagePosted],
        }
    }

    #[test]
    fn a_small_manifest_passes() {
        assert_eq!(check(&info(), &MANIFEST_LIMITS), Ok(()));
    }

    #[test]
    fn counts_are_limited_and_named() {
        let mut big = info();
        big.commands = (0..50_000)
            .map(|i| CommandSpec {
                name: format!("c{i}"),
                description: String::new(),
                options: Vec::new(),
            })
            .collect();
        let err = check(&big, &MANIFEST_LIMITS).unwrap_err();
        assert_eq!(
            err,
            ManifestLimit::TooMany {
                what: "commands",
                limit: 32,
                actual: 50_000
            }
        );
        assert!(err.to_string().contains("50000 commands"), "{err}");

        let mut subs = info();
        subs.subscriptions = vec![Subscription::MessagePosted; 1_000_000];
        assert!(matches!(
            check(&subs, &MANIFEST_LIMITS),
            Err(ManifestLimit::TooMany {
                what: "subscriptions",
                actual: 1_000_000,
                ..
            })
        ));
    }

    #[test]
    fn texts_are_short_and_plain() {
        let mut long = info();
        long.title = "x".repeat(101);
        assert!(matches!(
            check(&long, &MANIFEST_LIMITS),
            Err(ManifestLimit::TooLong {
                limit: 100,
                actual: 101,
                ..
            })
        ));
        for bad in ["Poll\u{1b}[31m", "a\nb", "nul\0"] {
            let mut ctl = info();
            ctl.commands[0].description = bad.into();
            let err = check(&ctl, &MANIFEST_LIMITS).unwrap_err();
            assert!(
                matches!(err, ManifestLimit::ControlCharacter { .. }),
                "{bad:?}: {err}"
            );
            assert!(err.to_string().contains("\"demo\""), "{err}");
        }
    }

    #[test]
    fn subscriptions_are_deduplicated() {
        assert_eq!(
            subscription_names(&[Subscription::MessagePosted, Subscription::MessagePosted]),
            vec!["message-posted".to_string()]
        );
    }
}
