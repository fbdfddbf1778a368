//! Bounded cost per client (issue 13): per-IP quotas on the oracles (lookups, verification)
//! answered 429 problem+json with Retry-After, and a server loop that does not hold idle or
//! slow-header connections, nor more connections than its cap.

use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zhicheng::http::limits::{Quota, RateLimits};

use zhicheng::domain::publish::Role;

use crate::bulk::Server;
use crate::support::{TestApp, both};

both!(
    lookups_and_verifications_are_limited_per_client,
    a_server_drops_idle_and_slow_clients_and_caps_connections,
    api_keys_read_in_bulk_with_a_larger_share_of_their_own,
);

async fn lookups_and_verifications_are_limited_per_client(app: TestApp) {
    let limits = RateLimits {
        lookups: Quota::per_minute(6),
        verifications: Quota::per_minute(9),
        bulk: Quota::per_minute(2),
        trust_forwarded_for: false,
        key_factor: 1,
    };
    let app = app.configured(|s| s.limits = limits);
    let lookup = |from: [u8; 4]| {
        let mut request = Request::post("/api/v1/certificates/lookup")
            .header("content-type", "application/json")
            .body(Body::from(json!({"number": "N-1", "name": "张三"}).to_string()))
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(std::net::SocketAddr::from((from, 5000))));
        app.send_request(request)
    };
    // A burst of a third of a minute's quota, then a refusal that says when to come back.
    for _ in 0..2 {
        assert_eq!(lookup([10, 0, 0, 1]).await.status, 404);
    }
    let refused = lookup([10, 0, 0, 1]).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.content_type(), "application/problem+json");
    assert_eq!(refused.body["code"], "rate-limited");
    let retry_after: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    // Another client is not held back by the first.
    assert_eq!(lookup([10, 0, 0, 2]).await.status, 404);
    // Verification has its own quota: the lookups spent none of it.
    let verify = |n: u32| {
        app.send(
            "POST",
            "/api/v1/verify",
            None,
            Some(json!({"certificate_number": format!("N-{n}"), "name": "张三"})),
            &[],
        )
    };
    for n in 0..3 {
        assert_eq!(verify(n).await.status, 200);
    }
    assert_eq!(verify(9).await.status, 429);
    // Reads that check nothing are not limited.
    for _ in 0..20 {
        assert_eq!(app.get("/api/v1/committees").await.status, 200);
    }
}

async fn api_keys_read_in_bulk_with_a_larger_share_of_their_own(app: TestApp) {
    app.load(&crate::fixtures::registry()).await;
    let limits = RateLimits {
        lookups: Quota::per_minute(6),
        verifications: None,
        bulk: None,
        trust_forwarded_for: false,
        key_factor: 5,
    };
    let app = app.configured(|s| s.limits = limits);
    // An authority's admin issues an API key to an outside user.
    let admin = app.token("jilin", Role::Admin).await;
    let issued =
        app.post("/api/v1/admin/tokens", &admin, json!({"role": "reader", "label": "长春市市场监督管理局"})).await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let key = issued.body["secret"].as_str().unwrap().to_string();
    // It reads in bulk, and publishes nothing.
    let export = app.send("GET", "/api/v1/exports/committees", Some(&key), None, &[]).await;
    assert_eq!(export.status, 200);
    let publish = app
        .post("/api/v1/admin/committees", &key, crate::publishing::committee_body("某评审委员会", "220100", 5))
        .await;
    assert_eq!(publish.problem(403, "wrong_role")["errors"][0]["field"], "role");

    let lookup = |token: Option<String>| {
        let mut request = Request::post("/api/v1/certificates/lookup").header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let mut request = request.body(Body::from(json!({"number": "N-1", "name": "张三"}).to_string())).unwrap();
        request.extensions_mut().insert(ConnectInfo(std::net::SocketAddr::from(([10, 0, 0, 9], 5000))));
        app.send_request(request)
    };
    // The address's share (a burst of 2) is spent; the key, from the same address, has its own
    // bucket five times as large.
    for _ in 0..2 {
        assert_eq!(lookup(None).await.status, 404);
    }
    assert_eq!(lookup(None).await.status, 429);
    for n in 0..10 {
        assert_eq!(lookup(Some(key.clone())).await.status, 404, "request {n} with the key");
    }
    let refused = lookup(Some(key.clone())).await;
    assert_eq!(refused.status, 429);
    assert!(refused.headers.contains_key("retry-after"));
    // A made-up token is no way around the address's quota.
    assert_eq!(lookup(Some("zct_made_up".into())).await.status, 429);
    // Another key has a bucket of its own.
    let other = app.token("jilin", Role::Reader).await;
    assert_eq!(lookup(Some(other)).await.status, 404);
}

async fn a_server_drops_idle_and_slow_clients_and_caps_connections(app: TestApp) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let args = ["--header-read-timeout", "1", "--max-connections", "2", "--lookups-per-minute", "3"];
    let server = Server::start_with_args(&app.url, "info", port, None, &args).await;
    let addr = server.addr.clone();
    let closed_within = |mut stream: tokio::net::TcpStream, limit: Duration| async move {
        let mut buf = [0u8; 256];
        matches!(tokio::time::timeout(limit, stream.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
    };
    // An idle connection and one that never finishes its headers are both closed.
    let idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let (idle_closed, slow_closed) =
        tokio::join!(closed_within(idle, Duration::from_secs(5)), closed_within(slow, Duration::from_secs(5)));
    assert!(idle_closed && slow_closed, "idle {idle_closed}, slow {slow_closed}");

    // Two connections held open: a third waits until one of them is closed.
    let first = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let second = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = tokio::net::TcpStream::connect(&addr).await.unwrap();
    third.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let early = tokio::time::timeout(Duration::from_millis(400), third.read_to_end(&mut answer)).await;
    assert!(early.is_err() && answer.is_empty(), "the third connection waits: {}", String::from_utf8_lossy(&answer));
    drop((first, second));
    tokio::time::timeout(Duration::from_secs(5), third.read_to_end(&mut answer)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));

    // Over the wire the client is its peer address: the fourth lookup from here is refused.
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let body = json!({"number": "N-1", "name": "张三"}).to_string();
        let raw =
            crate::bulk::http(&addr, "POST", "/api/v1/certificates/lookup", None, "application/json", body.as_bytes())
                .await
                .unwrap();
        statuses.push(raw[9..12].to_string());
    }
    assert_eq!(statuses, ["404", "429"], "a burst of one, then 429");
    drop(server);
}
