//! A real PostgreSQL streaming replica (issue 16): a primary and a replica made from its base
//! backup (`.ci/start-replica`, `pg_basebackup -R`), a node reading searches and lists from the
//! replica while it keeps up, another node writing. Shown: reads are answered by the replica
//! (a write elsewhere is missing from them while replay is paused, within the lag bound), the
//! writing node reads its own writes, reads go back to the primary once the replica is behind
//! the bound or stopped, and return to the replica when it catches up or comes back.

use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::Connection;
use zhicheng::domain::publish::Role;

use crate::bulk::Server;
use crate::observability::{parse, sample};
use crate::outage::{Cluster, database_url, website_sanction};

const PRIMARY: &str = "55481";
const REPLICA: &str = "55482";
const MAX_LAG: Duration = Duration::from_secs(2);

struct Node {
    base: String,
    client: reqwest::Client,
    token: String,
}

impl Node {
    async fn publish(&self, host: &str, n: u32) {
        let response = self
            .client
            .post(format!("{}/api/v1/admin/sanctions", self.base))
            .bearer_auth(&self.token)
            .json(&website_sanction(host, n))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }

    /// Whether a sanction search finds `host`.
    async fn lists(&self, host: &str) -> bool {
        let url = format!("{}/api/v1/sanctions?q={host}", self.base);
        let response = self.client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let list: Value = response.json().await.unwrap();
        list["sanctions"].as_array().unwrap().iter().any(|s| s["subject"]["name"] == host)
    }

    async fn replica_state(&self) -> String {
        let ready: Value = self.client.get(format!("{}/readyz", self.base)).send().await.unwrap().json().await.unwrap();
        ready["replica"].as_str().unwrap_or_default().to_string()
    }

    async fn wait_for(&self, state: &str, within: Duration) -> Duration {
        let asked = Instant::now();
        loop {
            let now = self.replica_state().await;
            if now == state {
                return asked.elapsed();
            }
            assert!(asked.elapsed() < within, "the replica stayed {now}, not {state}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// (lag-tolerant reads answered by the replica, by the primary)
    async fn reads(&self) -> (f64, f64) {
        let text = self.client.get(format!("{}/metrics", self.base)).send().await.unwrap().text().await.unwrap();
        let scrape = parse(&text);
        let by = |who| sample(&scrape, "zhicheng_db_lag_tolerant_reads_total", &[("served_by", who)]).unwrap();
        (by("replica"), by("primary"))
    }
}

async fn on_replica(url: &str, sql: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut conn).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_tolerant_reads_use_the_replica_while_it_keeps_up() {
    if std::env::var("ZHICHENG_TEST_DATABASE_URL").is_err() {
        eprintln!("skipping the replica test: no PostgreSQL for the suite");
        return;
    }
    let (primary, admin) = Cluster::start(PRIMARY);
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::raw_sql("CREATE DATABASE registry").execute(&mut conn).await.unwrap();
    drop(conn);
    let url = database_url(&admin, "registry");
    let store = zhicheng::store::connect(&url, true).await.unwrap();
    store.import_dataset(&crate::fixtures::registry(), "fixture").await.unwrap();
    let (_, token) = store.create_token("jilin", Role::Publisher, None, None, "test", None).await.unwrap();
    drop(store);
    let (replica, replica_admin) = Cluster::replicate(&primary, REPLICA);
    let replica_url = database_url(&replica_admin, "registry");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let lag = MAX_LAG.as_secs().to_string();
    let replica_args = ["--replica-url", replica_url.as_str(), "--replica-max-lag", lag.as_str()];
    let reader_server = Server::start_with_args(&url, "info", port, None, &replica_args).await;
    let writer_server = Server::start(&url, "info").await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let node = |server: &Server| Node {
        base: format!("http://{}", server.addr),
        client: client.clone(),
        token: token.clone(),
    };
    let (reader, writer) = (node(&reader_server), node(&writer_server));
    reader.wait_for("in_use", Duration::from_secs(20)).await;

    // Reads are answered by the replica: with its replay paused, another node's write is
    // missing from them for as long as the bound allows, then the primary answers.
    reader.publish("before-pause.example.com", 1).await;
    reader.wait_for("in_use", Duration::from_secs(10)).await;
    let (replica_reads, _) = reader.reads().await;
    assert!(reader.lists("before-pause.example.com").await);
    assert_eq!(reader.reads().await.0, replica_reads + 1.0, "the search was answered by the replica");
    on_replica(&replica_url, "SELECT pg_wal_replay_pause()").await;
    writer.publish("elsewhere.example.com", 2).await;
    let written = Instant::now();
    assert!(!reader.lists("elsewhere.example.com").await, "a replica read within the bound may miss it");
    assert!(written.elapsed() < MAX_LAG, "the check above ran within the bound");
    let fell_back = reader.wait_for("lagging", MAX_LAG * 3).await;
    assert!(reader.lists("elsewhere.example.com").await, "past the bound, the primary answers");

    // The writing node reads its own writes, whatever the replica's lag.
    on_replica(&replica_url, "SELECT pg_wal_replay_resume()").await;
    reader.wait_for("in_use", Duration::from_secs(10)).await;
    on_replica(&replica_url, "SELECT pg_wal_replay_pause()").await;
    reader.publish("own-write.example.com", 3).await;
    assert!(reader.lists("own-write.example.com").await, "read-your-writes on the writing node");
    assert_eq!(reader.replica_state().await, "lagging", "until the replica has the node's write");
    on_replica(&replica_url, "SELECT pg_wal_replay_resume()").await;
    let caught_up = reader.wait_for("in_use", Duration::from_secs(10)).await;
    let (replica_reads, primary_reads) = reader.reads().await;
    assert!(reader.lists("own-write.example.com").await);
    assert_eq!(reader.reads().await, (replica_reads + 1.0, primary_reads), "back on the replica");

    // The replica stops: the primary answers at once, and the replica is used again once back.
    replica.pg_ctl("stop");
    let stopped = Instant::now();
    assert!(reader.lists("own-write.example.com").await, "a search is answered with the replica down");
    let answered = stopped.elapsed();
    reader.wait_for("unreachable", Duration::from_secs(5)).await;
    let (replica_reads, primary_reads) = reader.reads().await;
    assert!(reader.lists("elsewhere.example.com").await);
    assert_eq!(reader.reads().await, (replica_reads, primary_reads + 1.0), "the primary answered");
    replica.pg_ctl("start");
    let back = reader.wait_for("in_use", Duration::from_secs(30)).await;

    let text = reader.client.get(format!("{}/metrics", reader.base)).send().await.unwrap().text().await.unwrap();
    let writes = sample(&parse(&text), "zhicheng_db_write_locks_total", &[]).unwrap();
    assert!(writes >= 2.0, "the writes through this node took the write lock: {writes}");
    eprintln!(
        "replica: lagging reported {fell_back:?} after a write elsewhere (bound {MAX_LAG:?}), in use again \
         {caught_up:?} after replay resumed; a search answered in {answered:?} with the replica stopped; \
         in use again {back:?} after it restarted"
    );
}
