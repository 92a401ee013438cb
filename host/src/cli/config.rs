//! Options shared by subcommands: where the data lives, and the limits.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use qun_host::Store;
use qun_host::http::HttpConfig;
use qun_host::limits::Limits;

/// Where Qun keeps its data.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Data directory: the SQLite database (unless DATABASE_URL is set) and the compiled-code cache.
    #[arg(long, env = "QUN_DATA_DIR", default_value = "./qun-data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://PATH` or `postgres://...` (default: DATA_DIR/qun.db).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where file bytes live: a directory, `file:///dir`, or `s3://bucket[/prefix]`
    /// (an S3-compatible bucket every host shares; credentials, region and
    /// endpoint from the `AWS_*` environment variables) [default: DATA_DIR/files].
    #[arg(long, env = "QUN_FILES_URL")]
    pub files_url: Option<String>,
    /// Where compiled components are cached (several hosts, or a faster
    /// disk, may share one) [default: DATA_DIR/cache].
    #[arg(long, env = "QUN_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl DataArgs {
    /// Create the data directory and connect to (and migrate) the database.
    pub async fn connect(&self) -> anyhow::Result<Store> {
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => {
                std::fs::create_dir_all(&self.data_dir).with_context(|| {
                    format!("creating the data directory {}", self.data_dir.display())
                })?;
                format!(
                    "sqlite://{}?mode=rwc",
                    self.data_dir.join("qun.db").display()
                )
            }
        };
        let store = Store::connect(&url)
            .await
            .with_context(|| format!("opening the database {}", redact(&url)))?;
        let blobs = match &self.files_url {
            Some(files) => qun_host::blobs::Blobs::from_url(files),
            None => qun_host::blobs::Blobs::local(&self.data_dir.join("files")),
        }
        .context("opening the file store (--files-url)")?;
        Ok(store.with_blobs(blobs))
    }

    /// Where compiled components are cached.
    pub fn cache_dir(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("cache"))
    }
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Limits on apps and on the HTTP edge.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Wall-clock deadline of one app invocation, in milliseconds, time in
    /// host calls included [default: 250].
    #[arg(long, env = "QUN_DEADLINE_MS")]
    pub deadline_ms: Option<u64>,
    /// Linear memory an app may use, in MiB [default: 32].
    #[arg(long, env = "QUN_MEMORY_MIB")]
    pub memory_mib: Option<usize>,
    /// Storage quota per installation, in MiB [default: 16].
    #[arg(long, env = "QUN_STORAGE_MIB")]
    pub storage_mib: Option<i64>,
    /// Largest file a member uploads or an app creates, in MiB [default: 25].
    #[arg(long, env = "QUN_FILE_MIB")]
    pub file_mib: Option<u64>,
    /// Files one group may keep, in MiB [default: 1024].
    #[arg(long, env = "QUN_GROUP_FILES_MIB")]
    pub group_files_mib: Option<i64>,
    /// Files one installed app may hold in a group, in MiB [default: 256].
    #[arg(long, env = "QUN_APP_FILES_MIB")]
    pub app_files_mib: Option<i64>,
    /// Group messages an installation may post per minute [default: 60].
    #[arg(long, env = "QUN_MESSAGES_PER_MINUTE")]
    pub messages_per_minute: Option<i64>,
    /// Sandbox failures (traps, timeouts) within the health window after which an
    /// installation is disabled automatically; 0 turns this off [default: 5].
    #[arg(long, env = "QUN_HEALTH_FAULTS")]
    pub health_faults: Option<u32>,
    /// The health window, in seconds [default: 600].
    #[arg(long, env = "QUN_HEALTH_WINDOW_SECS")]
    pub health_window_secs: Option<u64>,
    /// Largest `.wasm` upload, in bytes (JavaScript and Python apps are 12-20 MB).
    #[arg(long, env = "QUN_MAX_UPLOAD_BYTES", default_value_t = 32 << 20)]
    pub max_upload_bytes: usize,
    /// Seconds an upload's request waits for its compile before answering
    /// `202` with the upload to follow; 0 never waits.
    #[arg(long, env = "QUN_UPLOAD_WAIT_SECS", default_value_t = 10)]
    pub upload_wait_secs: u64,
    /// Uploads held in memory waiting for the compiler; past it 503 `compile_queue_full`.
    #[arg(long, env = "QUN_COMPILE_QUEUE", default_value_t = 4)]
    pub compile_queue: usize,
    /// Largest JSON request body, in bytes.
    #[arg(long, env = "QUN_MAX_JSON_BYTES", default_value_t = 64 << 10)]
    pub max_json_bytes: usize,
    /// Seconds a request may take to produce its response (streams run on).
    #[arg(long, env = "QUN_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// How often live streams look for messages other hosts sharing the database posted, in ms.
    #[arg(long, env = "QUN_STREAM_POLL_MS", default_value_t = 400)]
    pub stream_poll_ms: u64,
    /// The platform's fee on each payment, in basis points (300 = 3%) [default: 300].
    #[arg(long, env = "QUN_PLATFORM_FEE_BPS", value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub platform_fee_bps: Option<u32>,
    /// The app developer's share of each payment, in basis points [default: 1000].
    #[arg(long, env = "QUN_DEVELOPER_SHARE_BPS", value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub developer_share_bps: Option<u32>,
    /// Largest amount one payment request may ask for, in minor units [default: 10000000].
    #[arg(long, env = "QUN_MAX_PAYMENT")]
    pub max_payment: Option<u64>,
    /// Seconds a payment request waits for the payer before it expires [default: 86400].
    #[arg(long, env = "QUN_PAYMENT_EXPIRY_SECS")]
    pub payment_expiry_secs: Option<u64>,
    // Edge limits (issue 11 items 1-2, issue 10 item 10).
    /// Seconds a client has to send a request's head; also how long an idle
    /// keep-alive connection stays open.
    #[arg(long, env = "QUN_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,
    /// Open connections at once; more are closed on accept.
    #[arg(long, env = "QUN_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Open connections from one client address (IPv6: one /64).
    #[arg(long, env = "QUN_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 256)]
    pub max_connections_per_address: usize,
    /// Requests handled at once; more get 503 `overloaded`.
    #[arg(long, env = "QUN_MAX_IN_FLIGHT", default_value_t = 1024)]
    pub max_in_flight: usize,
    /// Rate limits on (`--rate-limits false` turns every rate limit off).
    #[arg(long, env = "QUN_RATE_LIMITS", default_value_t = true, action = clap::ArgAction::Set)]
    pub rate_limits: bool,
    /// Sustained API requests per second per token.
    #[arg(long, env = "QUN_RATE_TOKEN_PER_SEC", default_value_t = 20)]
    pub rate_token_per_sec: u32,
    /// Requests a token may make in a burst.
    #[arg(long, env = "QUN_RATE_TOKEN_BURST", default_value_t = 100)]
    pub rate_token_burst: u32,
    /// Sustained API requests per second per client address.
    #[arg(long, env = "QUN_RATE_ADDRESS_PER_SEC", default_value_t = 50)]
    pub rate_address_per_sec: u32,
    /// Requests a client address may make in a burst.
    #[arg(long, env = "QUN_RATE_ADDRESS_BURST", default_value_t = 200)]
    pub rate_address_burst: u32,
    /// Messages (commands included) one member may post to one group per minute.
    #[arg(long, env = "QUN_POSTS_PER_MEMBER_MINUTE", default_value_t = 30)]
    pub posts_per_member_minute: u32,
    /// Percent of an app's message quota one member's requests may use up per minute.
    #[arg(long, env = "QUN_MEMBER_SHARE_PERCENT", default_value_t = 25,
        value_parser = clap::value_parser!(u32).range(1..=100))]
    pub member_share_percent: u32,
    /// Live streams one user may hold open.
    #[arg(long, env = "QUN_STREAMS_PER_USER", default_value_t = 16)]
    pub streams_per_user: usize,
    /// Live streams open on one group.
    #[arg(long, env = "QUN_STREAMS_PER_GROUP", default_value_t = 1024)]
    pub streams_per_group: usize,
    // Issue 10 item 2 (audit helper).
    /// Capability calls one invocation may make; past it the invocation fails
    /// with `capability_calls` and keeps nothing [default: 10000].
    #[arg(long, env = "QUN_CAPABILITY_CALLS")]
    pub capability_calls: Option<u64>,
    /// Log lines (log, stdout, stderr) one installation may write per minute;
    /// past it they are dropped and one line says so [default: 1000].
    #[arg(long, env = "QUN_LOG_LINES_PER_MINUTE")]
    pub log_lines_per_minute: Option<u32>,
    // Issue 16: replay records.
    /// Replay records of failed invocations kept per installation (0: none
    /// are written) [default: 20].
    #[arg(long, env = "QUN_REPLAY_RECORDS")]
    pub replay_records: Option<u32>,
    /// Replay records kept per app over all its installations; an app
    /// also gets at most 4 new records a second [default: 200].
    #[arg(long, env = "QUN_REPLAY_RECORDS_PER_APP")]
    pub replay_records_per_app: Option<u32>,
    /// Hours replay records are kept [default: 168].
    #[arg(long, env = "QUN_REPLAY_RETENTION_HOURS")]
    pub replay_retention_hours: Option<u64>,
    /// Bytes of capability calls one replay record keeps [default: 262144].
    #[arg(long, env = "QUN_REPLAY_BYTES")]
    pub replay_bytes: Option<usize>,
    // Issue 10 item 9: bounded compilation.
    /// Components compiled at once (uploads, first loads); others wait their turn [default: 1].
    #[arg(long, env = "QUN_COMPILE_CONCURRENCY", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub compile_concurrency: Option<u32>,

    // --- issue 10, items 1, 6 and 7 (runtime): fairness, bytes, pool ---
    /// Milliseconds a host call under way at the deadline may still take [default: 100].
    #[arg(long, env = "QUN_DEADLINE_GRACE_MS")]
    pub deadline_grace_ms: Option<u64>,
    /// Invocations of one installation running at once; more wait [default: 4].
    #[arg(long, env = "QUN_INSTALLATION_CONCURRENCY")]
    pub installation_concurrency: Option<u32>,
    /// Invocations of the apps of one group running at once; more wait [default: 8].
    #[arg(long, env = "QUN_GROUP_CONCURRENCY")]
    pub group_concurrency: Option<u32>,
    /// Milliseconds an invocation waits for its turn or for room in the
    /// instance pool before `busy` (429) or `host_busy` (503) [default: 5000].
    #[arg(long, env = "QUN_ADMISSION_WAIT_MS")]
    pub admission_wait_ms: Option<u64>,
    /// Threads running guest code, apart from the HTTP workers; 0 = one per core [default: 0].
    #[arg(long, env = "QUN_GUEST_THREADS")]
    pub guest_threads: Option<usize>,
    /// Invocations running at once on this host (instance pool slots) [default: 16].
    #[arg(long, env = "QUN_CONCURRENT_INVOCATIONS")]
    pub concurrent_invocations: Option<u32>,
    /// Core wasm instances in the instance pool; one component may need a quarter [default: 1024].
    #[arg(long, env = "QUN_POOL_CORE_INSTANCES")]
    pub pool_core_instances: Option<u32>,
    /// Linear memories in the instance pool; one component may need a quarter [default: 64].
    #[arg(long, env = "QUN_POOL_MEMORIES")]
    pub pool_memories: Option<u32>,
    /// Tables in the instance pool; one component may need a quarter [default: 1024].
    #[arg(long, env = "QUN_POOL_TABLES")]
    pub pool_tables: Option<u32>,
    /// Largest error message an app may return, in bytes; longer ones are cut [default: 2048].
    #[arg(long, env = "QUN_ERROR_BYTES")]
    pub error_bytes: Option<usize>,
    /// Log lines one invocation may write [default: 100].
    #[arg(long, env = "QUN_LOG_LINES")]
    pub log_lines: Option<usize>,
    /// Bytes of log lines one invocation may write [default: 65536].
    #[arg(long, env = "QUN_LOG_BYTES")]
    pub log_bytes: Option<usize>,
    /// Largest `describe` answer, in bytes [default: 65536].
    #[arg(long, env = "QUN_DESCRIBE_BYTES")]
    pub describe_bytes: Option<usize>,
    /// Largest timer payload, in bytes [default: 8192].
    #[arg(long, env = "QUN_TIMER_PAYLOAD_BYTES")]
    pub timer_payload_bytes: Option<usize>,
    /// Bytes of effects one invocation may buffer [default: 4194304].
    #[arg(long, env = "QUN_EFFECTS_BYTES")]
    pub effects_bytes: Option<usize>,
    /// Number of effects one invocation may buffer [default: 2000].
    #[arg(long, env = "QUN_EFFECTS_ITEMS")]
    pub effects_items: Option<usize>,
    /// Direct messages an installation may send per minute [default: 500].
    #[arg(long, env = "QUN_DMS_PER_MINUTE")]
    pub dms_per_minute: Option<i64>,
    /// Direct messages an installation may send to one member per minute [default: 20].
    #[arg(long, env = "QUN_DMS_PER_RECIPIENT")]
    pub dms_per_recipient: Option<i64>,
    // Issue 12 item 6: memory follows the apps in use.
    /// App versions kept loaded; the least recently used beyond it is
    /// reloaded from the compiled-code cache when next used [default: 256].
    #[arg(long, env = "QUN_APP_CACHE_APPS")]
    pub app_cache_apps: Option<usize>,
    /// MiB of compiled code kept loaded; the same eviction past it [default: 512].
    #[arg(long, env = "QUN_APP_CACHE_MIB")]
    pub app_cache_mib: Option<usize>,
}

impl LimitArgs {
    /// The app limits, defaults overridden by what was given.
    pub fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        if let Some(ms) = self.deadline_ms {
            limits.deadline = Duration::from_millis(ms);
        }
        if let Some(mib) = self.memory_mib {
            limits.memory_bytes = mib << 20;
        }
        if let Some(mib) = self.storage_mib {
            limits.storage_bytes = mib << 20;
        }
        if let Some(mib) = self.file_mib {
            limits.file_bytes = mib << 20;
        }
        if let Some(mib) = self.group_files_mib {
            limits.group_file_bytes = mib << 20;
        }
        if let Some(mib) = self.app_files_mib {
            limits.installation_file_bytes = mib << 20;
        }
        if let Some(n) = self.messages_per_minute {
            limits.messages_per_minute = n;
        }
        if let Some(n) = self.health_faults {
            limits.health_faults = n;
        }
        if let Some(secs) = self.health_window_secs {
            limits.health_window = Duration::from_secs(secs);
        }
        let payments = &mut limits.payments;
        if let Some(bps) = self.platform_fee_bps {
            payments.platform_fee_bps = bps;
        }
        if let Some(bps) = self.developer_share_bps {
            payments.developer_share_bps = bps;
        }
        if let Some(max) = self.max_payment {
            payments.max_amount = max;
        }
        if let Some(secs) = self.payment_expiry_secs {
            payments.expiry_ms = i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        }
        // Issue 10 item 2 (audit helper).
        if let Some(n) = self.capability_calls {
            limits.capability_calls = n.max(1);
        }
        if let Some(n) = self.log_lines_per_minute {
            limits.log_lines_per_minute = n;
        }
        // Issue 16.
        if let Some(n) = self.replay_records {
            limits.replay_records = n;
        }
        if let Some(n) = self.replay_records_per_app {
            limits.replay_records_per_app = n;
        }
        if let Some(h) = self.replay_retention_hours {
            limits.replay_retention = std::time::Duration::from_secs(h.saturating_mul(3600));
        }
        if let Some(n) = self.replay_bytes {
            limits.replay_bytes = n;
        }
        // Issue 10 item 9.
        if let Some(n) = self.compile_concurrency {
            limits.compile_concurrency = n as usize;
        }
        // issue 10, items 1, 6 and 7
        if let Some(ms) = self.deadline_grace_ms {
            limits.deadline_grace = Duration::from_millis(ms);
        }
        if let Some(ms) = self.admission_wait_ms {
            limits.admission_wait = Duration::from_millis(ms);
        }
        let set = |target: &mut u32, value: Option<u32>| {
            if let Some(v) = value {
                *target = v.max(1);
            }
        };
        set(
            &mut limits.installation_concurrency,
            self.installation_concurrency,
        );
        set(&mut limits.group_concurrency, self.group_concurrency);
        set(
            &mut limits.concurrent_invocations,
            self.concurrent_invocations,
        );
        set(&mut limits.pool_core_instances, self.pool_core_instances);
        set(&mut limits.pool_memories, self.pool_memories);
        set(&mut limits.pool_tables, self.pool_tables);
        for (target, value) in [
            (&mut limits.guest_threads, self.guest_threads),
            (&mut limits.error_bytes, self.error_bytes),
            (&mut limits.log_lines, self.log_lines),
            (&mut limits.log_bytes, self.log_bytes),
            (&mut limits.describe_bytes, self.describe_bytes),
            (&mut limits.timer_payload_bytes, self.timer_payload_bytes),
            (&mut limits.effects_bytes, self.effects_bytes),
            (&mut limits.effects_items, self.effects_items),
        ] {
            if let Some(v) = value {
                *target = v;
            }
        }
        if let Some(n) = self.dms_per_minute {
            limits.dms_per_minute = n;
        }
        if let Some(n) = self.dms_per_recipient {
            limits.dms_per_recipient = n;
        }
        // Issue 12 item 6.
        if let Some(n) = self.app_cache_apps {
            limits.loaded_apps = n.max(1);
        }
        if let Some(mib) = self.app_cache_mib {
            limits.loaded_code_bytes = mib.saturating_mul(1 << 20);
        }
        limits
    }

    /// Refuse a fee and a share that together take more than the payment.
    pub fn check(&self) -> anyhow::Result<()> {
        let payments = self.limits().payments;
        if payments.platform_fee_bps + payments.developer_share_bps > 10_000 {
            anyhow::bail!(
                "the platform fee ({} bps) and the developer share ({} bps) together exceed 10000 bps (100%)",
                payments.platform_fee_bps,
                payments.developer_share_bps
            );
        }
        Ok(())
    }

    /// The HTTP edge limits.
    pub fn http(&self) -> HttpConfig {
        HttpConfig {
            max_wasm_bytes: self.max_upload_bytes,
            upload_wait: Duration::from_secs(self.upload_wait_secs),
            compile_queue: self.compile_queue.max(1),
            max_json_bytes: self.max_json_bytes,
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            stream_poll: Duration::from_millis(self.stream_poll_ms.max(10)),
            // Edge limits (issue 11 items 1-2, issue 10 item 10).
            rate: self.rate_limits.then(|| qun_host::http::rate::RateConfig {
                token_per_sec: self.rate_token_per_sec,
                token_burst: self.rate_token_burst,
                address_per_sec: self.rate_address_per_sec,
                address_burst: self.rate_address_burst,
                posts_per_member_minute: self.posts_per_member_minute,
                member_share_percent: self.member_share_percent,
            }),
            max_in_flight: self.max_in_flight.max(1),
            streams_per_user: self.streams_per_user,
            streams_per_group: self.streams_per_group,
            web_dir: None,
            demo_users: Vec::new(),
        }
    }

    /// Connection limits (issue 11 item 1).
    pub fn serve(&self) -> qun_host::http::serve::ServeConfig {
        qun_host::http::serve::ServeConfig {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
            max_connections_per_address: self.max_connections_per_address.max(1),
        }
    }
}

/// Event delivery: retries, parking, leases.
#[derive(Debug, Clone, Args)]
pub struct DeliveryArgs {
    /// How often the delivery loop looks for due timers and events to deliver, in ms.
    #[arg(long, env = "QUN_EVENT_POLL_MS", default_value_t = 200)]
    pub event_poll_ms: u64,
    /// Failed delivery attempts after which an event is parked.
    #[arg(long, env = "QUN_EVENT_MAX_ATTEMPTS", default_value_t = 8)]
    pub event_max_attempts: i64,
    /// Wait before the first retry of a failed event, in ms (doubles each attempt).
    #[arg(long, env = "QUN_EVENT_BACKOFF_MS", default_value_t = 1_000)]
    pub event_backoff_ms: u64,
    /// Longest wait between retries of a failed event, in ms.
    #[arg(long, env = "QUN_EVENT_BACKOFF_MAX_MS", default_value_t = 300_000)]
    pub event_backoff_max_ms: u64,
    /// How long a host's claim on an event lasts, in ms (renewed every third
    /// of it while the delivery runs); after a crash another host (or this
    /// one, restarted) takes the event over once the claim has run out.
    #[arg(long, env = "QUN_EVENT_LEASE_MS", default_value_t = 10_000)]
    pub event_lease_ms: u64,
    /// Hours delivered events are kept (parked ones are kept).
    #[arg(long, env = "QUN_EVENT_RETENTION_HOURS", default_value_t = 168)]
    pub event_retention_hours: u64,
}

impl DeliveryArgs {
    /// The delivery configuration.
    pub fn config(&self) -> qun_host::runtime::DeliveryConfig {
        qun_host::runtime::DeliveryConfig {
            poll: Duration::from_millis(self.event_poll_ms.max(10)),
            max_attempts: self.event_max_attempts.max(1),
            backoff_base: Duration::from_millis(self.event_backoff_ms),
            backoff_max: Duration::from_millis(
                self.event_backoff_max_ms.max(self.event_backoff_ms),
            ),
            lease: Duration::from_millis(self.event_lease_ms.max(1_000)),
            retention: Duration::from_secs(self.event_retention_hours.saturating_mul(3600)),
            ..qun_host::runtime::DeliveryConfig::default()
        }
    }
}
