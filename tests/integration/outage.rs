//! A database outage under a running server (issue 16): PostgreSQL is stopped and started again
//! while the server runs. Cached reads keep being answered, writes get 503 with `Retry-After`
//! within a bounded time instead of hanging, `/readyz` says the database is unreachable, and the
//! server recovers by itself when the database returns.
//!
//! The test starts a PostgreSQL cluster of its own (`.ci/start-postgres` on another port), since
//! it stops it; like the rest of the PostgreSQL suite it runs when `ZHICHENG_TEST_DATABASE_URL`
//! is set.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection;
use zhicheng::domain::publish::Role;

use crate::bulk::Server;

const PORT: &str = "55479";

/// The cluster `.ci/start-postgres` started on `port`: its data directory, found as
/// `.ci/stop-postgres` finds it.
fn data_dir(port: &str) -> PathBuf {
    std::fs::read_dir("/tmp")
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("zhicheng-pg.")))
        .find(|p| std::fs::read_to_string(p.join("postmaster.pid")).is_ok_and(|t| t.lines().any(|l| l == port)))
        .expect("the test's own cluster")
}

/// Stops or starts the cluster in `data` on `port`.
fn pg_ctl(port: &str, data: &std::path::Path, action: &str) {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .max()
        .expect("PostgreSQL binaries");
    let options = format!("-p {port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300");
    let command = format!(
        "'{}/pg_ctl' -D '{}' -l '{}/server.log' -w -o '{options}' {action} -m fast",
        bin.display(),
        data.display(),
        data.display()
    );
    let out = std::process::Command::new("su").args(["postgres", "-s", "/bin/sh", "-c", &command]).output().unwrap();
    assert!(out.status.success(), "pg_ctl {action}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A cluster of the test's own, stopped and removed when the test ends, whatever happened.
pub(crate) struct Cluster {
    port: &'static str,
    data: PathBuf,
}

impl Cluster {
    /// Starts a new cluster on `port` (`.ci/start-postgres`) and returns it with its admin URL.
    pub(crate) fn start(port: &'static str) -> (Cluster, String) {
        Cluster::run(
            port,
            std::process::Command::new("bash").arg(".ci/start-postgres").env("ZHICHENG_TEST_PG_PORT", port),
        )
    }

    /// Starts a streaming replica of `primary` on `port` (`.ci/start-replica`).
    pub(crate) fn replicate(primary: &Cluster, port: &'static str) -> (Cluster, String) {
        Cluster::run(port, std::process::Command::new("bash").args([".ci/start-replica", primary.port, port]))
    }

    fn run(port: &'static str, command: &mut std::process::Command) -> (Cluster, String) {
        let started = command.output().expect("start a cluster");
        assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
        let cluster = Cluster { port, data: data_dir(port) };
        (cluster, String::from_utf8(started.stdout).unwrap().trim().to_string())
    }

    pub(crate) fn pg_ctl(&self, action: &str) {
        pg_ctl(self.port, &self.data, action);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash").args([".ci/stop-postgres", self.port]).output();
    }
}

/// A sanction against the website `host`, as an authority in Jilin publishes it.
pub(crate) fn website_sanction(host: &str, n: u32) -> serde_json::Value {
    json!({"subject": {"kind": "website", "name": host}, "measure": "public_criticism",
        "region": "220000", "effective_from": "2025-06-01", "document_number": format!("吉人社监〔2025〕{n}号"),
        "legal_basis": "人社部发〔2024〕56号", "summary": "停库测试"})
}

/// `admin`'s URL with the database `name` instead.
pub(crate) fn database_url(admin: &str, name: &str) -> String {
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_rides_out_a_database_outage() {
    if std::env::var("ZHICHENG_TEST_DATABASE_URL").is_err() {
        eprintln!("skipping the outage test: no PostgreSQL for the suite");
        return;
    }
    let (cluster, admin) = Cluster::start(PORT);
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::raw_sql("CREATE DATABASE outage").execute(&mut conn).await.unwrap();
    drop(conn);
    let url = database_url(&admin, "outage");
    let store = zhicheng::store::connect(&url, true).await.unwrap();
    store.import_dataset(&crate::fixtures::registry(), "fixture").await.unwrap();
    let (_, token) = store.create_token("jilin", Role::Publisher, None, None, "test", None).await.unwrap();
    drop(store);

    let server = Server::start(&url, "info").await;
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let committee = format!("{base}/api/v1/committees/c-eng");
    let write = |n: u32| {
        client
            .post(format!("{base}/api/v1/admin/sanctions"))
            .bearer_auth(&token)
            .json(&website_sanction(&format!("outage-{n}.example.com"), n))
            .send()
    };
    assert_eq!(write(1).await.unwrap().status(), 201);
    // Once the node has followed its own write in the log, a read is kept in its cache.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(client.get(&committee).send().await.unwrap().status(), 200, "read once: now cached");

    // The database goes away.
    cluster.pg_ctl("stop");
    let asked = Instant::now();
    let refused = write(2).await.unwrap();
    let refused_after = asked.elapsed();
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert!(problem["title"].as_str().is_some_and(|t| !t.is_empty()), "{problem}");
    assert!(refused_after < Duration::from_secs(10), "a write waited {refused_after:?} for a database that is down");
    let asked = Instant::now();
    let cached = client.get(&committee).send().await.unwrap();
    assert_eq!(cached.status(), 200, "a cached read is answered while the database is down");
    let cached_after = asked.elapsed();
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "/readyz says the node cannot serve everything");

    // It comes back: the same server recovers without a restart.
    cluster.pg_ctl("start");
    let back = Instant::now();
    loop {
        let answer = write(3).await.unwrap();
        if answer.status() == 201 {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(30), "no recovery: {}", answer.status());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recovered_after = back.elapsed();
    assert_eq!(client.get(format!("{base}/readyz")).send().await.unwrap().status(), 200);
    eprintln!(
        "outage: a write refused after {refused_after:?}, a cached read answered in {cached_after:?}, \
         writes accepted again {recovered_after:?} after the database restarted"
    );
}
