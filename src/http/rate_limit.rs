//! Per-client quotas on the answers that check a name or an ID number against the registry
//! (lookups, verification) and on bulk work: each is an oracle or a scan, and a quota turns a
//! search into years. A token bucket (`governor`) per client: a request with a valid API token
//! counts against the token, with a larger share (`RateLimits::key_factor`); any other against
//! its client IP. A refused request gets 429 problem+json with `Retry-After`.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota as GovernorQuota, RateLimiter};
use tower_governor::key_extractor::{KeyExtractor, PeerIpKeyExtractor, SmartIpKeyExtractor};

use utoipa_axum::router::{UtoipaMethodRouter, UtoipaMethodRouterExt};

use super::limits::{Quota, RateLimits};
use super::problem::AppError;
use super::state::AppState;
use crate::domain::publish::Actor;
use crate::store::TokenCheck;

/// The actor behind a request's valid bearer token, found once per request (`identify`).
#[derive(Debug, Clone)]
pub struct Identified(pub Actor);

/// Finds the actor behind a request's bearer token, if it is valid, for the quotas and the
/// handlers (`Authenticated` reads it instead of asking the store again). An invalid token is
/// left for the handler to refuse.
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let secret = request.headers().get(axum::http::header::AUTHORIZATION).and_then(bearer_secret).map(str::to_string);
    if let Some(secret) = secret
        && let Ok(TokenCheck::Valid(actor)) = state.store.authenticate(&secret).await
    {
        request.extensions_mut().insert(Identified(actor));
    }
    next.run(request).await
}

/// The secret of an `Authorization: Bearer <token>` header. The scheme is case-insensitive
/// (RFC 9110 §11.1): `bearer` and `BEARER` are `Bearer`.
pub fn bearer_secret(value: &axum::http::HeaderValue) -> Option<&str> {
    value
        .to_str()
        .ok()
        .and_then(|h| h.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|s| !s.is_empty())
}

/// The buckets of one quota: per client IP and per API token.
struct Buckets {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    by_key: DefaultKeyedRateLimiter<String>,
    trust_forwarded_for: bool,
}

fn governor_quota(q: Quota) -> GovernorQuota {
    GovernorQuota::with_period(q.period.max(std::time::Duration::from_micros(1)))
        .expect("a positive period")
        .allow_burst(std::num::NonZeroU32::new(q.burst.max(1)).expect("at least one"))
}

impl Buckets {
    fn new(quota: Quota, limits: &RateLimits) -> Arc<Buckets> {
        let buckets = Arc::new(Buckets {
            by_ip: RateLimiter::keyed(governor_quota(quota)),
            by_key: RateLimiter::keyed(governor_quota(quota.times(limits.key_factor))),
            trust_forwarded_for: limits.trust_forwarded_for,
        });
        forget_quiet_clients(Arc::downgrade(&buckets), |b| {
            b.by_ip.retain_recent();
            b.by_key.retain_recent();
        });
        buckets
    }

    /// `Err(seconds to wait)` when the request's client has used its share.
    fn check(&self, request: &Request) -> Result<(), AppError> {
        let outcome = match request.extensions().get::<Identified>() {
            Some(Identified(actor)) => self.by_key.check_key(&actor.credential),
            None => {
                let ip = if self.trust_forwarded_for {
                    SmartIpKeyExtractor.extract(request)
                } else {
                    PeerIpKeyExtractor.extract(request)
                };
                // No peer address: only a router driven without a listener (a misconfigured embedding).
                let ip = ip.map_err(|_| AppError::Internal("rate limit: no client address on the request".into()))?;
                self.by_ip.check_key(&ip)
            }
        };
        outcome.map_err(|refused| AppError::RateLimited {
            retry_after: refused.wait_time_from(DefaultClock::default().now()).as_secs().max(1),
        })
    }
}

async fn enforce(buckets: Arc<Buckets>, request: Request, next: Next) -> Response {
    match buckets.check(&request) {
        Ok(()) => next.run(request).await,
        Err(refused) => refused.into_response(),
    }
}

/// API `routes` with `quota` enforced per client (unchanged when the quota is off).
pub fn limited(
    routes: UtoipaMethodRouter<AppState>,
    quota: Option<Quota>,
    limits: &RateLimits,
) -> UtoipaMethodRouter<AppState> {
    let Some(quota) = quota else { return routes };
    let buckets = Buckets::new(quota, limits);
    routes.layer(axum::middleware::from_fn(move |request, next| enforce(buckets.clone(), request, next)))
}

/// A page's route under the same per-client quota as its API counterpart.
pub fn limited_page(
    route: axum::routing::MethodRouter<AppState>,
    quota: Option<Quota>,
    limits: &RateLimits,
) -> axum::routing::MethodRouter<AppState> {
    let Some(quota) = quota else { return route };
    let buckets = Buckets::new(quota, limits);
    route.layer(axum::middleware::from_fn(move |request, next| enforce(buckets.clone(), request, next)))
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
