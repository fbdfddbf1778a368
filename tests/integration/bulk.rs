//! Bulk import at scale, and what a crash in the middle of one leaves behind — against the
//! real `zhicheng` binary, killed with SIGKILL.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use zhicheng::domain::publish::Role;

use crate::fixtures;
use crate::publishing::credit_code;
use crate::support::{TestApp, both};

both!(
    a_100k_line_import_with_one_bad_line_writes_nothing_then_applies_whole,
    sigkill_during_import_leaves_the_database_untouched,
    tokens_never_reach_the_logs
);

pub const BULK_LINES: usize = 100_000;

/// `lines` operations as NDJSON: committees, each followed later by its grant. When
/// `bad_line` is set, that line (1-based, a grant) has a window over the three-year cap.
pub fn bulk_file(lines: usize, bad_line: Option<usize>) -> String {
    let half = lines / 2;
    let mut out = String::with_capacity(lines * 330);
    for i in 0..half {
        let line = json!({
            "op": "create_committee", "id": format!("bulk-{i:06}"), "name": format!("批量评审委员会{i:06}"),
            "kind": "intermediate", "organizing_unit": {"name": format!("批量单位{i:06}"), "credit_code": credit_code(1_000 + i as u64)},
            "region": "220100"
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    for i in 0..half {
        let until = if bad_line == Some(half + i + 1) { "2029-12-31" } else { "2026-12-31" };
        let line = json!({
            "op": "grant_authorization", "committee_id": format!("bulk-{i:06}"), "series": "ENGINEERING",
            "levels": ["intermediate"], "scope": {"regions": ["220100"]}, "valid_from": "2025-01-01", "valid_until": until,
            "document_number": format!("吉人社函〔2025〕{i}号")
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

async fn a_100k_line_import_with_one_bad_line_writes_nothing_then_applies_whole(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let token = app.token("jilin", Role::Publisher).await;
    let before = app.store.counts().await.unwrap();
    let bad_line = BULK_LINES * 3 / 4;
    let rejected = app
        .send_raw(
            "POST",
            "/api/v1/admin/import",
            Some(&token),
            "application/x-ndjson",
            bulk_file(BULK_LINES, Some(bad_line)),
        )
        .await;
    rejected.problem(422, "window_exceeds_cap");
    let errors = rejected.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{}", rejected.body);
    assert_eq!(errors[0]["line"], bad_line);
    assert_eq!(errors[0]["field"], "valid_until");
    let after_rejection = app.store.counts().await.unwrap();
    assert_eq!(
        (after_rejection.committees, after_rejection.authorizations),
        (before.committees, before.authorizations),
        "nothing written"
    );

    let applied = app
        .send_raw("POST", "/api/v1/admin/import", Some(&token), "application/x-ndjson", bulk_file(BULK_LINES, None))
        .await;
    assert_eq!(applied.status.as_u16(), 200, "{}", applied.body);
    assert_eq!(applied.body["applied"], BULK_LINES);
    let after = app.store.counts().await.unwrap();
    assert_eq!(after.committees, before.committees + (BULK_LINES / 2) as i64);
    assert_eq!(after.authorizations, before.authorizations + (BULK_LINES / 2) as i64);
    let last = app.ok(&format!("/api/v1/committees/bulk-{:06}", BULK_LINES / 2 - 1)).await;
    assert_eq!(last["committee"]["authorizations"][0]["status"], "active");
}

/// The `zhicheng` binary serving `url` on a free loopback port, its log lines on a channel.
pub struct Server {
    pub child: tokio::process::Child,
    pub addr: String,
    pub logs: tokio::sync::mpsc::UnboundedReceiver<String>,
    /// The key file the server signs its log with.
    pub log_key: std::path::PathBuf,
    /// Holds the server's key files; removed with the server.
    _keys: tempfile::TempDir,
}

impl Server {
    pub async fn start(url: &str, log_filter: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Server::start_with(url, log_filter, port, None).await
    }

    /// A server on `port` signing its log with the key in `log_key` (created if missing; the
    /// test registry's log key when `None`).
    pub async fn start_with(url: &str, log_filter: &str, port: u16, log_key: Option<&std::path::Path>) -> Server {
        Server::start_with_args(url, log_filter, port, log_key, &[]).await
    }

    /// As `start_with`, with more `serve` arguments. Rate limits are off unless `args` set them:
    /// most tests send more than one person would.
    pub async fn start_with_args(
        url: &str,
        log_filter: &str,
        port: u16,
        log_key: Option<&std::path::Path>,
        args: &[&str],
    ) -> Server {
        let addr = format!("127.0.0.1:{port}");
        let keys = tempfile::tempdir().unwrap();
        let log_key = log_key.map_or_else(
            || {
                let path = keys.path().join("log.key");
                let secret = zhicheng::crypto::multikey::encode_secret(crate::support::log_key().signing_key());
                zhicheng::verify::registry_key::write_secret(&path, &secret).unwrap();
                path
            },
            std::path::Path::to_path_buf,
        );
        // The test registry's key, so holder ID digests made anywhere in a test check everywhere.
        let secret = zhicheng::crypto::multikey::encode_secret(crate::support::registry_key().signing_key());
        zhicheng::verify::registry_key::write_secret(&keys.path().join("registry.key"), &secret).unwrap();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_zhicheng"))
            .args(["serve", "--listen", &addr, "--database-url", url, "--deployment", "test", "--log-key"])
            .arg(&log_key)
            .arg("--registry-key")
            .arg(keys.path().join("registry.key"))
            .args(args)
            .env("ZHICHENG_LOOKUPS_PER_MINUTE", "0")
            .env("ZHICHENG_VERIFICATIONS_PER_MINUTE", "0")
            .env("ZHICHENG_BULK_REQUESTS_PER_MINUTE", "0")
            .env("RUST_LOG", log_filter)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start zhicheng");
        let (tx, mut logs) = tokio::sync::mpsc::unbounded_channel();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send(line);
            }
        });
        let mut server = Server { child, addr, logs: tokio::sync::mpsc::unbounded_channel().1, log_key, _keys: keys };
        let mut seen = Vec::new();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(30), logs.recv())
                .await
                .expect("server start")
                .expect("server log");
            seen.push(line.clone());
            if line.contains("zhicheng is serving") {
                break;
            }
        }
        let (tx2, rx2) = tokio::sync::mpsc::unbounded_channel();
        for l in seen {
            let _ = tx2.send(l);
        }
        tokio::spawn(async move {
            while let Some(l) = logs.recv().await {
                if tx2.send(l).is_err() {
                    break;
                }
            }
        });
        server.logs = rx2;
        server
    }

    /// Waits for a log line containing `needle`.
    pub async fn wait_for_log(&mut self, needle: &str) {
        loop {
            let line = tokio::time::timeout(Duration::from_secs(60), self.logs.recv())
                .await
                .expect("log line in time")
                .expect("server log");
            if line.contains(needle) {
                return;
            }
        }
    }

    /// Everything logged so far.
    pub fn drain_logs(&mut self) -> String {
        let mut all = String::new();
        while let Ok(line) = self.logs.try_recv() {
            all.push_str(&line);
            all.push('\n');
        }
        all
    }
}

/// A plain HTTP/1.1 request over a fresh connection; the raw response text.
pub async fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    Ok(String::from_utf8_lossy(&response).into_owned())
}

async fn sigkill_during_import_leaves_the_database_untouched(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let token = app.token("jilin", Role::Publisher).await;
    let before = (
        app.store.counts().await.unwrap(),
        app.store.events_after(&Default::default(), None, 100_000).await.unwrap().len(),
    );
    let mut server = Server::start(&app.url, "info,zhicheng::store=debug").await;
    let addr = server.addr.clone();
    let body = bulk_file(BULK_LINES, None);
    let upload = tokio::spawn(async move {
        http(&addr, "POST", "/api/v1/admin/import", Some(&token), "application/x-ndjson", body.as_bytes()).await
    });
    // Kill while the batch's rows are being written inside the open transaction.
    server.wait_for_log("writing a chunk").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    server.child.start_kill().expect("SIGKILL");
    server.child.wait().await.unwrap();
    let response = upload.await.unwrap();
    assert!(
        !response.as_ref().is_ok_and(|r| r.contains("200 OK")),
        "the import finished before the kill; use a larger file"
    );
    // Let PostgreSQL notice the dropped connection and roll back; SQLite recovers from its WAL on open.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let reopened = zhicheng::store::connect(&app.url, false).await.expect("the database opens after the crash");
    let after = (
        reopened.counts().await.unwrap(),
        reopened.events_after(&Default::default(), None, 100_000).await.unwrap().len(),
    );
    assert_eq!(
        (after.0.committees, after.0.authorizations, after.1),
        (before.0.committees, before.0.authorizations, before.1),
        "the killed import left rows behind"
    );
    // And the registry still takes the whole import afterwards.
    let outcome = reopened
        .execute(
            &zhicheng::domain::publish::Actor::new("jilin", "test", Role::Publisher),
            &zhicheng::publish::import::parse_ndjson(&bulk_file(2_000, None)).unwrap().operations,
            None,
            None,
        )
        .await
        .expect("import after recovery");
    assert!(matches!(outcome, zhicheng::store::WriteOutcome::Applied(a) if a.len() == 2_000));
    // The log agrees with the registry: every event's leaf and tile, and the checkpoint the
    // killed server signed, are intact.
    let key =
        zhicheng::verify::registry_key::RegistryKey::load_or_create(&server.log_key).unwrap().signing_key().clone();
    let verifier = zhicheng::transparency::LogSigner::new("test", key).unwrap().verifier();
    let report = zhicheng::transparency::audit(reopened.as_ref(), &verifier).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.size as usize, before.1 + 2_000);
}

async fn tokens_never_reach_the_logs(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let admin = app.token("jilin", Role::Admin).await;
    let mut server = Server::start(&app.url, "debug,sqlx=debug,tower_http=trace").await;
    let created = http(
        &server.addr,
        "POST",
        "/api/v1/admin/tokens",
        Some(&admin),
        "application/json",
        br#"{"role":"publisher"}"#,
    )
    .await
    .unwrap();
    assert!(created.contains("201 Created"), "{created}");
    let body: serde_json::Value = serde_json::from_str(created.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let publisher = body["secret"].as_str().unwrap().to_string();
    let committee = json!({"name": "日志测试评委会", "kind": "junior", "organizing_unit": {"name": "某单位", "credit_code": credit_code(77)}, "region": "220100"});
    let written = http(
        &server.addr,
        "POST",
        "/api/v1/admin/committees",
        Some(&publisher),
        "application/json",
        committee.to_string().as_bytes(),
    )
    .await
    .unwrap();
    assert!(written.contains("201 Created"), "{written}");
    let refused = http(
        &server.addr,
        "POST",
        "/api/v1/admin/committees",
        Some("zct_wrong-secret-value"),
        "application/json",
        b"{}",
    )
    .await
    .unwrap();
    assert!(refused.contains("401"), "{refused}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
    let logs = server.drain_logs();
    assert!(logs.contains("published"), "the server logged the writes: {logs}");
    for secret in [&admin, &publisher, &"zct_wrong-secret-value".to_string()] {
        assert!(!logs.contains(secret.as_str()) && !logs.contains(&secret[4..]), "a token reached the logs");
        assert!(!logs.contains(&zhicheng::store::secrets::digest(secret)), "a token digest reached the logs");
    }
}
