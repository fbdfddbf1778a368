//! What an operator watches (issue 16): `/metrics` as Prometheus parses it, and one access line
//! per request that names the route, never the values in the path or the query.

use serde_json::Value;
use zhicheng::domain::publish::Role;

use crate::bulk::Server;
use crate::support::{TestApp, both};

both!(metrics_parse_and_count_what_was_served, access_lines_name_routes_never_values);

async fn get(client: &reqwest::Client, url: String) -> (u16, String) {
    let response = client.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The value of the sample `name` whose labels include every pair of `labels`.
pub(crate) fn sample(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .find(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(ref buckets) => buckets.last().map_or(0.0, |b| b.count),
            prometheus_parse::Value::Summary(_) => f64::NAN,
        })
}

pub(crate) fn parse(text: &str) -> prometheus_parse::Scrape {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines).expect("Prometheus parses /metrics")
}

async fn metrics_parse_and_count_what_was_served(app: TestApp) {
    app.load(&crate::fixtures::registry()).await;
    let server = Server::start(&app.url, "info").await;
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    for _ in 0..3 {
        assert_eq!(get(&client, format!("{base}/api/v1/committees/c-eng")).await.0, 200);
    }
    assert_eq!(get(&client, format!("{base}/api/v1/committees/no-such-committee")).await.0, 404);
    assert_eq!(get(&client, format!("{base}/no/such/page/1234")).await.0, 404);

    let response = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    let text = response.text().await.unwrap();
    let scrape = parse(&text);

    let route = "/api/v1/committees/:id";
    let served = |status| {
        sample(&scrape, "zhicheng_http_requests_total", &[("method", "GET"), ("route", route), ("status", status)])
    };
    assert_eq!(served("200"), Some(3.0), "{text}");
    assert_eq!(served("404"), Some(1.0), "{text}");
    assert_eq!(
        sample(&scrape, "zhicheng_http_requests_total", &[("route", "unmatched"), ("status", "404")]),
        Some(1.0),
        "unknown paths share one label"
    );
    assert!(!text.contains("/no/such/page"), "no raw path becomes a label");
    // The latency histogram counted the four requests to the route.
    let buckets = scrape
        .samples
        .iter()
        .find(|s| s.metric == "zhicheng_http_request_duration_seconds" && s.labels.get("route") == Some(route));
    match buckets.map(|s| &s.value) {
        Some(prometheus_parse::Value::Histogram(buckets)) => {
            assert_eq!(buckets.last().map(|b| b.count), Some(4.0), "{text}");
            assert!(buckets.len() > 10);
        }
        other => panic!("no latency histogram for {route}: {other:?}\n{text}"),
    }

    let changes: Value = client.get(format!("{base}/api/v1/changes")).send().await.unwrap().json().await.unwrap();
    let log_size = sample(&scrape, "zhicheng_log_size", &[]).expect("the log size");
    assert!(log_size >= changes["checkpoint_size"].as_f64().unwrap() && log_size > 0.0, "{text}");
    assert!(sample(&scrape, "zhicheng_checkpoint_lag_seconds", &[]).is_some_and(|lag| lag >= 0.0));
    assert!(sample(&scrape, "zhicheng_db_pool_connections", &[]).is_some_and(|n| n >= 1.0), "{text}");
    let hits = sample(&scrape, "zhicheng_cache_hits_total", &[("cache", "committees")]).expect("cache hits");
    let misses = sample(&scrape, "zhicheng_cache_misses_total", &[("cache", "committees")]).expect("cache misses");
    // The first read of each of the two committees asked went to the database (the page cache
    // answers the repeats before the store is asked).
    assert!(misses >= 2.0, "({hits}, {misses})");
}

async fn access_lines_name_routes_never_values(app: TestApp) {
    app.load(&crate::fixtures::registry()).await;
    let token = app.token("jilin", Role::Publisher).await;
    let mut server = Server::start(&app.url, "info").await;
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let secret_query = "王秘密";
    get(&client, format!("{base}/api/v1/committees?q={secret_query}")).await;
    get(&client, format!("{base}/api/v1/certificates/SECRET-NUMBER-123/tlog-proof")).await;
    let lookup = serde_json::json!({"number": "SECRET-NUMBER-456", "name": "李秘密"});
    client.post(format!("{base}/api/v1/certificates/lookup")).json(&lookup).send().await.unwrap();
    client.get(format!("{base}/api/v1/admin/events")).bearer_auth(&token).send().await.unwrap();
    let mut logs = String::new();
    while !logs.contains("route=/api/v1/admin/events ") {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), server.logs.recv())
            .await
            .expect("the access lines in time")
            .expect("the server's log");
        logs.push_str(&line);
        logs.push('\n');
    }
    let access: Vec<&str> = logs.lines().filter(|l| l.contains("zhicheng::access")).collect();
    assert!(access.len() >= 4, "one line per request: {logs}");
    let line = |route: &str| access.iter().find(|l| l.contains(&format!("route={route} "))).copied();
    let committees = line("/api/v1/committees").expect("the search's line");
    assert!(
        committees.contains("method=GET") && committees.contains("status=200") && committees.contains("latency_us=")
    );
    assert!(line("/api/v1/certificates/{number}/tlog-proof").is_some(), "{logs}");
    assert!(line("/api/v1/certificates/lookup").is_some_and(|l| l.contains("method=POST")), "{logs}");
    for secret in [secret_query, "SECRET-NUMBER", "李秘密", &token] {
        assert!(!logs.contains(secret), "{secret} reached the log: {logs}");
    }
}
