//! Per-client quotas on the answers that check a name or an ID number against the registry
//! (lookups, verification): each is an oracle, and a quota turns a search into years. Built on
//! `tower_governor` (a token bucket per client IP); a refused request gets 429 problem+json
//! with `Retry-After`.

use std::net::IpAddr;

use axum::http::Request;
use axum::response::IntoResponse;
use tower_governor::GovernorError;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::{KeyExtractor, PeerIpKeyExtractor, SmartIpKeyExtractor};

use utoipa_axum::router::{UtoipaMethodRouter, UtoipaMethodRouterExt};

use super::limits::{Quota, RateLimits};
use super::problem::AppError;
use super::state::AppState;

/// The client a request counts against.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp {
    trust_forwarded_for: bool,
}

impl KeyExtractor for ClientIp {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        if self.trust_forwarded_for {
            return SmartIpKeyExtractor.extract(request);
        }
        PeerIpKeyExtractor.extract(request)
    }
}

/// The layer enforcing `quota` per client. A macro, because the layer's type names the
/// `governor` crate's middleware, which `tower_governor` does not re-export.
macro_rules! quota_layer {
    ($quota:expr, $limits:expr) => {{
        let config = GovernorConfigBuilder::default()
            .key_extractor(ClientIp { trust_forwarded_for: $limits.trust_forwarded_for })
            .period($quota.period)
            .burst_size($quota.burst)
            .finish()
            .expect("a quota with a positive period and burst");
        forget_quiet_clients(std::sync::Arc::downgrade(config.limiter()), |l| l.retain_recent());
        tower_governor::GovernorLayer::new(config).error_handler(refusal)
    }};
}

/// API `routes` with `quota` enforced per client (unchanged when the quota is off).
pub fn limited(
    routes: UtoipaMethodRouter<AppState>,
    quota: Option<Quota>,
    limits: &RateLimits,
) -> UtoipaMethodRouter<AppState> {
    let Some(quota) = quota else { return routes };
    routes.layer(quota_layer!(quota, limits))
}

/// A page's route under the same per-client quota as its API counterpart.
pub fn limited_page(
    route: axum::routing::MethodRouter<AppState>,
    quota: Option<Quota>,
    limits: &RateLimits,
) -> axum::routing::MethodRouter<AppState> {
    let Some(quota) = quota else { return route };
    route.layer(quota_layer!(quota, limits))
}

fn refusal(error: GovernorError) -> axum::response::Response {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            AppError::RateLimited { retry_after: wait_time.max(1) }.into_response()
        }
        // No peer address: only a router driven without a listener (a misconfigured embedding).
        GovernorError::UnableToExtractKey | GovernorError::Other { .. } => {
            AppError::Internal("rate limit: no client address on the request".into()).into_response()
        }
    }
}

/// Every minute the buckets of clients gone quiet are dropped, so memory is bounded by the
/// clients of the last minute; the task ends with the router.
fn forget_quiet_clients<T: Send + Sync + 'static>(limiter: std::sync::Weak<T>, forget: fn(&T)) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        every.tick().await;
        loop {
            every.tick().await;
            let Some(limiter) = limiter.upgrade() else { break };
            forget(&limiter);
        }
    });
}
