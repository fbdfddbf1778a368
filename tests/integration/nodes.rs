//! One registry on several nodes (issue 16): server processes on one PostgreSQL that share the
//! registry's keys are one registry to their readers, and a node given another log key refuses
//! to start instead of signing a second history.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zhicheng::domain::publish::Role;

use crate::bulk::Server;
use crate::support::TestApp;

fn zhicheng(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_zhicheng")).args(args).output().expect("run zhicheng")
}

async fn body(client: &reqwest::Client, url: &str) -> (reqwest::StatusCode, Vec<u8>) {
    let response = client.get(url).send().await.unwrap();
    (response.status(), response.bytes().await.unwrap().to_vec())
}

/// The size of the newest checkpoint `base` serves, once it covers at least `at_least` entries.
async fn checkpointed(client: &reqwest::Client, base: &str, at_least: u64) -> u64 {
    for _ in 0..100 {
        let page: Value = client.get(format!("{base}/api/v1/changes")).send().await.unwrap().json().await.unwrap();
        let size = page["checkpoint_size"].as_u64().unwrap_or(0);
        if size >= at_least && size > 0 {
            return size;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} signed no checkpoint covering {at_least} entries");
}

/// Both nodes answer `path` with the same bytes once they have caught up with the same log
/// size (each follows the other's writes within a second).
async fn same_bytes(client: &reqwest::Client, a: &str, b: &str, path: &str) {
    let size = |bytes: &[u8]| -> Option<i64> {
        let v: Value = serde_json::from_slice(bytes).ok()?;
        v["credentialSubject"]["log_size"].as_i64()
    };
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (status_a, from_a) = body(client, &format!("{a}{path}")).await;
        let (status_b, from_b) = body(client, &format!("{b}{path}")).await;
        assert_eq!((status_a.as_u16(), status_b.as_u16()), (200, 200), "{path}");
        if from_a == from_b {
            return;
        }
        let first = from_a.iter().zip(&from_b).position(|(x, y)| x != y).unwrap_or(from_a.len().min(from_b.len()));
        let around = |bytes: &[u8]| {
            String::from_utf8_lossy(&bytes[first.saturating_sub(80)..(first + 80).min(bytes.len())]).into_owned()
        };
        // Different bytes are only allowed while the nodes are at different log sizes (a node
        // follows the other's writes within a second; checkpoints are cached for one).
        assert!(
            Instant::now() < deadline,
            "{path}: the nodes signed different bytes (log sizes {:?} and {:?}):\n{}\n{}",
            size(&from_a),
            size(&from_b),
            around(&from_a),
            around(&from_b)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `serve` on `url` with these key files, expected to exit: its output.
async fn start_refused(url: &str, log_key: &std::path::Path, registry_key: &std::path::Path) -> std::process::Output {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_zhicheng"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", url, "--deployment", "test"])
        .arg("--log-key")
        .arg(log_key)
        .arg("--registry-key")
        .arg(registry_key)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(30), run).await.expect("exits").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgresql_are_one_registry() {
    let Some(app) = TestApp::postgres().await else { return };
    let demo = zhicheng::demo::demo(zhicheng::store::today(), 20, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    let token = app.token("hr-220000", Role::Publisher).await;
    // Both with the test registry's keys (`Server`'s default) and one public URL: one identity.
    let free_port = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let public = ["--public-url", crate::support::REGISTRY_URL];
    let a = Server::start_with_args(&app.url, "info", free_port(), None, &public).await;
    let b = Server::start_with_args(&app.url, "info", free_port(), None, &public).await;
    let (a_url, b_url) = (format!("http://{}", a.addr), format!("http://{}", b.addr));
    let client = reqwest::Client::new();
    checkpointed(&client, &a_url, 1).await;

    // A write through one node is served by the other within a second.
    let sanction = json!({
        "subject": {"kind": "website", "name": "two-nodes.example.com"}, "measure": "public_criticism",
        "region": "220000", "effective_from": "2025-06-01", "document_number": "吉人社监〔2025〕991号",
        "legal_basis": "人社部发〔2024〕56号", "summary": "两个节点"
    });
    let created = client
        .post(format!("{a_url}/api/v1/admin/sanctions"))
        .bearer_auth(&token)
        .json(&sanction)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let written = Instant::now();
    loop {
        let listed = body(&client, &format!("{b_url}/api/v1/sanctions?limit=100")).await.1;
        if String::from_utf8_lossy(&listed).contains("two-nodes.example.com") {
            break;
        }
        assert!(written.elapsed() < Duration::from_secs(1), "node B did not serve node A's write within a second");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    // One log: both nodes' checkpoints verify with the one key, and a monitor that follows
    // both sees one history (no false tamper alarm).
    let size = checkpointed(&client, &a_url, 0).await.max(checkpointed(&client, &b_url, 0).await);
    checkpointed(&client, &a_url, size).await;
    checkpointed(&client, &b_url, size).await;
    let key = String::from_utf8(body(&client, &format!("{a_url}/api/v1/log/key")).await.1).unwrap();
    assert_eq!(key, String::from_utf8(body(&client, &format!("{b_url}/api/v1/log/key")).await.1).unwrap());
    let key = key.trim();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("monitor.json");
    let state = state.to_str().unwrap();
    for url in [&a_url, &b_url, &a_url] {
        let verify = zhicheng(&["log", "verify", "--url", url, "--key", key]);
        assert!(verify.status.success(), "log verify {url}: {}", String::from_utf8_lossy(&verify.stdout));
        let monitor = zhicheng(&["log", "monitor", "--url", url, "--state", state, "--once", "--key", key]);
        assert!(monitor.status.success(), "log monitor {url}: {}", String::from_utf8_lossy(&monitor.stdout));
    }

    // The same bytes from both for the same log size: the checkpoint, the bundle, a status list.
    for path in
        ["/log/checkpoint", "/api/v1/bundle", "/api/v1/status-lists/hr-220000.revocation", "/api/v1/registry/key"]
    {
        same_bytes(&client, &a_url, &b_url, path).await;
    }

    // A node given another log key refuses to start, naming both keys.
    let keys = tempfile::tempdir().unwrap();
    let other = zhicheng::verify::registry_key::RegistryKey::generate();
    let other_file = keys.path().join("log.key");
    zhicheng::verify::registry_key::write_secret(
        &other_file,
        &zhicheng::crypto::multikey::encode_secret(other.signing_key()),
    )
    .unwrap();
    let registry_file = keys.path().join("registry.key");
    let registry_secret = zhicheng::crypto::multikey::encode_secret(crate::support::registry_key().signing_key());
    zhicheng::verify::registry_key::write_secret(&registry_file, &registry_secret).unwrap();
    let refused = start_refused(&app.url, &other_file, &registry_file).await;
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "started with another log key: {said}");
    let ours = zhicheng::transparency::LogSigner::new("test", other.signing_key().clone()).unwrap().verifier_key();
    let theirs = key.rsplit_once('+').unwrap().0;
    assert!(said.contains(&ours) && said.contains(theirs), "names both keys: {said}");

    // And a node given no keys at all does not make its own for an existing registry.
    let empty = tempfile::tempdir().unwrap();
    let missing = start_refused(&app.url, &empty.path().join("log.key"), &registry_file).await;
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("ZHICHENG_LOG_SECRET"));
    assert!(!empty.path().join("log.key").exists(), "no key was made");
}
