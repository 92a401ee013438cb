//! Rate limits at the edge (issue 11 item 2, issue 10 item 10): per client
//! address and per token for the whole API, per member for posting to a
//! group, and a fair per-member share of each app's message quota. Each
//! refusal is a 429 with a named code and `Retry-After`.
//!
//! The token buckets are `governor`'s (GCRA, keyed, lock-free); their maps
//! are pruned by [`RateLimits::prune`], which `qun serve` runs every minute.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::AppState;
use super::error::ApiError;
use super::serve::ClientAddr;

/// How much each client may ask; see the `qun serve` flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateConfig {
    /// Sustained API requests per second per token (signed-in user).
    pub token_per_sec: u32,
    /// Requests a token may make at once before the sustained rate applies.
    pub token_burst: u32,
    /// Sustained API requests per second per client address.
    pub address_per_sec: u32,
    /// Burst per client address.
    pub address_burst: u32,
    /// Messages (commands included) one member may post to one group per minute.
    pub posts_per_member_minute: u32,
    /// Percent of an app's per-minute message quota that the invocations of
    /// one member may use up, so that one member cannot exhaust it for the group.
    pub member_share_percent: u32,
}

impl Default for RateConfig {
    fn default() -> Self {
        RateConfig {
            token_per_sec: 20,
            token_burst: 100,
            address_per_sec: 50,
            address_burst: 200,
            posts_per_member_minute: 30,
            member_share_percent: 25,
        }
    }
}

type Keyed<K> = DefaultKeyedRateLimiter<K>;

/// The live rate limiters of one server.
pub struct RateLimits {
    config: RateConfig,
    tokens: Keyed<String>,
    addresses: Keyed<IpAddr>,
    posts: Keyed<(String, String)>,
    /// (installation, member) → (start of the current minute, messages posted).
    shares: Mutex<HashMap<(String, String), (Instant, u64)>>,
}

fn quota_per_sec(rate: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(rate.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(burst)
}

fn retry_after(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// A client's address as a rate-limit key: IPv6 clients usually hold a
/// whole /64, so that is what counts as one client.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
        v4 => v4,
    }
}

impl RateLimits {
    /// Limiters for `config`.
    pub fn new(config: RateConfig) -> RateLimits {
        let posts =
            NonZeroU32::new(config.posts_per_member_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        RateLimits {
            tokens: Keyed::keyed(quota_per_sec(config.token_per_sec, config.token_burst)),
            addresses: Keyed::keyed(quota_per_sec(config.address_per_sec, config.address_burst)),
            posts: Keyed::keyed(Quota::per_minute(posts)),
            shares: Mutex::new(HashMap::new()),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RateConfig {
        &self.config
    }

    fn refuse(code: &'static str, what: String, wait: Duration) -> ApiError {
        let secs = retry_after(wait).max(1);
        ApiError::RateLimited {
            code,
            message: format!("{what}; retry in {secs} s"),
            retry_after: secs,
        }
    }

    /// One API request from `ip`.
    pub fn address(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.addresses
            .check_key(&address_key(ip))
            .map_err(|not_until| {
                Self::refuse(
                    "rate_limited",
                    format!(
                        "too many requests from your address (limit {}/s, bursts of {})",
                        self.config.address_per_sec, self.config.address_burst
                    ),
                    not_until.wait_time_from(DefaultClock::default().now()),
                )
            })
    }

    /// One API request with the token of `user_id` (all of a user's tokens
    /// share one budget, so more tokens do not buy more requests).
    pub fn token(&self, user_id: &str) -> Result<(), ApiError> {
        self.tokens
            .check_key(&user_id.to_string())
            .map_err(|not_until| {
                Self::refuse(
                    "rate_limited",
                    format!(
                        "too many requests with this token (limit {}/s, bursts of {})",
                        self.config.token_per_sec, self.config.token_burst
                    ),
                    not_until.wait_time_from(DefaultClock::default().now()),
                )
            })
    }

    /// One message (or command) posted by `user_id` to `group_id`.
    pub fn post(&self, group_id: &str, user_id: &str) -> Result<(), ApiError> {
        self.posts
            .check_key(&(group_id.to_string(), user_id.to_string()))
            .map_err(|not_until| {
                Self::refuse(
                    "posting_too_fast",
                    format!(
                        "you may post {} messages per minute to a group",
                        self.config.posts_per_member_minute
                    ),
                    not_until.wait_time_from(DefaultClock::default().now()),
                )
            })
    }

    /// The messages per minute the invocations of one member may make an
    /// installation post, out of its quota of `quota` per minute.
    pub fn member_share(&self, quota: i64) -> u64 {
        let quota = u64::try_from(quota.max(1)).unwrap_or(1);
        (quota * u64::from(self.config.member_share_percent.min(100)))
            .div_ceil(100)
            .max(1)
    }

    /// Before `member` invokes `installation`: refused once the messages
    /// their invocations made it post this minute reached their share.
    pub fn share_check(
        &self,
        installation: &str,
        member: &str,
        quota: i64,
    ) -> Result<(), ApiError> {
        let share = self.member_share(quota);
        let shares = self.shares.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((start, used)) = shares.get(&(installation.to_string(), member.to_string())) {
            let elapsed = start.elapsed();
            if elapsed < Duration::from_secs(60) && *used >= share {
                return Err(Self::refuse(
                    "member_share_exceeded",
                    format!(
                        "your requests made this app post {used} messages this minute, your share of its {quota} per minute in this group"
                    ),
                    Duration::from_secs(60) - elapsed,
                ));
            }
        }
        Ok(())
    }

    /// After an invocation by `member` made `installation` post `posted` messages.
    pub fn share_used(&self, installation: &str, member: &str, posted: usize) {
        if posted == 0 {
            return;
        }
        let mut shares = self.shares.lock().unwrap_or_else(|p| p.into_inner());
        let entry = shares
            .entry((installation.to_string(), member.to_string()))
            .or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= Duration::from_secs(60) {
            *entry = (Instant::now(), 0);
        }
        entry.1 += posted as u64;
    }

    /// Forget clients whose buckets are full again (bounded memory).
    pub fn prune(&self) {
        self.tokens.retain_recent();
        self.tokens.shrink_to_fit();
        self.addresses.retain_recent();
        self.addresses.shrink_to_fit();
        self.posts.retain_recent();
        self.posts.shrink_to_fit();
        let mut shares = self.shares.lock().unwrap_or_else(|p| p.into_inner());
        shares.retain(|_, (start, _)| start.elapsed() < Duration::from_secs(60));
        shares.shrink_to_fit();
    }
}

impl AppState {
    /// `user_id` posts a message (or a command) to `group_id`: refused past
    /// the per-member posting rate when rate limits are on.
    pub fn posting(&self, group_id: &str, user_id: &str) -> Result<(), ApiError> {
        match self.rate.as_deref() {
            Some(rate) => rate.post(group_id, user_id),
            None => Ok(()),
        }
    }
}

/// Middleware: the per-address limit on `/v1` requests (the address is
/// known when served by [`super::serve::serve`]; in-process callers have none).
pub async fn per_address(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let (Some(limits), Some(ClientAddr(ip))) = (
        state.rate.as_deref(),
        request.extensions().get::<ClientAddr>().copied(),
    ) && request.uri().path().starts_with("/v1/")
        && let Err(e) = limits.address(ip)
    {
        return e.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_named_429_says_when_to_retry() {
        let limits = RateLimits::new(RateConfig {
            token_per_sec: 1,
            token_burst: 3,
            ..RateConfig::default()
        });
        for _ in 0..3 {
            assert!(limits.token("u1").is_ok());
        }
        let e = limits.token("u1").expect_err("fourth");
        assert_eq!(e.code(), "rate_limited");
        assert!(matches!(e, ApiError::RateLimited { retry_after: 1, .. }));
        assert!(
            limits.token("u2").is_ok(),
            "another user has their own budget"
        );
    }

    #[test]
    fn one_member_uses_only_a_share_of_an_apps_quota() {
        let limits = RateLimits::new(RateConfig {
            member_share_percent: 25,
            ..RateConfig::default()
        });
        assert_eq!(limits.member_share(60), 15);
        assert_eq!(limits.member_share(1), 1);
        assert!(limits.share_check("i1", "alice", 60).is_ok());
        limits.share_used("i1", "alice", 15);
        let e = limits.share_check("i1", "alice", 60).expect_err("used up");
        assert_eq!(e.code(), "member_share_exceeded");
        assert!(limits.share_check("i1", "bob", 60).is_ok());
        assert!(limits.share_check("i2", "alice", 60).is_ok());
    }

    #[test]
    fn ipv6_clients_count_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        assert_eq!(address_key(a), address_key(b));
        let v4: IpAddr = "::ffff:10.0.0.1".parse().expect("ip");
        assert_eq!(address_key(v4), "10.0.0.1".parse::<IpAddr>().expect("ip"));
    }
}
