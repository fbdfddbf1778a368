//! What the service allows one client: quotas on the answers that check a name or an ID
//! number, and the least time such an answer takes. Configuration only; `rate_limit` enforces
//! the quotas, `certificates` the floor.

/// The most rows one page of a filtered list reads before it answers with what it found and a
/// cursor to resume: a filter that matches little costs every request the same bounded read.
pub const SCAN_BUDGET: usize = 2_000;

/// Every answer to a number and a name takes at least this long, found or not: a wrong name and
/// an unknown number are told apart neither by their bodies nor by their timing.
pub const NAME_CHECK_FLOOR: std::time::Duration = std::time::Duration::from_millis(30);

/// The most change-feed streams open at once: each holds a connection and polls the store.
pub const MAX_FEED_STREAMS: usize = 256;

/// The most exports streaming at once: each holds a database connection and a read
/// transaction for its duration.
pub const MAX_EXPORT_STREAMS: usize = 4;

/// One quota: `burst` requests at once, then one more every `period`.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub burst: u32,
    pub period: std::time::Duration,
}

impl Quota {
    /// `factor` times as many requests, at once and over time (an API key's share).
    pub fn times(self, factor: u32) -> Quota {
        let factor = factor.max(1);
        Quota { burst: self.burst.saturating_mul(factor), period: self.period / factor }
    }

    /// `per_minute` requests a minute on average, a third of them at once; `None` when 0 (no limit).
    pub fn per_minute(per_minute: u32) -> Option<Quota> {
        (per_minute > 0).then(|| Quota {
            burst: (per_minute / 3).max(1),
            period: std::time::Duration::from_micros(60_000_000 / u64::from(per_minute)),
        })
    }
}

/// A person looking titles up one by one never comes near these; a search does at once.
pub const DEFAULT_LOOKUPS_PER_MINUTE: u32 = 30;
pub const DEFAULT_VERIFICATIONS_PER_MINUTE: u32 = 60;
/// A bulk request verifies up to 200,000 certificates: a few a minute per client.
pub const DEFAULT_BULK_REQUESTS_PER_MINUTE: u32 = 6;

/// An API key gets this many times an IP address's quota, in a bucket of its own.
pub const DEFAULT_KEY_QUOTA_FACTOR: u32 = 10;

/// The service's quotas and how it tells clients apart.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// `POST /api/v1/certificates/lookup`.
    pub lookups: Option<Quota>,
    /// `POST /api/v1/verify`.
    pub verifications: Option<Quota>,
    /// `POST /api/v1/bulk/verify`, counted per request.
    pub bulk: Option<Quota>,
    /// Behind a reverse proxy every peer is the proxy: then the client is the one the proxy names
    /// in `X-Forwarded-For` / `X-Real-IP` / `Forwarded`. Off by default, since a client that
    /// reaches the service directly could name anyone.
    pub trust_forwarded_for: bool,
    /// A request with a valid API token counts against the token, with each quota times this
    /// factor; any other request against its client IP.
    pub key_factor: u32,
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits {
            lookups: Quota::per_minute(DEFAULT_LOOKUPS_PER_MINUTE),
            verifications: Quota::per_minute(DEFAULT_VERIFICATIONS_PER_MINUTE),
            bulk: Quota::per_minute(DEFAULT_BULK_REQUESTS_PER_MINUTE),
            trust_forwarded_for: false,
            key_factor: DEFAULT_KEY_QUOTA_FACTOR,
        }
    }
}

impl RateLimits {
    /// No limits (benchmarks, tests that are not about limits).
    pub fn off() -> RateLimits {
        RateLimits { lookups: None, verifications: None, bulk: None, trust_forwarded_for: false, key_factor: 1 }
    }
}
