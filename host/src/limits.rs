//! Every bound the host puts on an app, with the defaults a fresh server uses.

use std::time::Duration;

/// Limits applied to every invocation and installation.
#[derive(Debug, Clone)]
pub struct Limits {
    /// How long an app's own code may run per invocation (wall-clock, not
    /// counting time inside host calls such as database reads).
    pub deadline: Duration,
    /// Extra wall-clock time an invocation may spend inside host calls; the
    /// whole invocation is cut off at `deadline + host_time`.
    pub host_time: Duration,
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
            host_time: Duration::from_secs(2),
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
        }
    }
}
