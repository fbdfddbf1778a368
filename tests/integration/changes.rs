//! The change feed (issue 15): a mirror pages through every publication, proves what it got
//! against the signed checkpoint, resumes exactly where it stopped, and can follow the feed as
//! a Server-Sent Events stream.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zhicheng::domain::publish::Role;
use zhicheng::tlog::signed_note::{Checkpoint, NoteVerifier};

use crate::bulk::Server;
use crate::support::{TestApp, both};

both!(a_mirror_follows_the_feed_and_proves_it_complete, public_answers_revalidate_with_strong_etags,);

fn leaf(entry: &Value) -> [u8; 32] {
    let bytes = zhicheng::crypto::jcs(&entry["entry"]);
    let hash = zhicheng::tlog::merkle::leaf_hash(&bytes);
    let served = entry["leaf_hash"].as_str().unwrap();
    assert_eq!(base64_of(&hash), served, "the served leaf hash is the entry's");
    hash
}

fn base64_of(hash: &[u8; 32]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(hash)
}

/// Every entry after `after`, page by page; the last page's answer.
async fn follow(app: &TestApp, mut after: Option<u64>, leaves: &mut Vec<[u8; 32]>) -> Value {
    loop {
        let query = after.map_or("limit=1000".to_string(), |a| format!("after={a}&limit=1000"));
        let page = app.ok(&format!("/api/v1/changes?{query}")).await;
        for entry in page["changes"].as_array().unwrap() {
            assert_eq!(entry["index"].as_u64(), Some(leaves.len() as u64), "in order, none skipped");
            leaves.push(leaf(entry));
        }
        after = page["next_after"].as_u64();
        if page["changes"].as_array().unwrap().is_empty() {
            return page;
        }
    }
}

async fn a_mirror_follows_the_feed_and_proves_it_complete(app: TestApp) {
    let demo = zhicheng::demo::demo(zhicheng::store::today(), 50, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    let before = app.ok("/api/v1/changes").await;
    assert_eq!(before["checkpoint_size"], 0, "nothing is served before a checkpoint covers it");
    assert!(before["changes"].as_array().unwrap().is_empty());
    app.checkpoint().await;

    let mut leaves = Vec::new();
    let last = follow(&app, None, &mut leaves).await;
    let verifier = NoteVerifier::parse(&app.log.verifier_key()).unwrap();
    let note = last["checkpoint"].as_str().unwrap();
    let checkpoint = Checkpoint::parse(verifier.open(note).expect("signed by the log")).unwrap();
    assert_eq!(checkpoint.size, leaves.len() as u64, "the mirror holds every entry the checkpoint covers");
    assert_eq!(zhicheng::tlog::merkle::root(&leaves), checkpoint.root, "and they are the log's");

    // A new publication appears once a checkpoint covers it, and the mirror resumes after the
    // last index it held.
    let token = app.token("hr-220000", Role::Publisher).await;
    let sanction = json!({
        "subject": {"kind": "website", "name": "mirror-test.example.com"}, "measure": "public_criticism", "region": "220000",
        "effective_from": "2025-06-01", "document_number": "吉人社监〔2025〕990号",
        "legal_basis": "人社部发〔2024〕56号", "summary": "变更订阅测试"
    });
    app.post("/api/v1/admin/sanctions", &token, sanction).await.created();
    let held = leaves.len() as u64 - 1;
    let unsigned = app.ok(&format!("/api/v1/changes?after={held}")).await;
    assert!(unsigned["changes"].as_array().unwrap().is_empty(), "not yet in a checkpoint");
    assert_eq!(unsigned["next_after"], held);
    app.checkpoint().await;
    let resumed = app.ok(&format!("/api/v1/changes?after={held}")).await;
    let new = resumed["changes"].as_array().unwrap();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["index"], held + 1);
    assert!(new[0].to_string().contains("mirror-test.example.com"));

    // Bad positions are named.
    let bad = app.get("/api/v1/changes?after=-1").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["errors"][0]["field"], "after");
    assert_eq!(app.get("/api/v1/changes?limit=1001").await.status, 400);
}

/// The feed as Server-Sent Events from the real server: resumed with `Last-Event-ID`, then a
/// publication pushed as it is checkpointed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_streams_as_server_sent_events() {
    let app = TestApp::sqlite().await;
    let demo = zhicheng::demo::demo(zhicheng::store::today(), 20, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    let token = app.token("hr-220000", Role::Publisher).await;
    let server = Server::start(&app.url, "info").await;
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    // The server's sequencer signs a checkpoint within a second.
    let mut size = 0;
    for _ in 0..50 {
        let page: Value = client.get(format!("{base}/api/v1/changes")).send().await.unwrap().json().await.unwrap();
        size = page["checkpoint_size"].as_u64().unwrap();
        if size > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(size > 3);

    let mut stream = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    let request = format!(
        "GET /api/v1/changes HTTP/1.1\r\nhost: {}\r\naccept: text/event-stream\r\nlast-event-id: {}\r\n\r\n",
        server.addr,
        size - 3
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut seen = String::new();
    let mut buffer = [0u8; 65536];
    let ids = |text: &str| text.lines().filter_map(|l| l.strip_prefix("id: ")).map(str::to_string).collect::<Vec<_>>();
    while ids(&seen).len() < 2 {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await.expect("events").unwrap();
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    assert!(seen.starts_with("HTTP/1.1 200") && seen.contains("text/event-stream"), "{seen}");
    assert_eq!(ids(&seen), [(size - 2).to_string(), (size - 1).to_string()], "resumed after Last-Event-ID");

    let sanction = json!({
        "subject": {"kind": "website", "name": "sse-test.example.com"}, "measure": "public_criticism", "region": "220000",
        "effective_from": "2025-06-01", "document_number": "吉人社监〔2025〕991号",
        "legal_basis": "人社部发〔2024〕56号", "summary": "推送测试"
    });
    let published =
        client.post(format!("{base}/api/v1/admin/sanctions")).bearer_auth(&token).json(&sanction).send().await.unwrap();
    assert_eq!(published.status(), 201);
    while ids(&seen).len() < 3 {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer)).await.expect("pushed").unwrap();
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    assert_eq!(ids(&seen)[2], size.to_string());
    assert!(seen.contains("sse-test.example.com"), "the new publication, pushed");
}

async fn public_answers_revalidate_with_strong_etags(app: TestApp) {
    let demo = zhicheng::demo::demo(zhicheng::store::today(), 20, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    let uri = "/api/v1/committees/cmt-220300-03";
    let first = app.get(uri).await;
    assert_eq!(first.status, 200);
    let etag = first.headers["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "a strong ETag: {etag}");
    assert_eq!(first.headers["cache-control"], "public, no-cache", "a cache keeps it but always asks");
    let again = app.send("GET", uri, None, None, &[("if-none-match", etag.as_str())]).await;
    assert_eq!(again.status, 304);
    assert_eq!(again.body, Value::String(String::new()), "no body");
    assert_eq!(again.headers["etag"], etag.as_str());
    // A change to the committee changes its tag.
    let token = app.token("hr-220300", Role::Publisher).await;
    let renamed = json!({"contact": "0434-0000000"});
    let r = app.send("PATCH", "/api/v1/admin/committees/cmt-220300-03", Some(&token), Some(renamed), &[]).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let changed = app.send("GET", uri, None, None, &[("if-none-match", etag.as_str())]).await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.headers["etag"], etag.as_str());
    // Lists and the catalog too; writes and errors are not tagged.
    assert!(app.get("/api/v1/sanctions").await.headers.contains_key("etag"));
    assert!(!app.get("/api/v1/committees/nope").await.headers.contains_key("etag"));
}
