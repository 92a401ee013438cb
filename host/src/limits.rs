//! Every bound the host puts on an app, with the defaults a fresh server uses.

use std::time::Duration;

/// Limits applied to every invocation and installation.
#[derive(Debug, Clone)]
pub struct Limits {
    /// How long one invocation may run, wall-clock from its start, time
    /// inside host calls (database reads, ...) included: the deadline is the
    /// deadline.
    pub deadline: Duration,
    /// How long past `deadline` a host call that is under way may take to
    /// return before the invocation is cut off anyway (guest code itself is
    /// stopped at `deadline`).
    pub deadline_grace: Duration,
    /// Largest linear memory an app may grow to, in bytes.
    pub memory_bytes: usize,
    /// Largest wasm stack, in bytes; deeper recursion traps.
    pub wasm_stack_bytes: usize,
    /// Largest storage key, in bytes.
    pub key_bytes: usize,
    /// Largest storage value, in bytes.
    pub value_bytes: usize,
    /// Largest message (text plus card), in bytes.
    pub message_bytes: usize,
    /// Largest action payload or action answer, in bytes.
    pub payload_bytes: usize,
    /// Largest other string crossing the boundary (names, memos, log lines), in bytes.
    pub string_bytes: usize,
    /// Storage quota per installation: bytes of keys plus values.
    pub storage_bytes: i64,
    /// Storage quota per installation: number of keys.
    pub storage_keys: i64,
    /// Group messages an installation may post per minute.
    pub messages_per_minute: i64,
    /// Pending timers per installation.
    pub pending_timers: i64,
    /// Items per `list` / `list-members` page.
    pub page_size: u32,
    /// Invocations running at once on this host (pooling allocator slots).
    /// Kept below the database pool size so host calls of running
    /// invocations rarely wait for a connection (that wait counts against
    /// the deadline).
    pub concurrent_invocations: u32,
    /// Attempts of an invocation whose storage reads went stale before commit.
    pub conflict_retries: u32,
    /// Captured stdout+stderr per invocation, in bytes; the rest is dropped.
    pub stdio_bytes: usize,
    /// An installation is disabled automatically after this many sandbox
    /// failures (traps, timeouts, memory or stack exhaustion) within
    /// `health_window`; 0 turns the health check off.
    pub health_faults: u32,
    /// The window `health_faults` are counted in.
    pub health_window: Duration,
    /// Fees, shares and bounds of payments.
    pub payments: PaymentConfig,
    // Issue 10 item 2 (audit helper): capability calls per invocation.
    /// Capability calls one invocation may make; past it every further call
    /// answers `quota-exceeded` and the invocation fails with the named
    /// error `capability_calls`, keeping nothing.
    pub capability_calls: u64,
    // Issue 10 item 9: bounded compilation.
    /// Components compiled at once (uploads and first loads); the others wait.
    pub compile_concurrency: usize,

    // --- issue 10, items 1, 6 and 7 (runtime): fairness, bytes, pool ---
    /// Invocations of one installation running at once; more wait (item 1).
    pub installation_concurrency: u32,
    /// Invocations of the apps of one group running at once; more wait.
    pub group_concurrency: u32,
    /// How long an invocation waits for its turn (installation, group, or a
    /// slot of the instance pool) before it is refused with `busy` (429) or
    /// `host_busy` (503).
    pub admission_wait: Duration,
    /// Threads running guest code, apart from the HTTP workers (0: one per core).
    pub guest_threads: usize,
    /// Core wasm instances of the instance pool, shared by all running
    /// invocations; one component may need at most a quarter of them.
    pub pool_core_instances: u32,
    /// Linear memories of the instance pool; one component may need at most a quarter.
    pub pool_memories: u32,
    /// Tables of the instance pool; one component may need at most a quarter.
    pub pool_tables: u32,
    /// Largest error message an app may return, in bytes; longer ones are cut (item 6).
    pub error_bytes: usize,
    /// Log lines one invocation may write; the rest are dropped.
    pub log_lines: usize,
    /// Bytes of log lines (messages and fields) one invocation may write.
    pub log_bytes: usize,
    /// Largest `describe` answer (all its texts together), in bytes.
    pub describe_bytes: usize,
    /// Largest timer payload, in bytes.
    pub timer_payload_bytes: usize,
    /// Bytes of effects (storage writes, messages, DMs, timers, payments)
    /// one invocation may buffer.
    pub effects_bytes: usize,
    /// Number of effects one invocation may buffer.
    pub effects_items: usize,
    /// Direct messages an installation may send per minute.
    pub dms_per_minute: i64,
    /// Direct messages an installation may send to one member per minute.
    pub dms_per_recipient: i64,
    // Issue 12 item 6: memory follows the apps in use.
    /// App versions kept loaded; past it the least recently used one is
    /// dropped (and reloaded from the compiled-code cache on its next use).
    pub loaded_apps: usize,
    /// Bytes of compiled code of the loaded versions; the same eviction past it.
    pub loaded_code_bytes: usize,
    // Issue 17: files.
    /// Largest file, uploaded by a member or created by an app, in bytes.
    pub file_bytes: u64,
    /// Bytes of files one installation may hold.
    pub installation_file_bytes: i64,
    /// Bytes of files one group may have (members' uploads and apps' files).
    pub group_file_bytes: i64,
    /// Largest piece one `files.read` returns or one `files.append` takes.
    pub file_chunk_bytes: usize,
    /// Files one invocation may create.
    pub files_per_invocation: usize,
    /// Bytes of files one invocation may write (staged outside the sandbox
    /// until it commits).
    pub file_bytes_per_invocation: u64,
    // Issue 16: replay records.
    /// Bytes of capability calls (arguments and answers, as JSON) one
    /// invocation's replay record keeps; past it the record is cut there.
    pub replay_bytes: usize,
    /// Replay records kept per installation (the newest).
    pub replay_records: u32,
    /// Replay records kept per app over all its installations (the newest):
    /// an app failing in ten thousand groups keeps this many, not ten
    /// thousand times `replay_records`.
    pub replay_records_per_app: u32,
    /// At most one replay record per installation in this long (a failing
    /// app in a flood writes one record, not one per failure).
    pub replay_interval: Duration,
    /// How long replay records are kept.
    pub replay_retention: Duration,
    // Issue 10: what an app's logs cost the shared writer, across invocations.
    /// Lines (its log, stdout, stderr) one installation may write per minute
    /// on this host; past it they are dropped and one line says so (the
    /// host's own failure lines are always kept).
    pub log_lines_per_minute: u32,
}

/// How payments are split and bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentConfig {
    /// The platform's fee, in basis points (1/100 of a percent) of each payment.
    pub platform_fee_bps: u32,
    /// The app developer's share, in basis points of each payment.
    pub developer_share_bps: u32,
    /// Largest amount one payment request may ask for, in minor units.
    pub max_amount: u64,
    /// How long a request waits for the payer before it expires, in ms.
    pub expiry_ms: i64,
}

impl Default for PaymentConfig {
    fn default() -> Self {
        PaymentConfig {
            platform_fee_bps: 300,
            developer_share_bps: 1_000,
            max_amount: 10_000_000,
            expiry_ms: 24 * 3_600_000,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: Duration::from_millis(250),
            deadline_grace: Duration::from_millis(100),
            memory_bytes: 32 << 20,
            wasm_stack_bytes: 512 << 10,
            key_bytes: 512,
            value_bytes: 64 << 10,
            message_bytes: 16 << 10,
            payload_bytes: 64 << 10,
            string_bytes: 4 << 10,
            storage_bytes: 16 << 20,
            storage_keys: 100_000,
            messages_per_minute: 60,
            pending_timers: 1_000,
            page_size: 1_000,
            concurrent_invocations: 16,
            conflict_retries: 32,
            stdio_bytes: 16 << 10,
            health_faults: 5,
            health_window: Duration::from_secs(600),
            payments: PaymentConfig::default(),
            // Issue 10 item 2 (audit helper).
            capability_calls: 10_000,
            // Issue 10 item 9.
            compile_concurrency: 1,
            // issue 10, items 1, 6 and 7
            installation_concurrency: 4,
            group_concurrency: 8,
            admission_wait: Duration::from_secs(5),
            guest_threads: 0,
            pool_core_instances: 1_024,
            pool_memories: 64,
            pool_tables: 1_024,
            error_bytes: 2 << 10,
            log_lines: 100,
            log_bytes: 64 << 10,
            describe_bytes: 64 << 10,
            timer_payload_bytes: 8 << 10,
            effects_bytes: 4 << 20,
            effects_items: 2_000,
            dms_per_minute: 500,
            dms_per_recipient: 20,
            // Issue 12 item 6.
            loaded_apps: 256,
            loaded_code_bytes: 512 << 20,
            file_bytes: 25 << 20,
            installation_file_bytes: 256 << 20,
            group_file_bytes: 1 << 30,
            file_chunk_bytes: 1 << 20,
            files_per_invocation: 20,
            file_bytes_per_invocation: 64 << 20,
            replay_bytes: 256 << 10,
            replay_records: 20,
            replay_records_per_app: 200,
            replay_interval: Duration::from_secs(1),
            replay_retention: Duration::from_secs(7 * 86_400),
            log_lines_per_minute: 1_000,
        }
    }
}
