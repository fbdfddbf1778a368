//! The request counters behind `/metrics` (`http::metrics`), kept in the application state.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use axum::http::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: Arc<str>,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: Arc<str>,
}

/// The request counters, kept for the process's life. Labels are built without allocating: a
/// request is counted on every path, the cheapest ones included (docs/PERFORMANCE.md).
#[derive(Clone)]
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    /// Each route template as its label (`{id}` written `:id`), made once.
    routes: Arc<RwLock<HashMap<String, Arc<str>>>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        fn latency_histogram() -> Histogram {
            // 100 µs to about 40 s.
            Histogram::new(exponential_buckets(0.0001, 2.5, 15))
        }
        Metrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            routes: Default::default(),
        }
    }
}

impl Metrics {
    /// Counts one answered request and its latency.
    pub fn record(&self, method: &Method, route: &str, status: u16, seconds: f64) {
        let route = self.route_label(route);
        let labels = RequestLabels { method: method_label(method), route: route.clone(), status };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&RouteLabels { route }).observe(seconds);
    }

    fn route_label(&self, route: &str) -> Arc<str> {
        if let Some(label) = self.routes.read().unwrap_or_else(PoisonError::into_inner).get(route) {
            return label.clone();
        }
        // Path parameters as `:name`: braces inside a label value trip up line-based scrapers.
        let label: Arc<str> = route.replace('{', ":").replace('}', "").into();
        self.routes.write().unwrap_or_else(PoisonError::into_inner).insert(route.to_string(), label.clone());
        label
    }

    /// Adds the request counters to a scrape's registry.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "zhicheng_http_requests",
            "HTTP requests by method, matched route and status",
            self.requests.clone(),
        );
        registry.register(
            "zhicheng_http_request_duration_seconds",
            "HTTP request latency by matched route",
            self.latency.clone(),
        );
    }
}

/// The standard methods by name; anything else is `other`, so the label set stays bounded.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
