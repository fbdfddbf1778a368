//! The request counters behind `/metrics` (`http::metrics`), kept in the application state.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// The request counters, kept for the process's life.
#[derive(Clone)]
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        fn latency_histogram() -> Histogram {
            // 100 µs to about 40 s.
            Histogram::new(exponential_buckets(0.0001, 2.5, 15))
        }
        Metrics { requests: Family::default(), latency: Family::new_with_constructor(latency_histogram) }
    }
}

impl Metrics {
    /// Counts one answered request and its latency.
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        // Path parameters as `:name`: braces inside a label value trip up line-based scrapers.
        let route = route.replace('{', ":").replace('}', "");
        let labels = RequestLabels { method: method.to_string(), route: route.clone(), status: status.to_string() };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&RouteLabels { route }).observe(seconds);
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
