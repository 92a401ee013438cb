//! One invocation of an installed app: a fresh instance from the cached
//! `InstancePre`, a host-filled context, deadlines and memory caps, and an
//! atomic commit of its effects (re-run when its reads went stale).

use std::collections::HashSet;
use std::sync::Arc;
use wasmtime::Trap;

use qun_blocks::{NamedValue, Response, Value};

use super::effects::{self, CommitError, Identity, OutMessage};
use super::load::{AppPre, LoadError, LoadedApp, sha256_hex};
use super::replay::{FailedRun, ReplayRecord};
use super::tape::Tape;
use super::{InvocationState, Runtime};
use super::{checks, engine, executor, pool};
use crate::capabilities::{
    Capability, Error, error_code, error_message, handler, named_value_to_wit, response_from_wit,
    types, v0_1,
};
use crate::store::{AuditRecord, LogLine, StoreError, now_ms};

/// What the host asks an app to do.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    /// `/name args` typed in the group (or the command's form submitted).
    Command {
        /// The command word.
        name: String,
        /// Everything after it, trimmed.
        args: String,
        /// The declared options the member gave, typed and checked.
        options: Vec<NamedValue>,
    },
    /// A button click, menu choice, member picked, or API call.
    Action {
        /// The action's name.
        name: String,
        /// JSON payload.
        payload: String,
        /// The option chosen in a select menu, or the member picked.
        value: Option<Value>,
        /// The message the element was on; `None` for API calls.
        message_id: Option<i64>,
    },
    /// A form the app opened, submitted and checked by the host.
    Submit {
        /// The form's `callback`.
        callback: String,
        /// The form's `state`, unchanged.
        state: String,
        /// The inputs' checked values (empty inputs absent).
        values: Vec<NamedValue>,
        /// 1 for a first form, one more for each next form.
        step: u8,
    },
    /// Something happened in the group.
    Event(handler::Event),
}

/// One invocation request.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The installation to run.
    pub installation_id: String,
    /// The member it runs for (checked to be a member of the group).
    pub actor: Option<String>,
    /// What to run.
    pub call: Call,
    /// A stable id for de-duplication (events); generated when `None`.
    pub invocation_id: Option<String>,
}

/// What the app answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// What a command or a submitted form answered. A `Post` is already
    /// posted to the group and a `Private` reply stored for the actor (see
    /// [`Outcome::posted`] and [`Outcome::private`]); a `Form` or
    /// `FieldErrors` is for the caller to show.
    Response(Response),
    /// What an action answered.
    Action {
        /// A JSON document for API callers ("" for none).
        data: String,
        /// What the member who acted sees (committed as for [`Answer::Response`]).
        response: Response,
    },
    /// An event was handled.
    Event,
}

/// A successful, committed invocation.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The app's answer.
    pub answer: Answer,
    /// Ids of the group messages it posted (its reply included).
    pub posted: Vec<i64>,
    /// Ids of the messages it updated or deleted.
    pub changed: Vec<i64>,
    /// Its private replies: (message id, the member who sees it).
    pub private: Vec<(i64, String)>,
    /// How many times it ran (more than one after conflicts).
    pub attempts: u32,
}

/// Why an invocation did not commit. Nothing it tried to change was kept.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// No such installation.
    #[error("installation {0} does not exist")]
    NoInstallation(String),
    /// The installation is disabled.
    #[error("this app is disabled in this group")]
    Disabled,
    /// A platform admin suspended the app everywhere.
    #[error("this app is suspended by the platform: {0}")]
    Suspended(String),
    /// The actor is not a member of the installation's group.
    #[error("{0} is not a member of this group")]
    NotMember(String),
    /// Input to the app was too large or malformed.
    #[error("{0}")]
    BadInput(String),
    /// The app ran past its deadline.
    #[error("the app did not finish within {0} ms and was stopped")]
    Timeout(u128),
    /// The app grew its memory past the cap.
    #[error("the app tried to use more than its {0} bytes of memory and was stopped")]
    MemoryLimit(usize),
    /// The app recursed too deeply.
    #[error("the app overflowed its stack and was stopped")]
    StackOverflow,
    /// The app trapped (panicked, hit `unreachable`, ...).
    #[error("the app crashed: {0}")]
    Trap(String),
    /// The app returned an error.
    #[error("the app refused: {} ({})", error_message(.0), error_code(.0))]
    App(Error),
    /// The app's answer broke a limit.
    #[error("{0}")]
    BadAnswer(String),
    /// Committing would exceed a quota.
    #[error("{0}")]
    Quota(String),
    /// Its storage kept changing under it.
    #[error("the app's data kept changing during {0} attempts; try again")]
    Conflict(u32),
    /// The stored component could not be loaded.
    #[error("the app version could not be loaded: {0}")]
    Load(#[from] LoadError),
    /// The stored bytes do not hash to the recorded sha256.
    #[error(
        "the stored component of {0} does not match the sha256 it was uploaded with; refusing to run it"
    )]
    Tampered(String),
    /// The database failed.
    #[error("internal error: {0}")]
    Store(#[from] StoreError),
    /// Something else in the host failed.
    #[error("internal error: {0}")]
    Internal(String),
    // Issue 10 item 2 (audit helper).
    /// The app made more capability calls than one invocation may.
    #[error(
        "the app made more than {0} capability calls in one invocation (the `capability_calls` limit) and was stopped; nothing it did was kept"
    )]
    CapabilityCalls(u64),
    // --- issue 10, items 1, 6, 7 and 8 (runtime) ---
    /// The installation or its group already runs its share of invocations;
    /// this one waited its turn and was refused (not the app's fault).
    #[error("{0}")]
    Busy(String),
    /// The host's instance pool stayed full (not the app's fault).
    #[error("the host is busy running other apps; try again in a moment")]
    HostBusy,
    /// The invocation buffered more effects than allowed.
    #[error("{0}")]
    EffectsLimit(String),
    /// The app sent more direct messages than allowed.
    #[error("{0}")]
    DmQuota(String),
    /// What the invocation started from changed before its commit (the
    /// installation was removed or disabled, or a grant its effects need
    /// was revoked); nothing it did was kept.
    #[error("the app's changes were dropped: {0}")]
    EffectsDropped(String),
    // --- issue 13 (qun:app@0.2.0) ---
    /// The app answered with a message or form that breaks the rules
    /// (limits, undeclared actions, a form where none may be opened).
    #[error("the app's response is invalid: {0}")]
    InvalidResponse(String),
    /// The call is not part of the contract the app is built against.
    #[error("{0}")]
    Unsupported(String),
}

impl InvokeError {
    /// A short stable code for APIs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            InvokeError::NoInstallation(_) => "not_installed",
            InvokeError::Disabled => "disabled",
            InvokeError::Suspended(_) => "suspended",
            InvokeError::NotMember(_) => "not_member",
            InvokeError::BadInput(_) => "invalid",
            InvokeError::Timeout(_) => "timeout",
            InvokeError::MemoryLimit(_) => "memory_limit",
            InvokeError::StackOverflow => "stack_overflow",
            InvokeError::Trap(_) => "trap",
            InvokeError::App(_) => "app_error",
            InvokeError::BadAnswer(_) => "bad_answer",
            InvokeError::Quota(_) => "quota_exceeded",
            InvokeError::Conflict(_) => "conflict",
            InvokeError::Load(_) => "load_failed",
            InvokeError::Tampered(_) => "tampered",
            InvokeError::Store(_) | InvokeError::Internal(_) => "internal",
            // Issue 10 item 2 (audit helper).
            InvokeError::CapabilityCalls(_) => "capability_calls",
            InvokeError::Busy(_) => "busy",
            InvokeError::HostBusy => "host_busy",
            InvokeError::EffectsLimit(_) => "effects_limit",
            InvokeError::DmQuota(_) => "dm_quota",
            InvokeError::EffectsDropped(_) => "effects_dropped",
            InvokeError::InvalidResponse(_) => "invalid_response",
            InvokeError::Unsupported(_) => "unsupported",
        }
    }

    /// Whether the app itself failed (trap, timeout, memory): what health checks count.
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            InvokeError::Timeout(_)
                | InvokeError::MemoryLimit(_)
                | InvokeError::StackOverflow
                | InvokeError::Trap(_)
        )
    }
}

impl Runtime {
    /// The loaded app for a stored version, checking its bytes against the
    /// sha256 recorded at upload.
    pub async fn app_version(
        &self,
        slug: &str,
        version: &str,
    ) -> Result<Arc<LoadedApp>, InvokeError> {
        let db = self.store();
        let stored = db.version_cached(slug, version).await?;
        let Some(stored) = stored else {
            return Err(InvokeError::Internal(format!(
                "app {slug} has no version {version}"
            )));
        };
        if let Some(app) = self.cached(&stored.sha256) {
            return Ok(app);
        }
        let Some((bytes, sha256)) = db.version_wasm(slug, version).await? else {
            return Err(InvokeError::Internal(format!(
                "app {slug} has no version {version}"
            )));
        };
        if sha256_hex(&bytes) != sha256 {
            tracing::error!(app = %slug, version = %version, expected = %sha256,
                "the stored component does not hash to the sha256 it was reviewed with; refusing to run it");
            return Err(InvokeError::Tampered(format!("{slug} {version}")));
        }
        // A full pool while describing is the host's state, not the app's.
        self.load_stored(&bytes, sha256, &stored.manifest)
            .await
            .map_err(|e| match e {
                LoadError::HostBusy => InvokeError::HostBusy,
                e => InvokeError::Load(e),
            })
    }

    /// Run one invocation to completion: commit its effects, or keep nothing.
    pub async fn invoke(&self, invocation: Invocation) -> Result<Outcome, InvokeError> {
        self.invoke_delivering(invocation, None).await
    }

    /// [`Runtime::invoke`], and when `event` is given, mark that outbox event
    /// delivered in the transaction that commits the effects (nothing is
    /// committed if it was delivered or parked meanwhile).
    ///
    /// Guest code runs on the guest executor, never on the caller's (HTTP)
    /// threads; the database work before and after it stays here.
    pub(crate) async fn invoke_delivering(
        &self,
        invocation: Invocation,
        event: Option<i64>,
    ) -> Result<Outcome, InvokeError> {
        let started = std::time::Instant::now();
        let mut version = None;
        let installation_id = invocation.installation_id.clone();
        let result = self.invoke_counted(invocation, event, &mut version).await;
        if let Some((slug, version)) = version {
            self.inner
                .stats
                .record(&slug, &version, result.is_err(), started.elapsed());
            self.count_for_rollout(&slug, &version, &installation_id, &result)
                .await;
        }
        result
    }

    /// Count an invocation of an app with an active rollout (issue 16) on
    /// the side of the version that ran; the rollout rolls back on its own
    /// when the new version faults too often. Failures the app did not
    /// cause (busy, disabled, not a member, ...) are not counted.
    async fn count_for_rollout(
        &self,
        slug: &str,
        version: &str,
        installation_id: &str,
        result: &Result<Outcome, InvokeError>,
    ) {
        use crate::store::RolloutOutcome;
        let outcome = match result {
            Ok(_) => RolloutOutcome::Ok,
            Err(e) if e.is_fault() => RolloutOutcome::Fault,
            Err(
                InvokeError::App(_)
                | InvokeError::BadAnswer(_)
                | InvokeError::Quota(_)
                | InvokeError::Load(_)
                | InvokeError::CapabilityCalls(_)
                | InvokeError::EffectsLimit(_)
                | InvokeError::DmQuota(_)
                | InvokeError::InvalidResponse(_),
            ) => RolloutOutcome::Error,
            Err(_) => return,
        };
        let db = self.store();
        let active = match db.active_rollout_cached(slug).await {
            Ok(Some(active)) => active,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(app = %slug, "could not read the active rollout: {e}");
                return;
            }
        };
        match db
            .count_rollout_invocation(&active, installation_id, version, outcome)
            .await
        {
            Ok(Some(reason)) => {
                tracing::warn!(app = %slug, rollout = %active.id, "{reason}");
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(app = %slug, rollout = %active.id, "could not count an invocation: {e}");
            }
        }
    }

    /// [`Runtime::invoke_delivering`]; `version` is set to the app and
    /// version once the installation is read.
    async fn invoke_counted(
        &self,
        invocation: Invocation,
        event: Option<i64>,
        version: &mut Option<(String, String)>,
    ) -> Result<Outcome, InvokeError> {
        let db = self.store();
        // From the cache (`store::cache`): a change made on any host drops
        // it; the commit re-reads the installation, its grants and the
        // suspension under the installation's lock all the same.
        let inst = db
            .installation_cached(&invocation.installation_id)
            .await?
            .ok_or_else(|| InvokeError::NoInstallation(invocation.installation_id.clone()))?;
        *version = Some((inst.app_slug.clone(), inst.version.clone()));
        if !inst.enabled {
            return Err(InvokeError::Disabled);
        }
        // Read with the installation, so a suspension holds from the next
        // request on, on every host sharing the database.
        if let Some(reason) = inst.app_suspended.clone() {
            return Err(InvokeError::Suspended(reason));
        }
        if let Some(actor) = &invocation.actor
            && db.member(&inst.group_id, actor).await?.is_none()
        {
            return Err(InvokeError::NotMember(actor.clone()));
        }
        // An action's payload is JSON; a form's state is JSON or empty.
        let payload = match &invocation.call {
            Call::Action { payload, .. } => Some((payload, "the action payload")),
            Call::Submit { state, .. } if !state.is_empty() => Some((state, "the form state")),
            _ => None,
        };
        if let Some((payload, what)) = payload {
            if payload.len() > self.limits().payload_bytes {
                return Err(InvokeError::BadInput(format!(
                    "{what} is {} bytes; the limit is {}",
                    payload.len(),
                    self.limits().payload_bytes
                )));
            }
            if serde_json::from_str::<serde_json::Value>(payload).is_err() {
                return Err(InvokeError::BadInput(format!("{what} is not valid JSON")));
            }
        }
        // Wait for this installation's and this group's turn (fairness).
        let _turn = self
            .inner
            .admission
            .admit(&inst.group_id, &inst.id)
            .await
            .map_err(|crowded| {
                InvokeError::Busy(match crowded {
                    pool::Crowded::Installation(n) => format!(
                        "this app already runs {n} invocations in this group; try again in a moment"
                    ),
                    pool::Crowded::Group(n) => format!(
                        "the apps of this group already run {n} invocations; try again in a moment"
                    ),
                })
            })?;
        let app = self.app_version(&inst.app_slug, &inst.version).await?;
        if matches!(app.pre, AppPre::V0_1(_)) && matches!(invocation.call, Call::Submit { .. }) {
            return Err(InvokeError::Unsupported(
                "this app is built against qun:app@0.1.0, which has no forms".into(),
            ));
        }
        let grants = self.grants(&app, &inst.grants);
        let clock = (inst.time_zone.clone(), inst.locale.clone());
        let ident = Identity {
            group_id: inst.group_id.clone(),
            installation_id: inst.id.clone(),
            app_slug: inst.app_slug.clone(),
            app_version: inst.version.clone(),
            actor: invocation.actor.clone(),
        };
        let invocation_id = invocation
            .invocation_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let serial = self.serial_lock(&inst.id);
        let retries = self.limits().conflict_retries.max(1);
        // Calls of attempts re-run after a conflict, summarised with the next.
        let mut carried = None;

        for attempt in 1..=retries {
            // First try optimistically; after a conflict, queue behind the other
            // re-runs of this installation so the retry is likely to commit.
            // A first try that finds re-runs under way waits for those queued
            // before it (without holding their turn), so a stream of new
            // invocations cannot keep invalidating a re-run's reads until it
            // runs out of attempts.
            let _turn = if attempt > 1 {
                Some(serial.clone().lock_owned().await)
            } else {
                if serial.try_lock().is_err() {
                    drop(serial.lock().await);
                }
                None
            };
            // A re-run starts from the use the commits before it left (this
            // host's cache follows its own commits; the commit checks the
            // quotas again under the lock, whichever host wrote last).
            let usage = if attempt == 1 {
                (inst.storage_bytes, inst.storage_keys)
            } else {
                db.installation_cached(&inst.id)
                    .await?
                    .map(|i| (i.storage_bytes, i.storage_keys))
                    .unwrap_or((0, 0))
            };
            let started_at = now_ms();
            let (result, mut state) = {
                let (this, app, ident, grants) =
                    (self.clone(), app.clone(), ident.clone(), grants.clone());
                let (call, invocation_id) = (invocation.call.clone(), invocation_id.clone());
                let clock = clock.clone();
                // No tape at all when no record would be kept.
                let tape = if self.limits().replay_records == 0 {
                    Tape::Off
                } else {
                    Tape::recording(self.limits().replay_bytes)
                };
                executor::run(self.limits().guest_threads, async move {
                    this.attempt(
                        &app,
                        &ident,
                        &grants,
                        &call,
                        &invocation_id,
                        &clock,
                        usage,
                        started_at,
                        tape,
                    )
                    .await
                })
                .await
            };
            state.drain_stdio();
            // What its lines may cost the shared writer this minute.
            self.inner.log_budget.apply(
                &ident.installation_id,
                &mut state.logs,
                self.limits().log_lines_per_minute,
            );
            state.calls.carry(carried.take());
            // Past the call cap nothing is kept, whatever the app answered.
            let result = match result {
                _ if state.calls.exceeded() => {
                    Err(InvokeError::CapabilityCalls(state.calls.limit()))
                }
                other => other,
            };
            // What the member who acted sees, committed with the rest (a
            // private reply needs someone to see it).
            let result = result.and_then(|(answer, card)| {
                let private_to = match (&answer, &ident.actor) {
                    (
                        Answer::Response(Response::Private { .. })
                        | Answer::Action {
                            response: Response::Private { .. },
                            ..
                        },
                        None,
                    ) => {
                        return Err(InvokeError::InvalidResponse(
                            "a private reply needs a member who acted".into(),
                        ));
                    }
                    (_, actor) => actor.clone(),
                };
                Ok((answer, card, private_to))
            });
            // Files a reply shows must be the app's own (issue 17).
            let result = match result {
                Ok((answer, card, private_to)) => {
                    let shown = match &answer {
                        Answer::Response(
                            Response::Post { message } | Response::Private { message },
                        )
                        | Answer::Action {
                            response: Response::Post { message } | Response::Private { message },
                            ..
                        } if message.files().next().is_some() => Some(message.clone()),
                        _ => None,
                    };
                    match shown {
                        Some(message) => match state.check_shown_files(&message).await {
                            Ok(()) => Ok((answer, card, private_to)),
                            Err(e) => Err(InvokeError::InvalidResponse(
                                crate::capabilities::error_message(&e),
                            )),
                        },
                        None => Ok((answer, card, private_to)),
                    }
                }
                Err(e) => Err(e),
            };
            let (answer, card, private_to) = match result {
                Ok(answer) => answer,
                // A failure after a read from this host's cache counts only
                // if that read was not stale (another host may have changed
                // the key): otherwise it runs again, as after a conflict.
                Err(_)
                    if !state.effects.cached_reads.is_empty()
                        && matches!(
                            effects::check_reads(db, &state.ident, &state.effects).await,
                            Err(CommitError::Conflict)
                        ) =>
                {
                    carried = self
                        .conflicted(&state.ident, &state.effects, &state.calls, &state.logs)
                        .await;
                    continue;
                }
                Err(e) => {
                    state.push_log(
                        "failure",
                        e.to_string(),
                        vec![
                            ("code".into(), e.code().into()),
                            // What the member is shown instead (issue 11 item 8).
                            ("incident".into(), crate::store::incident_id(&invocation_id)),
                        ],
                    );
                    let audit = state.calls.records(&state.ident, Some(e.code()));
                    // What a developer needs to run it again (issue 16).
                    let replay = self.replay_record(
                        FailedRun {
                            ident: &ident,
                            sha256: &app.sha256,
                            contract: app.manifest.contract.as_str(),
                            invocation_id: &invocation_id,
                            call: &invocation.call,
                            now: started_at,
                            clock: &clock,
                            grants: &grants,
                            usage,
                            error: &e,
                            logs: &state.logs,
                        },
                        &mut state.tape,
                    );
                    self.persist_failure(&audit, &state.logs, replay).await;
                    if e.is_fault() {
                        self.record_fault(&inst, &e).await;
                    }
                    return Err(e);
                }
            };
            // The grants the effects need, before the reply (which needs none) joins them.
            state.effects.needs = effects::needed_grants(&state.effects);
            let response = match &answer {
                Answer::Response(r) | Answer::Action { response: r, .. } => Some(r),
                Answer::Event => None,
            };
            match response {
                Some(Response::Post { message }) => state.effects.messages.push(OutMessage {
                    id: None,
                    message: message.clone(),
                    card: card.clone(),
                    visible_to: None,
                }),
                Some(Response::Private { message }) => state.effects.messages.push(OutMessage {
                    id: None,
                    message: message.clone(),
                    card: None,
                    visible_to: private_to.clone(),
                }),
                _ => {}
            }
            state.effects.delivers = event;
            let hook = self
                .inner
                .before_commit
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if let Some(hook) = hook {
                hook(inst.id.clone()).await;
            }
            // One summary row (plus denials) in the invocation's own commit;
            // an invocation that only read opens no write transaction and
            // leaves its summary to the audit window (issue 12 item 1).
            let audit = state.calls.records(&state.ident, None);
            let committed = if effects::is_read_only(&state.effects, &state.logs)
                && !state.calls.has_denials()
            {
                effects::check_reads(db, &state.ident, &state.effects)
                    .await
                    .map(|()| {
                        if let Some(summary) = state.calls.summary(&state.ident, None) {
                            db.audit_window().add(summary);
                        }
                        effects::Committed::default()
                    })
            } else {
                effects::commit(
                    db,
                    &state.ident,
                    self.limits(),
                    &state.effects,
                    &audit,
                    &state.logs,
                )
                .await
            };
            match committed {
                Ok(done) => {
                    // What it wrote, as it is now stored.
                    for (key, value) in &state.effects.writes {
                        let row = match (done.clock, value) {
                            (Some(version), Some(value)) => Some(crate::store::KvRow {
                                key: key.clone(),
                                value: value.clone(),
                                version,
                            }),
                            _ => None,
                        };
                        db.kv_cache().wrote(&inst.id, key, row);
                    }
                    return Ok(Outcome {
                        answer,
                        posted: done.posted,
                        changed: done.changed,
                        private: done.private,
                        attempts: attempt,
                    });
                }
                Err(CommitError::Conflict) => {
                    carried = self
                        .conflicted(&state.ident, &state.effects, &state.calls, &state.logs)
                        .await;
                    tokio::task::yield_now().await;
                }
                Err(CommitError::Quota(message)) => {
                    state.push_log(
                        "failure",
                        message.clone(),
                        vec![("code".into(), "quota_exceeded".into())],
                    );
                    let audit = state.calls.records(&state.ident, Some("quota_exceeded"));
                    self.persist_diagnostics(&audit, &state.logs).await;
                    return Err(InvokeError::Quota(message));
                }
                Err(CommitError::Gone) => return Err(InvokeError::NoInstallation(inst.id.clone())),
                Err(CommitError::Delivered) => {
                    return Err(InvokeError::Internal(
                        "the event was delivered by another attempt".into(),
                    ));
                }
                Err(CommitError::Store(e)) => return Err(InvokeError::Store(e)),
                Err(CommitError::Dropped(reason)) => {
                    state.push_log(
                        "failure",
                        format!("the app's changes were dropped: {reason}"),
                        vec![("code".into(), "effects_dropped".into())],
                    );
                    let audit = state.calls.records(&state.ident, Some("effects_dropped"));
                    self.persist_diagnostics(&audit, &state.logs).await;
                    return Err(InvokeError::EffectsDropped(reason));
                }
                Err(CommitError::DmQuota(message)) => {
                    state.push_log(
                        "failure",
                        message.clone(),
                        vec![("code".into(), "dm_quota".into())],
                    );
                    let audit = state.calls.records(&state.ident, Some("dm_quota"));
                    self.persist_diagnostics(&audit, &state.logs).await;
                    return Err(InvokeError::DmQuota(message));
                }
            }
        }
        // Every attempt conflicted: the calls they made, in one failure row.
        if let Some(mut summary) = carried {
            summary.failure = Some("conflict".into());
            self.persist_diagnostics(&[summary.record()], &[]).await;
        }
        Err(InvokeError::Conflict(retries))
    }

    /// Count a sandbox failure towards the installation's health; past the
    /// threshold the installation is disabled (and says why).
    async fn record_fault(&self, inst: &crate::store::Installation, e: &InvokeError) {
        let limits = self.limits();
        let window = i64::try_from(limits.health_window.as_millis()).unwrap_or(i64::MAX);
        match self
            .store()
            .record_fault(inst, e.code(), &e.to_string(), limits.health_faults, window)
            .await
        {
            Ok(Some(reason)) => {
                tracing::warn!(installation = %inst.id, app = %inst.app_slug, "{reason}");
            }
            Ok(None) => {}
            Err(err) => tracing::error!("could not record a fault of {}: {err}", inst.id),
        }
    }

    /// An attempt read something that changed before it could count: the
    /// next attempt reads what it read from the database (this host's copy
    /// may be what was stale); its denials and logs are written now, and its
    /// calls go into the next attempt's summary (one row per invocation).
    async fn conflicted(
        &self,
        ident: &Identity,
        effects: &effects::Effects,
        calls: &crate::capabilities::call_log::CallLog,
        logs: &[LogLine],
    ) -> Option<crate::store::CallSummary> {
        let inst = ident.installation_id.as_str();
        let cache = self.store().kv_cache();
        cache.forget(inst, effects.reads.keys().map(String::as_str));
        cache.contended(inst, effects.cached_reads.iter().map(String::as_str));
        self.persist_diagnostics(calls.denials(), logs).await;
        calls.summary(ident, None)
    }

    /// Write an attempt's audit and log rows when its effects are not committed.
    async fn persist_diagnostics(&self, audit: &[AuditRecord], logs: &[LogLine]) {
        self.persist_failure(audit, logs, None).await;
    }

    /// [`Runtime::persist_diagnostics`] and, in the same transaction, the
    /// invocation's replay record (keeping the installation's newest ones).
    async fn persist_failure(
        &self,
        audit: &[AuditRecord],
        logs: &[LogLine],
        replay: Option<(ReplayRecord, String)>,
    ) {
        if audit.is_empty() && logs.is_empty() && replay.is_none() {
            return;
        }
        let db = self.store();
        let keep = (
            self.limits().replay_records,
            self.limits().replay_records_per_app,
        );
        let result = async {
            let mut tx = db.begin_write().await?;
            tx.insert_audit(audit).await?;
            tx.insert_logs(logs).await?;
            if let Some((record, body)) = &replay {
                tx.insert_replay(&record.summary(body.len()), body, keep)
                    .await?;
            }
            tx.commit().await
        }
        .await;
        if let Err(e) = result {
            tracing::error!("could not record an invocation's audit/log rows: {e}");
        }
    }

    /// One attempt: fresh instance, bounded call. Returns the state so the
    /// caller can commit or discard its effects.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn attempt(
        &self,
        app: &LoadedApp,
        ident: &Identity,
        grants: &HashSet<Capability>,
        call: &Call,
        invocation_id: &str,
        clock: &(String, String),
        usage: (i64, i64),
        now: i64,
        tape: Tape,
    ) -> (
        Result<(Answer, Option<serde_json::Value>), InvokeError>,
        InvocationState,
    ) {
        let limits = self.inner.limits.clone();
        // Wait for room in the pool before the clock starts: queueing is not
        // the app's time, and a full pool is not the app's fault.
        let permit = self.inner.pool.acquire(&app.needs).await;
        let mut store = self.sandbox(ident.clone(), grants.clone(), usage, tape);
        {
            let state = store.data_mut();
            state.declared_actions = app.actions.clone();
            state.time_zone = clock.0.clone();
            state.now = now;
            // Files a member gives the app here (checked by the host): it
            // may read them now, and holds them if it commits (issue 17).
            state.given_files = given_files(call);
            if grants.contains(&Capability::Files) {
                state.effects.files_held = state.given_files.iter().cloned().collect();
            }
        }
        let ctx = types::Context {
            group_id: ident.group_id.clone(),
            installation_id: ident.installation_id.clone(),
            actor: ident.actor.clone(),
            now,
            invocation_id: invocation_id.to_string(),
            time_zone: clock.0.clone(),
            locale: clock.1.clone(),
        };
        let Ok(permit) = permit else {
            return (Err(InvokeError::HostBusy), store.into_data());
        };
        // The epoch deadline stops guest code at the deadline; this outer
        // timeout also cuts a host call still under way shortly after it.
        let outer = limits.deadline + limits.deadline_grace;
        let (clock, started) = (store.data().clock.clone(), store.data().started);
        let run = async {
            match &app.pre {
                AppPre::V0_2(pre) => {
                    let instance = pre
                        .instantiate_async(&mut store)
                        .await
                        .map_err(|e| e.context(Instantiating))?;
                    call_v0_2(instance.qun_app_handler(), &mut store, &ctx, call).await
                }
                AppPre::V0_1(pre) => {
                    let instance = pre
                        .instantiate_async(&mut store)
                        .await
                        .map_err(|e| e.context(Instantiating))?;
                    call_v0_1(instance.qun_app_handler(), &mut store, &ctx, call).await
                }
            }
        };
        let result = engine::bounded(run, clock, started, outer).await;
        let memory_exceeded = store.data().limiter.exceeded;
        // The instance goes back to the pool with the store: drop it first,
        // then give the permit back.
        let state = store.into_data();
        drop(permit);
        let result = match result {
            Err(_elapsed) => Err(InvokeError::Timeout(limits.deadline.as_millis())),
            Ok(Err(trap)) => Err(classify_failure(&trap, memory_exceeded, &limits)),
            Ok(Ok(Err(app_error))) => {
                Err(InvokeError::App(cut_error(app_error, limits.error_bytes)))
            }
            Ok(Ok(Ok(guest))) => check_answer(guest, call, &app.actions, &limits),
        };
        // A bound the app ran into while buffering fails the whole invocation,
        // whatever the app made of the error it was given.
        let result = match (&state.limit_hit, result) {
            (Some(hit), Ok(_) | Err(InvokeError::App(_))) => Err(hit.to_error()),
            (_, result) => result,
        };
        (result, state)
    }

    /// Ask a freshly loaded app to describe itself, under the usual bounds,
    /// with no capability granted, holding a slot of the pool, on the guest
    /// executor.
    pub(crate) async fn describe(
        &self,
        pre: &AppPre,
        sha256: &str,
        needs: pool::Needs,
    ) -> Result<handler::AppInfo, LoadError> {
        let limits = self.inner.limits.clone();
        let permit = self
            .inner
            .pool
            .acquire(&needs)
            .await
            .map_err(|_| LoadError::HostBusy)?;
        let mut store = self.sandbox(
            Identity::nobody(&format!("upload:{sha256}"), ""),
            HashSet::new(),
            (0, 0),
            Tape::Off,
        );
        let pre = pre.clone();
        let bounds = limits.clone();
        let result = executor::run(limits.guest_threads, async move {
            let (clock, started) = (store.data().clock.clone(), store.data().started);
            let run = async {
                match &pre {
                    AppPre::V0_2(pre) => {
                        let app = pre.instantiate_async(&mut store).await?;
                        app.qun_app_handler().call_describe(&mut store).await
                    }
                    AppPre::V0_1(pre) => {
                        let app = pre.instantiate_async(&mut store).await?;
                        let info = app.qun_app_handler().call_describe(&mut store).await?;
                        wasmtime::Result::Ok(v0_1::app_info(info))
                    }
                }
            };
            let limit = bounds.deadline + bounds.deadline_grace;
            let result = match engine::bounded(run, clock, started, limit).await {
                Err(_) => Err(LoadError::Describe(format!(
                    "did not answer within {} ms",
                    bounds.deadline.as_millis()
                ))),
                Ok(Err(trap)) => match classify_trap(&trap, store.data().limiter.exceeded, &bounds)
                {
                    InvokeError::HostBusy => Err(LoadError::HostBusy),
                    other => Err(LoadError::Describe(other.to_string())),
                },
                Ok(Ok(info)) => Ok(info),
            };
            drop(store);
            result
        })
        .await;
        drop(permit);
        let info = result?;
        // The named manifest limits first (counts before sizes), so a
        // manifest with 20,000 commands says so; then the answer's total size.
        crate::runtime::manifest::check(&info, &crate::runtime::manifest::MANIFEST_LIMITS)?;
        let size = describe_size(&info);
        if size > limits.describe_bytes {
            return Err(LoadError::ManifestLimit(
                crate::runtime::manifest::ManifestLimit::TooLong {
                    what: "the describe answer".into(),
                    limit: limits.describe_bytes,
                    actual: size,
                },
            ));
        }
        Ok(info)
    }
}

/// Bytes of a `describe` answer: its texts, and 16 per list entry.
fn describe_size(info: &handler::AppInfo) -> usize {
    let specs = |list: &[handler::CommandSpec]| -> usize {
        list.iter()
            .map(|c| {
                c.name.len()
                    + c.description.len()
                    + 16
                    + c.options
                        .iter()
                        .map(|o| o.name.len() + o.description.len() + kind_size(&o.kind))
                        .sum::<usize>()
            })
            .sum()
    };
    info.name.len()
        + info.title.len()
        + info.version.len()
        + info.description.len()
        + specs(&info.commands)
        + info
            .actions
            .iter()
            .map(|a| a.name.len() + a.description.len() + 16)
            .sum::<usize>()
        + info.subscriptions.len() * 16
}

/// Bytes of an option's kind: 16, and the texts of its choices.
fn kind_size(kind: &crate::capabilities::generated::qun::app::blocks::InputKind) -> usize {
    use crate::capabilities::generated::qun::app::blocks::InputKind;
    16 + match kind {
        InputKind::Choice(c) => c
            .options
            .iter()
            .map(|o| o.value.len() + o.label.len() + 16)
            .sum(),
        InputKind::Text(t) => {
            t.placeholder.as_ref().map_or(0, String::len)
                + t.initial.as_ref().map_or(0, String::len)
        }
        _ => 0,
    }
}

/// The app's error with its message cut to `max` bytes.
fn cut_error(error: Error, max: usize) -> Error {
    let cut = |m: String| {
        if m.len() <= max {
            return m;
        }
        let total = m.len();
        let mut m = crate::capabilities::truncate(m, max);
        m.push_str(&format!(
            "… (cut: the app's message was {total} bytes; the limit is {max})"
        ));
        m
    };
    match error {
        Error::Denied(m) => Error::Denied(cut(m)),
        Error::NotFound(m) => Error::NotFound(cut(m)),
        Error::Invalid(m) => Error::Invalid(cut(m)),
        Error::QuotaExceeded(m) => Error::QuotaExceeded(cut(m)),
        Error::Conflict(m) => Error::Conflict(cut(m)),
        Error::Internal(m) => Error::Internal(cut(m)),
    }
}

impl Runtime {
    /// A fresh wasmtime store for one attempt: memory cap and deadline armed.
    fn sandbox(
        &self,
        ident: Identity,
        grants: HashSet<Capability>,
        usage: (i64, i64),
        tape: Tape,
    ) -> wasmtime::Store<InvocationState> {
        let limits = self.inner.limits.clone();
        let deadline = limits.deadline;
        let state = InvocationState::new(ident, grants, self.store().clone(), limits, usage, tape);
        let mut store = wasmtime::Store::new(&self.inner.engine, state);
        store.limiter(|s| &mut s.limiter);
        engine::arm_deadline(&mut store, deadline);
        store
    }
}

/// The guest's successful answer before checks.
enum Guest {
    /// What a 0.2 command or submit answered.
    Reply(crate::capabilities::generated::qun::app::blocks::Response),
    /// What a 0.1 command answered.
    LegacyReply(Option<v0_1::wit_types::Message>),
    /// What an action answered (a 0.1 action: `response` none).
    Action {
        data: String,
        response: crate::capabilities::generated::qun::app::blocks::Response,
    },
    Event,
}

/// Run `call` on a `qun:app@0.2.0` instance.
async fn call_v0_2(
    h: &handler::Guest,
    store: &mut wasmtime::Store<InvocationState>,
    ctx: &types::Context,
    call: &Call,
) -> wasmtime::Result<Result<Guest, Error>> {
    Ok(match call {
        Call::Command {
            name,
            args,
            options,
        } => {
            let cmd = handler::Command {
                name: name.clone(),
                args: args.clone(),
                options: options.iter().map(named_value_to_wit).collect(),
            };
            h.call_on_command(&mut *store, ctx, &cmd)
                .await?
                .map(Guest::Reply)
        }
        Call::Action {
            name,
            payload,
            value,
            message_id,
        } => {
            let action = handler::ActionCall {
                name: name.clone(),
                payload: payload.clone(),
                value: value.as_ref().map(crate::capabilities::value_to_wit),
                message_id: message_id.map(|id| id.to_string()),
            };
            h.call_on_action(&mut *store, ctx, &action)
                .await?
                .map(|a| Guest::Action {
                    data: a.data,
                    response: a.response,
                })
        }
        Call::Submit {
            callback,
            state,
            values,
            step,
        } => {
            let submission = handler::Submission {
                callback: callback.clone(),
                state: state.clone(),
                values: values.iter().map(named_value_to_wit).collect(),
                step: *step,
            };
            h.call_on_submit(&mut *store, ctx, &submission)
                .await?
                .map(Guest::Reply)
        }
        Call::Event(event) => h
            .call_on_event(&mut *store, ctx, event)
            .await?
            .map(|()| Guest::Event),
    })
}

/// Run `call` on a `qun:app@0.1.0` instance (never a `Submit`: refused
/// before the instance is made).
async fn call_v0_1(
    h: &v0_1::wit_handler::Guest,
    store: &mut wasmtime::Store<InvocationState>,
    ctx: &types::Context,
    call: &Call,
) -> wasmtime::Result<Result<Guest, Error>> {
    use crate::capabilities::generated::qun::app::blocks::Response as WitResponse;
    let ctx = v0_1::context(ctx);
    let answer = match call {
        Call::Command { name, args, .. } => {
            let cmd = v0_1::wit_handler::Command {
                name: name.clone(),
                args: args.clone(),
            };
            h.call_on_command(&mut *store, &ctx, &cmd)
                .await?
                .map(Guest::LegacyReply)
        }
        Call::Action { name, payload, .. } => h
            .call_on_action(&mut *store, &ctx, name, payload)
            .await?
            .map(|data| Guest::Action {
                data,
                response: WitResponse::None,
            }),
        Call::Submit { .. } => {
            return Err(wasmtime::Error::msg("a qun:app@0.1.0 app has no on-submit"));
        }
        Call::Event(event) => h
            .call_on_event(&mut *store, &ctx, &v0_1::event_to_v0_1(event))
            .await?
            .map(|()| Guest::Event),
    };
    Ok(answer.map_err(v0_1::error_from))
}

/// Check what the app answered to `call`: the action's JSON and every
/// message and form it shows (`invalid_response` otherwise). The card of a
/// 0.1 reply comes back beside the answer, to be stored with its blocks.
fn check_answer(
    guest: Guest,
    call: &Call,
    actions: &[String],
    limits: &crate::limits::Limits,
) -> Result<(Answer, Option<serde_json::Value>), InvokeError> {
    let response = |r: Response| -> Result<Response, InvokeError> {
        let bad = InvokeError::InvalidResponse;
        match &r {
            Response::None => {}
            Response::Post { message } | Response::Private { message } => {
                checks::message(message, actions, limits.message_bytes).map_err(bad)?
            }
            Response::Form { form } => {
                if let Call::Submit { step, .. } = call
                    && *step >= qun_blocks::MAX_FORM_STEPS
                {
                    return Err(bad(format!(
                        "a chain of forms has at most {} steps",
                        qun_blocks::MAX_FORM_STEPS
                    )));
                }
                if matches!(call, Call::Event(_)) {
                    return Err(bad("an event opens no form".into()));
                }
                checks::form(form, actions, limits.message_bytes).map_err(bad)?
            }
            Response::FieldErrors { errors } => {
                if !matches!(call, Call::Submit { .. }) {
                    return Err(bad(
                        "field errors answer a submitted form, not a command or an action".into(),
                    ));
                }
                if errors.is_empty() {
                    return Err(bad("field errors without any error".into()));
                }
                if errors.len() > qun_blocks::MAX_INPUTS {
                    return Err(bad(format!(
                        "{} field errors; a form has at most {} inputs",
                        errors.len(),
                        qun_blocks::MAX_INPUTS
                    )));
                }
                for e in errors {
                    crate::text::check("field error", &e.message).map_err(bad)?;
                    if e.message.chars().count() > qun_blocks::MAX_VALUE_CHARS {
                        return Err(bad(format!(
                            "the field error of {:?} is over {} characters",
                            e.input,
                            qun_blocks::MAX_VALUE_CHARS
                        )));
                    }
                }
            }
        }
        Ok(r)
    };
    match guest {
        Guest::Event => Ok((Answer::Event, None)),
        Guest::Action { data, response: r } => {
            if data.len() > limits.payload_bytes {
                return Err(InvokeError::BadAnswer(format!(
                    "the app's answer is {} bytes; the limit is {}",
                    data.len(),
                    limits.payload_bytes
                )));
            }
            if !data.is_empty() && serde_json::from_str::<serde_json::Value>(&data).is_err() {
                return Err(InvokeError::BadAnswer(
                    "the app's answer is not valid JSON".into(),
                ));
            }
            let response = response(response_from_wit(r))?;
            Ok((Answer::Action { data, response }, None))
        }
        Guest::Reply(r) => Ok((Answer::Response(response(response_from_wit(r))?), None)),
        Guest::LegacyReply(None) => Ok((Answer::Response(Response::None), None)),
        Guest::LegacyReply(Some(message)) => {
            let (message, card) = v0_1::legacy_message(&message)
                .map_err(|e| InvokeError::BadAnswer(format!("the app's reply is invalid: {e}")))?;
            checks::message_v0_1(&message, actions, limits.message_bytes)
                .map_err(InvokeError::InvalidResponse)?;
            Ok((Answer::Response(Response::Post { message }), card))
        }
    }
}

/// Marks an error of instantiating the app, before any export of it ran.
#[derive(Debug)]
struct Instantiating;

impl std::fmt::Display for Instantiating {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("instantiating the app")
    }
}

/// Name what stopped an invocation: an instance the host refused to make
/// under its current limits (no code of the app ran: a host setting, not a
/// fault of the app, e.g. limits lowered since the version was uploaded and
/// checked) or what stopped the guest.
fn classify_failure(
    error: &wasmtime::Error,
    memory_exceeded: bool,
    limits: &crate::limits::Limits,
) -> InvokeError {
    if error.downcast_ref::<Instantiating>().is_some()
        && error.downcast_ref::<Trap>().is_none()
        && error
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_none()
    {
        let mut message = format!("{error:#}");
        message.truncate(2_000);
        return InvokeError::Load(LoadError::CannotStart(message));
    }
    classify_trap(error, memory_exceeded, limits)
}

/// Name what stopped the guest.
fn classify_trap(
    error: &wasmtime::Error,
    memory_exceeded: bool,
    limits: &crate::limits::Limits,
) -> InvokeError {
    if error
        .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
        .is_some()
    {
        // wasmtime's pool is full: back-pressure, never the app's fault.
        return InvokeError::HostBusy;
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => InvokeError::Timeout(limits.deadline.as_millis()),
        Some(Trap::StackOverflow) => InvokeError::StackOverflow,
        _ if memory_exceeded => InvokeError::MemoryLimit(limits.memory_bytes),
        _ => {
            let mut message = format!("{error:#}");
            message.truncate(2_000);
            InvokeError::Trap(message)
        }
    }
}

impl Runtime {
    /// Run `call` in a fresh sandbox with no installation behind it: no
    /// capability is granted and nothing it does is kept. Used to try an
    /// uploaded app and by the benchmarks.
    pub async fn dry_run(&self, app: &LoadedApp, call: &Call) -> Result<Answer, InvokeError> {
        let ident = Identity::nobody(&app.manifest.name, &app.manifest.version);
        let (result, _) = self
            .attempt(
                app,
                &ident,
                &HashSet::new(),
                call,
                "dry-run",
                &("UTC".to_string(), "en".to_string()),
                (0, 0),
                now_ms(),
                Tape::Off,
            )
            .await;
        result.map(|(answer, _)| answer)
    }

    /// Create a fresh instance of `app` and drop it (the benchmark of
    /// instantiation alone).
    pub async fn instantiate_only(&self, app: &LoadedApp) -> Result<(), InvokeError> {
        let _permit = self
            .inner
            .pool
            .acquire(&app.needs)
            .await
            .map_err(|_| InvokeError::HostBusy)?;
        let mut store = self.sandbox(
            Identity::nobody(&app.manifest.name, &app.manifest.version),
            HashSet::new(),
            (0, 0),
            Tape::Off,
        );
        let made = match &app.pre {
            AppPre::V0_2(pre) => pre.instantiate_async(&mut store).await.map(drop),
            AppPre::V0_1(pre) => pre.instantiate_async(&mut store).await.map(drop),
        };
        made.map_err(|e| InvokeError::Internal(format!("{e:#}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_describe_answer_is_measured_by_its_texts_and_entries() {
        let spec = |i: usize| handler::CommandSpec {
            name: format!("c{i}"),
            description: "x".repeat(100),
            options: Vec::new(),
        };
        let info = handler::AppInfo {
            name: "big".into(),
            title: "Big".into(),
            version: "1.0.0".into(),
            description: String::new(),
            commands: (0..1_000).map(spec).collect(),
            actions: Vec::new(),
            subscriptions: vec![handler::Subscription::MessagePosted; 10],
        };
        let size = describe_size(&info);
        assert!(
            size > crate::limits::Limits::default().describe_bytes,
            "{size}"
        );
        assert!(size >= 1_000 * 116 + 160, "{size}");
    }

    #[test]
    fn an_app_error_is_cut_and_says_by_how_much() {
        let cut = cut_error(Error::Invalid("é".repeat(3_000)), 2_048);
        let message = error_message(&cut);
        assert_eq!(error_code(&cut), "invalid");
        assert!(message.len() < 2_200, "{}", message.len());
        assert!(
            message.contains("6000 bytes; the limit is 2048"),
            "{message}"
        );
        let short = cut_error(Error::Denied("no".into()), 2_048);
        assert_eq!(error_message(&short), "no");
    }
}

/// The files a member gives the app with `call`: a submitted form's file
/// inputs, a posted message's attachments.
fn given_files(call: &Call) -> HashSet<String> {
    match call {
        Call::Submit { values, .. } => values
            .iter()
            .filter_map(|v| match &v.value {
                Value::Files(ids) => Some(ids.iter().cloned()),
                _ => None,
            })
            .flatten()
            .collect(),
        Call::Event(handler::Event::MessagePosted(m)) => m.files.iter().cloned().collect(),
        _ => HashSet::new(),
    }
}
