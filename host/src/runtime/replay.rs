//! Replay records (issue 16): when an invocation fails (a trap, a timeout,
//! memory, an error the app returned, an answer the host refused, a bound
//! it ran into), the host keeps what it was asked, the context, and its
//! tape (`runtime::tape`): every capability call with the host's answer,
//! the clock readings and the random seeds. A developer fetches the record
//! and runs a component against it with [`Runtime::replay`], the same
//! runtime code the host runs apps with: calls are answered from the
//! record, so the failure comes back the same, and the report says where a
//! run first departs from the record.
//!
//! Records hold what the app was given, nothing more; only the app's
//! developer and platform admins read them (`http::replays`). Per
//! installation at most one is written per `replay_interval`, the newest
//! `replay_records` are kept, none longer than `replay_retention`.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::effects::Identity;
use super::invoke::{Answer, Call, InvokeError};
use super::load::LoadError;
use super::tape::{Played, Recording, Tape};
use super::{Runtime, RuntimeConfig, RuntimeError};
use crate::capabilities::Capability;
use crate::limits::Limits;
use crate::store::{LogLine, Store, StoreError};

/// The format of a record, as its `format` says.
pub const FORMAT: &str = "qun-replay/1";

/// Why the recorded invocation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The error code (`trap`, `timeout`, `app_error`, ...).
    pub code: String,
    /// Its message.
    pub message: String,
}

/// One line the app wrote (its log, stdout, stderr, the failure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// `info`, `stdout`, `failure`, ...
    pub level: String,
    /// The text.
    pub message: String,
}

/// The bounds the invocation ran under (a replay runs under the same).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedLimits {
    /// The deadline, ms.
    pub deadline_ms: u64,
    /// The memory cap, bytes.
    pub memory_bytes: usize,
    /// The `capability_calls` cap.
    pub capability_calls: u64,
}

/// Everything needed to run a failed invocation again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplayRecord {
    /// [`FORMAT`].
    pub format: String,
    /// Id (`rp_...`).
    pub id: String,
    /// When it failed (ms since the epoch).
    pub created_at: i64,
    /// The app.
    pub app_slug: String,
    /// The version that ran.
    pub app_version: String,
    /// sha256 of the component that ran.
    pub sha256: String,
    /// The contract it was built against (`0.1.0`, `0.2.0`).
    pub contract: String,
    /// Where it ran.
    pub installation_id: String,
    /// The group.
    pub group_id: String,
    /// The member it ran for.
    pub actor: Option<String>,
    /// The invocation's id (the context's `invocation-id`).
    pub invocation_id: String,
    /// What the member was shown (`inc_...`).
    pub incident: String,
    /// How it failed.
    pub failure: Failure,
    /// What the app was asked.
    pub call: Call,
    /// The context's `now`.
    pub now: i64,
    /// The group's time zone.
    pub time_zone: String,
    /// The group's locale.
    pub locale: String,
    /// The capabilities granted.
    pub grants: Vec<Capability>,
    /// Storage use when it started (bytes, keys).
    pub usage: (i64, i64),
    /// The bounds it ran under.
    pub limits: RecordedLimits,
    /// The lines it wrote.
    pub log: Vec<Line>,
    /// Calls, clocks and seeds.
    pub tape: Recording,
}

/// A record as listed: who, when, why, how big.
#[derive(Debug, Clone)]
pub struct ReplaySummary {
    /// Id.
    pub id: String,
    /// When.
    pub created_at: i64,
    /// The app.
    pub app_slug: String,
    /// Version.
    pub app_version: String,
    /// Installation.
    pub installation_id: String,
    /// Group.
    pub group_id: String,
    /// Incident id the member saw.
    pub incident: String,
    /// Error code.
    pub code: String,
    /// Error message.
    pub message: String,
    /// Capability calls recorded.
    pub calls: i64,
    /// Bytes of the record.
    pub size: i64,
}

/// What the runtime has to say about a failed invocation to keep it.
pub(crate) struct FailedRun<'a> {
    pub ident: &'a Identity,
    pub sha256: &'a str,
    pub contract: &'a str,
    pub invocation_id: &'a str,
    pub call: &'a Call,
    pub now: i64,
    pub clock: &'a (String, String),
    pub grants: &'a HashSet<Capability>,
    pub usage: (i64, i64),
    pub error: &'a InvokeError,
    pub logs: &'a [LogLine],
}

impl InvokeError {
    /// Whether a replay can show the developer this failure: the app's own
    /// doing, not the host's state.
    pub fn is_replayable(&self) -> bool {
        matches!(
            self,
            InvokeError::Timeout(_)
                | InvokeError::MemoryLimit(_)
                | InvokeError::StackOverflow
                | InvokeError::Trap(_)
                | InvokeError::App(_)
                | InvokeError::BadAnswer(_)
                | InvokeError::InvalidResponse(_)
                | InvokeError::CapabilityCalls(_)
                | InvokeError::EffectsLimit(_)
                | InvokeError::DmQuota(_)
        )
    }
}

impl ReplayRecord {
    /// The record of `run`, with its tape.
    pub(crate) fn new(run: FailedRun<'_>, tape: Recording, limits: &Limits) -> ReplayRecord {
        let mut grants: Vec<Capability> = run.grants.iter().copied().collect();
        grants.sort();
        ReplayRecord {
            format: FORMAT.into(),
            id: crate::store::new_id("rp"),
            created_at: crate::store::now_ms(),
            app_slug: run.ident.app_slug.clone(),
            app_version: run.ident.app_version.clone(),
            sha256: run.sha256.to_string(),
            contract: run.contract.to_string(),
            installation_id: run.ident.installation_id.clone(),
            group_id: run.ident.group_id.clone(),
            actor: run.ident.actor.clone(),
            invocation_id: run.invocation_id.to_string(),
            incident: crate::store::incident_id(run.invocation_id),
            failure: Failure {
                code: run.error.code().into(),
                message: run.error.to_string(),
            },
            call: run.call.clone(),
            now: run.now,
            time_zone: run.clock.0.clone(),
            locale: run.clock.1.clone(),
            grants,
            usage: run.usage,
            limits: RecordedLimits {
                deadline_ms: u64::try_from(limits.deadline.as_millis()).unwrap_or(u64::MAX),
                memory_bytes: limits.memory_bytes,
                capability_calls: limits.capability_calls,
            },
            log: run
                .logs
                .iter()
                .map(|l| Line {
                    level: l.level.clone(),
                    message: l.message.clone(),
                })
                .collect(),
            tape,
        }
    }

    /// Its summary, as listed.
    pub fn summary(&self, size: usize) -> ReplaySummary {
        ReplaySummary {
            id: self.id.clone(),
            created_at: self.created_at,
            app_slug: self.app_slug.clone(),
            app_version: self.app_version.clone(),
            installation_id: self.installation_id.clone(),
            group_id: self.group_id.clone(),
            incident: self.incident.clone(),
            code: self.failure.code.clone(),
            message: self.failure.message.clone(),
            calls: self.tape.calls.len() as i64,
            size: size as i64,
        }
    }
}

/// Per installation, when its last record was written (the throttle).
#[derive(Default)]
pub(crate) struct Throttle(std::sync::Mutex<HashMap<String, Instant>>);

/// New replay records an app may get per `replay_interval`, over all its
/// installations (each installation: one).
const RECORDS_PER_APP_PER_INTERVAL: u32 = 4;

impl Throttle {
    /// Whether `installation` of `app` may have a record now (and note that
    /// it has): one per installation per `interval`, and
    /// [`RECORDS_PER_APP_PER_INTERVAL`] per app (an app failing in many
    /// groups at once writes a few records a second, not one per group).
    fn admit(&self, app: &str, installation: &str, interval: std::time::Duration) -> bool {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let app_key = format!("\0app/{app}");
        let app_interval = interval / RECORDS_PER_APP_PER_INTERVAL;
        let recent = |key: &str, within: std::time::Duration| {
            last.get(key)
                .is_some_and(|at| now.duration_since(*at) < within)
        };
        if recent(installation, interval) || recent(&app_key, app_interval) {
            return false;
        }
        if last.len() > 10_000 {
            last.retain(|_, at| now.duration_since(*at) < interval);
        }
        last.insert(installation.to_string(), now);
        last.insert(app_key, now);
        true
    }
}

impl Runtime {
    /// The replay record of a failed invocation, if it is one to keep (the
    /// app's failure, the installation's first in `replay_interval`).
    pub(crate) fn replay_record(
        &self,
        run: FailedRun<'_>,
        tape: &mut Tape,
    ) -> Option<(ReplayRecord, String)> {
        let limits = self.limits();
        if !run.error.is_replayable() || limits.replay_records == 0 {
            return None;
        }
        let recording = tape.take_recording()?;
        if !self.inner.replays.admit(
            &run.ident.app_slug,
            &run.ident.installation_id,
            limits.replay_interval,
        ) {
            return None;
        }
        let record = ReplayRecord::new(run, recording, limits);
        let body = serde_json::to_string(&record).ok()?;
        Some((record, body))
    }
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// Not a record this host understands.
    #[error("this is not a replay record of format {FORMAT}: {0}")]
    Format(String),
    /// The component was refused.
    #[error("the component could not be loaded: {0}")]
    Load(#[from] LoadError),
    /// The local runtime could not start.
    #[error("{0}")]
    Runtime(#[from] RuntimeError),
    /// The scratch database could not be opened.
    #[error("could not open a scratch database for the replay: {0}")]
    Store(#[from] StoreError),
}

/// How a replay ended, beside how the recorded run ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplayReport {
    /// The record's id.
    pub record: String,
    /// sha256 of the component replayed.
    pub sha256: String,
    /// Whether it is the build that failed.
    pub same_build: bool,
    /// How the recorded run ended.
    pub recorded: Failure,
    /// How this run ended: `None` when it succeeded.
    pub failure: Option<Failure>,
    /// What it answered when it succeeded (JSON).
    pub answer: Option<serde_json::Value>,
    /// Whether it failed exactly as recorded (code and message).
    pub reproduced: bool,
    /// Capability calls in the record.
    pub calls_recorded: usize,
    /// Whether the record's calls were cut (`replay_bytes`).
    pub record_cut: bool,
    /// How the run went against the record.
    #[serde(flatten)]
    pub played: Played,
    /// What it wrote (log, stdout, stderr, the failure).
    pub log: Vec<Line>,
    /// What it wrote in the recorded run.
    pub recorded_log: Vec<Line>,
}

impl ReplayRecord {
    /// Read a record, checking its format.
    pub fn parse(json: &str) -> Result<ReplayRecord, ReplayError> {
        let record: ReplayRecord =
            serde_json::from_str(json).map_err(|e| ReplayError::Format(e.to_string()))?;
        if record.format != FORMAT {
            return Err(ReplayError::Format(format!(
                "its format is {:?}",
                record.format
            )));
        }
        Ok(record)
    }
}

impl Runtime {
    /// A runtime to replay `record` on this machine: the bounds the
    /// invocation ran under, over a scratch SQLite database in `scratch`
    /// (nothing is read from it: every call is answered from the record).
    pub async fn for_replay(
        record: &ReplayRecord,
        scratch: &std::path::Path,
    ) -> Result<Runtime, ReplayError> {
        let store = Store::open_sqlite(&scratch.join("replay.db")).await?;
        let limits = Limits {
            deadline: std::time::Duration::from_millis(record.limits.deadline_ms),
            memory_bytes: record.limits.memory_bytes,
            capability_calls: record.limits.capability_calls,
            ..Limits::default()
        };
        Ok(Runtime::new(
            store,
            RuntimeConfig {
                limits,
                cache_dir: None,
            },
        )?)
    }

    /// Run `wasm` against `record`: the same call, context, grants and
    /// bounds; every capability call, clock reading and random number
    /// answered from the record. Nothing is committed anywhere.
    pub async fn replay(
        &self,
        wasm: &[u8],
        record: &ReplayRecord,
    ) -> Result<ReplayReport, ReplayError> {
        let app = self.load(wasm).await?;
        let ident = Identity {
            group_id: record.group_id.clone(),
            installation_id: record.installation_id.clone(),
            app_slug: record.app_slug.clone(),
            app_version: record.app_version.clone(),
            actor: record.actor.clone(),
        };
        let grants: HashSet<Capability> = record.grants.iter().copied().collect();
        let (result, mut state) = self
            .attempt(
                &app,
                &ident,
                &grants,
                &record.call,
                &record.invocation_id,
                &(record.time_zone.clone(), record.locale.clone()),
                record.usage,
                record.now,
                Tape::replaying(&record.tape),
            )
            .await;
        state.drain_stdio();
        let result = match result {
            _ if state.calls.exceeded() => Err(InvokeError::CapabilityCalls(state.calls.limit())),
            other => other,
        };
        let played = state.tape.played().unwrap_or_default();
        let (failure, answer) = match &result {
            Ok((answer, _)) => (None, Some(answer_json(answer))),
            Err(e) => (
                Some(Failure {
                    code: e.code().into(),
                    message: e.to_string(),
                }),
                None,
            ),
        };
        if let Some(f) = &failure {
            state.push_log("failure", f.message.clone(), Vec::new());
        }
        Ok(ReplayReport {
            record: record.id.clone(),
            same_build: app.sha256 == record.sha256,
            sha256: app.sha256.clone(),
            reproduced: failure.as_ref() == Some(&record.failure),
            recorded: record.failure.clone(),
            failure,
            answer,
            calls_recorded: record.tape.calls.len(),
            record_cut: record.tape.cut,
            played,
            log: state
                .logs
                .iter()
                .map(|l| Line {
                    level: l.level.clone(),
                    message: l.message.clone(),
                })
                .collect(),
            recorded_log: record.log.clone(),
        })
    }
}

/// An answer as JSON, for the report.
fn answer_json(answer: &Answer) -> serde_json::Value {
    match answer {
        Answer::Response(r) => serde_json::json!({ "response": r }),
        Answer::Action { data, response } => {
            serde_json::json!({ "data": data, "response": response })
        }
        Answer::Event => serde_json::json!({ "event": "handled" }),
    }
}
