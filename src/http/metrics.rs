//! Observability: `/metrics` in the Prometheus text format, and one access-log line per request
//! (`access_log`).
//!
//! Requests are counted by method, matched route and status, with a latency histogram per
//! route; the store's connection pool and caches, the log's size and the checkpoint's lag are
//! read when Prometheus scrapes. The access line names the matched route, never the path with
//! its values or the query string: those can carry a certificate number or a name.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::problem::AppError;
use super::state::AppState;
use prometheus_client::metrics::MetricType;

use crate::store::{ReplicaState, ReplicaStats, StoreStats};

/// Counts the request, times it, and writes its access line.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // Unmatched paths share one label: a scanner must not grow the label set.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.record(&method, route, status, elapsed.as_secs_f64());
    if let Some(log) = &state.access_log {
        log.line(method.as_str(), route, status, u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }
    response
}

/// What the registry knows of itself at a scrape: read from the store, then encoded.
#[derive(Debug)]
struct Snapshot {
    store: StoreStats,
    log_size: i64,
    checkpoint_size: i64,
    checkpoint_lag_seconds: f64,
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut gauge = |name: &str, help: &str, value: f64| -> Result<(), std::fmt::Error> {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)
        };
        gauge("zhicheng_log_size", "Entries in the transparency log", self.log_size as f64)?;
        gauge("zhicheng_checkpoint_size", "Entries the newest signed checkpoint covers", self.checkpoint_size as f64)?;
        gauge(
            "zhicheng_checkpoint_lag_seconds",
            "How long the oldest entry no checkpoint covers has waited (0 when all are covered)",
            self.checkpoint_lag_seconds,
        )?;
        gauge("zhicheng_db_pool_connections", "Open database connections", f64::from(self.store.pool_connections))?;
        gauge("zhicheng_db_pool_idle", "Idle database connections", f64::from(self.store.pool_idle))?;
        self.encode_write_lock(&mut encoder)?;
        if let Some(replica) = &self.store.replica {
            encode_replica(replica, &mut encoder)?;
        }
        for (name, help, pick) in [
            ("zhicheng_cache_hits", "Store cache hits", 0),
            ("zhicheng_cache_misses", "Store cache misses (answered by the database)", 1),
        ] {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (cache, hits, misses) in &self.store.caches {
                let counter = ConstCounter::new(if pick == 0 { *hits } else { *misses });
                let labels = [("cache", *cache)];
                counter.encode(family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

impl Snapshot {
    fn encode_write_lock(&self, encoder: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counter = ConstCounter::new(self.store.write_locks);
        let help = "Writes that took the write lock";
        counter.encode(encoder.encode_descriptor("zhicheng_db_write_locks", help, None, counter.metric_type())?)?;
        let counter = ConstCounter::new(self.store.write_lock_wait_seconds);
        let help = "Seconds writes waited for the write lock, in all";
        counter.encode(encoder.encode_descriptor(
            "zhicheng_db_write_lock_wait_seconds",
            help,
            None,
            counter.metric_type(),
        )?)
    }
}

/// The replica's state (one gauge per state, 1 for the current one), its lag, and where
/// lag-tolerant reads were answered.
fn encode_replica(replica: &ReplicaStats, encoder: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
    let lag = ConstGauge::new(replica.lag_seconds);
    let help = "How long the oldest log entry the replica lacks has been on the primary";
    lag.encode(encoder.encode_descriptor("zhicheng_replica_lag_seconds", help, None, lag.metric_type())?)?;
    let help = "The replica's state for this node (1: current)";
    let mut family = encoder.encode_descriptor("zhicheng_replica_state", help, None, MetricType::Gauge)?;
    for state in [ReplicaState::InUse, ReplicaState::Lagging, ReplicaState::Unreachable] {
        let name = serde_json::to_value(state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let gauge = ConstGauge::new(i64::from(replica.state == state));
        gauge.encode(family.encode_family(&[("state", name.as_str())])?)?;
    }
    let help = "Lag-tolerant reads (searches, lists, counts, exports) by the database that answered";
    let mut family = encoder.encode_descriptor("zhicheng_db_lag_tolerant_reads", help, None, MetricType::Counter)?;
    for (served_by, count) in [("replica", replica.replica_reads), ("primary", replica.primary_reads)] {
        ConstCounter::new(count).encode(family.encode_family(&[("served_by", served_by)])?)?;
    }
    Ok(())
}

/// Prometheus metrics: requests by route and status, latency histograms per route, cache hits
/// and misses, the log's size and the checkpoint's lag, the database pool. Meant for the
/// operator's Prometheus, not the public: the nginx configuration does not pass it on.
#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses((status = 200, description = "OpenMetrics text", body = String, content_type = "application/openmetrics-text")))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    let log_size = state.store.log_size().await?;
    let checkpoint_size = state.store.latest_checkpoint().await?.map_or(0, |c| c.size as i64);
    let checkpoint_lag_seconds = match log_size > checkpoint_size {
        true => {
            let waiting = state.store.events_after(&Default::default(), Some(checkpoint_size - 1), 1).await?;
            waiting.first().map_or(0.0, |e| (chrono::Utc::now() - e.logged_at).as_seconds_f64().max(0.0))
        }
        false => 0.0,
    };
    let mut registry = Registry::default();
    state.metrics.register(&mut registry);
    let snapshot = Snapshot { store: state.store.stats(), log_size, checkpoint_size, checkpoint_lag_seconds };
    registry.register_collector(Box::new(snapshot));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).map_err(|e| AppError::Internal(e.to_string()))?;
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], text).into_response())
}
