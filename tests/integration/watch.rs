//! Watch-lists and webhooks (issue 15): a receiver enrolled through a CSV upload is told of a
//! suspension, a revocation and a sanction of what it watches, each signed per Standard
//! Webhooks with the registry's key; while it is down the notifications wait and are retried,
//! and it receives them once it is back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Verifier;
use serde_json::{Value, json};
use zhicheng::domain::publish::Role;
use zhicheng::webhooks::{Dispatcher, WebhookSettings};

use crate::support::{TestApp, both, registry_key};

both!(a_watcher_is_told_of_changes_and_gets_what_it_missed_while_down, watch_lists_refuse_what_they_cannot_keep,);

type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on `port` that accepts every POST to /hook.
async fn start_receiver(port: u16, received: Received) -> tokio::task::JoinHandle<()> {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let received = received.clone();
            async move {
                received.lock().unwrap().push((headers, body));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("the port is free again");
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() })
}

/// Waits up to a minute for `done`, checking every 100 ms.
async fn within_a_minute(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..600 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not within a minute: {what}");
}

/// Checks a notification's Standard Webhooks signature against the published key.
fn verify_signature(key: &ed25519_dalek::VerifyingKey, headers: &HeaderMap, body: &str) {
    let id = headers["webhook-id"].to_str().unwrap();
    let timestamp = headers["webhook-timestamp"].to_str().unwrap();
    let signature = headers["webhook-signature"].to_str().unwrap().strip_prefix("v1a,").expect("an Ed25519 signature");
    let signature = ed25519_dalek::Signature::from_slice(&STANDARD.decode(signature).unwrap()).unwrap();
    key.verify(format!("{id}.{timestamp}.{body}").as_bytes(), &signature).expect("signed by the registry");
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
    assert!((0..120).contains(&age), "a fresh timestamp");
}

async fn a_watcher_is_told_of_changes_and_gets_what_it_missed_while_down(app: TestApp) {
    let app = app.configured(|s| s.webhooks_allow_private = true);
    let demo = zhicheng::demo::demo(zhicheng::store::today(), 40, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    let certificate = demo.dataset.certificates.iter().find(|c| c.changes.is_empty()).unwrap();
    let number = certificate.credential["credentialSubject"]["certificateNumber"].as_str().unwrap().to_string();
    let committee = demo.dataset.committees.iter().find(|c| c.region.starts_with("22")).unwrap().id.clone();

    // The receiver's port, not listening yet: it is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let key = app.token("hr-110000", Role::Publisher).await;
    let url = format!("http://127.0.0.1:{port}/hook");
    app.send("PUT", "/api/v1/watch/endpoint", Some(&key), Some(json!({"url": url})), &[]).await.assert_status(200);
    let csv = format!("kind,id\ncertificate,{number}\ncommittee,{committee}\n");
    let enrolled = app.send_raw("POST", "/api/v1/watch", Some(&key), "text/csv", csv.clone()).await;
    enrolled.assert_status(200);
    assert_eq!(enrolled.body["items"].as_array().unwrap().len(), 2);
    let exported = app.send("GET", "/api/v1/watch?format=csv", Some(&key), None, &[]).await;
    let mut lines: Vec<&str> = exported.body.as_str().unwrap().lines().collect();
    lines.sort();
    let mut expected: Vec<&str> = csv.lines().collect();
    expected.sort();
    assert_eq!(lines, expected, "the list exports as it was uploaded");

    let settings = WebhookSettings {
        backoff: vec![Duration::from_millis(300); 20],
        allow_private: true,
        timeout: Duration::from_secs(5),
        every: Duration::from_millis(100),
    };
    Dispatcher::new(app.store.clone(), registry_key().signing_key().clone(), settings).spawn();
    // The dispatcher's first round starts the lists at the log's end: older events are not news.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let issuer = app.token(&certificate.status_authority, Role::Issuer).await;
    let suspend = json!({"reason": "关注测试：核查中"});
    app.post(&format!("/api/v1/admin/certificates/{number}/suspend"), &issuer, suspend).await.created();
    within_a_minute("the failed attempts are in the delivery log", async || {
        let log = app.send("GET", "/api/v1/watch/deliveries", Some(&key), None, &[]).await.body;
        log["deliveries"][0]["attempts"].as_i64().unwrap_or(0) >= 2
    })
    .await;
    let log = app.send("GET", "/api/v1/watch/deliveries", Some(&key), None, &[]).await.body;
    assert_eq!(log["deliveries"][0]["delivered_at"], Value::Null);
    assert_eq!(log["deliveries"][0]["last_error"], "the receiver could not be reached");

    // Back up: the missed suspension arrives, then the revocation and a sanction of the committee.
    let received: Received = Arc::default();
    let _receiver = start_receiver(port, received.clone()).await;
    let revoke = json!({"reason": "关注测试：弄虚作假"});
    app.post(&format!("/api/v1/admin/certificates/{number}/revoke"), &issuer, revoke).await.created();
    let jilin = app.token("hr-220000", Role::Publisher).await;
    let sanction = json!({
        "subject": {"kind": "committee", "id": committee}, "measure": "warning",
        "effective_from": "2026-07-01", "document_number": "吉人社监〔2026〕999号",
        "legal_basis": "人社部发〔2024〕56号", "summary": "关注测试"
    });
    app.post("/api/v1/admin/sanctions", &jilin, sanction).await.created();
    within_a_minute("three notifications", async || received.lock().unwrap().len() >= 3).await;

    let published = app.ok("/api/v1/webhooks/key").await;
    let raw = STANDARD.decode(published["key"].as_str().unwrap().strip_prefix("whpk_").unwrap()).unwrap();
    let verifying = ed25519_dalek::VerifyingKey::from_bytes(&raw.try_into().unwrap()).unwrap();
    let received = received.lock().unwrap().clone();
    let mut kinds = Vec::new();
    for (headers, body) in &received {
        verify_signature(&verifying, headers, body);
        let body: Value = serde_json::from_str(body).unwrap();
        kinds.push(body["type"].as_str().unwrap().to_string());
    }
    kinds.sort();
    assert_eq!(kinds, ["certificate.revoked", "certificate.suspended", "sanction.published"]);
    let revoked = received
        .iter()
        .map(|(_, b)| serde_json::from_str::<Value>(b).unwrap())
        .find(|b| b["type"] == "certificate.revoked");
    let revoked = revoked.unwrap();
    assert_eq!(revoked["data"]["watched"], json!([{"kind": "certificate", "id": number}]));
    assert!(revoked["data"]["index"].as_i64().is_some(), "the log index, to check against the change feed");
    let ids: std::collections::BTreeSet<_> = received.iter().map(|(h, _)| h["webhook-id"].clone()).collect();
    assert_eq!(ids.len(), 3, "each notification has its own id");

    let log = app.send("GET", "/api/v1/watch/deliveries", Some(&key), None, &[]).await.body;
    let deliveries = log["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 3);
    assert!(deliveries.iter().all(|d| d["delivered_at"].is_string() && d["next_attempt_at"].is_null()));
    assert!(deliveries.iter().any(|d| d["attempts"].as_i64().unwrap() >= 3), "the missed one took retries");

    // Removing an item stops its notifications.
    let remove = json!({"remove": [{"kind": "committee", "id": committee}]});
    let after = app.post("/api/v1/watch", &key, remove).await;
    after.assert_status(200);
    assert_eq!(after.body["items"], json!([{"kind": "certificate", "id": number}]));
}

async fn watch_lists_refuse_what_they_cannot_keep(app: TestApp) {
    let demo = zhicheng::demo::demo(zhicheng::store::today(), 5, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    let key = app.token("hr-110000", Role::Publisher).await;
    for url in ["http://127.0.0.1:9/hook", "http://10.0.0.8/hook", "ftp://example.com/", "hook"] {
        let refused = app.send("PUT", "/api/v1/watch/endpoint", Some(&key), Some(json!({"url": url})), &[]).await;
        assert_eq!(refused.problem(400, "invalid_url")["errors"][0]["field"], "url", "{url}");
    }
    let bad =
        app.send_raw("POST", "/api/v1/watch", Some(&key), "text/csv", "kind,id\ncertificate,A-1\nperson,张三\n").await;
    assert_eq!(bad.problem(400, "invalid_line")["errors"][0]["field"], "line 3");
    let empty = app.post("/api/v1/watch", &key, json!({"add": [{"kind": "certificate", "id": " "}]})).await;
    assert_eq!(empty.problem(400, "invalid_id")["errors"][0]["field"], "add[0].id");
    let too_many: Vec<Value> = (0..10_001).map(|i| json!({"kind": "certificate", "id": format!("N-{i}")})).collect();
    let refused = app.post("/api/v1/watch", &key, json!({"add": too_many})).await;
    refused.problem(422, "too_many_watched");
    let list = app.send("GET", "/api/v1/watch", Some(&key), None, &[]).await;
    assert_eq!(list.body["items"], json!([]), "a refused change leaves nothing behind");
    let anonymous = app.get("/api/v1/watch").await;
    assert_eq!(anonymous.status, 401);
    // Each token has its own list.
    let other = app.token("hr-110000", Role::Publisher).await;
    app.post("/api/v1/watch", &key, json!({"add": [{"kind": "certificate", "id": "A-1"}]})).await.assert_status(200);
    let theirs = app.send("GET", "/api/v1/watch", Some(&other), None, &[]).await;
    assert_eq!(theirs.body["items"], json!([]));
}
