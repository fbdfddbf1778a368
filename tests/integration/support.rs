//! `TestApp`: a fresh database per test (a temporary SQLite file, or a new PostgreSQL
//! database on the server `ZHICHENG_TEST_DATABASE_URL` names), the router over it, and
//! helpers to call it like a client would.

use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::Connection;
use tower::ServiceExt;
use zhicheng::http::limits::RateLimits;
use zhicheng::http::router::build_router;
use zhicheng::http::state::AppState;
use zhicheng::store::{self, Dataset, DynStore};

pub struct TestApp {
    pub router: Router,
    pub store: DynStore,
    /// The log signer the app's state holds.
    pub log: std::sync::Arc<zhicheng::transparency::LogSigner>,
    /// The URL of this test's own database.
    pub url: String,
    _cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, database: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, database } = self {
            let (admin_url, database) = (admin_url.clone(), database.clone());
            // Drop runs outside async; a scoped runtime on its own thread removes the database.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                        )))
                        .execute(&mut conn)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub const PG_URL_VAR: &str = "ZHICHENG_TEST_DATABASE_URL";
pub const REQUIRE_PG_VAR: &str = "ZHICHENG_REQUIRE_POSTGRES";

impl TestApp {
    pub async fn sqlite() -> TestApp {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = store::connect(&url, true).await.expect("SQLite store");
        TestApp::with(store, url, Cleanup::Sqlite(dir))
    }

    /// `None` when no PostgreSQL server is configured — unless the run requires one
    /// (`ZHICHENG_REQUIRE_POSTGRES=1`, as CI sets), in which case a missing server fails.
    pub async fn postgres() -> Option<TestApp> {
        TestApp::postgres_from("").await
    }

    /// A PostgreSQL app over a new database that first ran `sql` (a plain dump, say).
    pub async fn postgres_from(sql: &str) -> Option<TestApp> {
        let Ok(admin_url) = std::env::var(PG_URL_VAR) else {
            assert!(
                std::env::var(REQUIRE_PG_VAR).is_err(),
                "{REQUIRE_PG_VAR} is set but {PG_URL_VAR} is not: the PostgreSQL run would be skipped"
            );
            eprintln!("skipping the PostgreSQL variant: {PG_URL_VAR} is not set");
            return None;
        };
        let database = format!("zt_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let mut conn = sqlx::PgConnection::connect(&admin_url).await.expect("PostgreSQL admin connection");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let url = with_database(&admin_url, &database);
        let cleanup = Cleanup::Postgres { admin_url, database };
        if !sql.is_empty() {
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("PostgreSQL test connection");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut conn).await.expect("set-up SQL");
        }
        let store = store::connect(&url, true).await.expect("PostgreSQL store");
        Some(TestApp::with(store, url, cleanup))
    }

    /// An SQLite app over a copy of an existing database file.
    pub async fn sqlite_from(file: &[u8]) -> TestApp {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("test.db");
        std::fs::write(&path, file).expect("database copy");
        let url = format!("sqlite://{}", path.display());
        let store = store::connect(&url, false).await.expect("SQLite store");
        TestApp::with(store, url, Cleanup::Sqlite(dir))
    }

    /// Every test goes through the caching decorator, as the server does: a write followed
    /// by a read anywhere in the suite would catch a stale cache.
    fn with(store: DynStore, url: String, cleanup: Cleanup) -> TestApp {
        let store: DynStore = std::sync::Arc::new(zhicheng::store::cached::CachedStore::new(store, Default::default()));
        let log = zhicheng::transparency::LogSigner::new("test", log_key().signing_key().clone()).expect("log signer");
        let state = AppState::new(store.clone(), registry_key(), log, settings(RateLimits::off()));
        let log = state.log.clone();
        TestApp { router: build_router(state), store, log, url, _cleanup: cleanup }
    }

    /// The same app with other settings: quotas (off in tests unless one turns them on: most
    /// send more than a person would), the scan budget. Every request of a test comes from
    /// 127.0.0.1 unless it says otherwise.
    pub fn configured(mut self, change: impl FnOnce(&mut zhicheng::http::state::Settings)) -> TestApp {
        let log = zhicheng::transparency::LogSigner::clone(&self.log);
        let mut settings = settings(RateLimits::off());
        change(&mut settings);
        self.router = build_router(AppState::new(self.store.clone(), registry_key(), log, settings));
        self
    }

    /// The registry the demo certificates of a test belong to.
    pub fn demo_registry() -> zhicheng::demo::DemoRegistry {
        zhicheng::demo::DemoRegistry { url: REGISTRY_URL.into(), holder_key: std::sync::Arc::new(holder_key()) }
    }

    /// Does what the server's sequencer does every second: signs a checkpoint if the log
    /// grew. Returns the newest checkpoint.
    pub async fn checkpoint(&self) -> zhicheng::store::StoredCheckpoint {
        zhicheng::transparency::sign_checkpoint(self.store.as_ref(), &self.log).await.expect("sign checkpoint");
        self.store.latest_checkpoint().await.expect("read checkpoint").expect("a checkpoint")
    }

    /// A GET answered with raw bytes (tiles).
    pub async fn bytes(&self, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let request = Request::get(uri).body(Body::empty()).expect("request");
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.into_body().collect().await.expect("body").to_bytes().to_vec())
    }

    pub async fn load(&self, dataset: &Dataset) {
        self.store.import_dataset(dataset, "fixture").await.expect("fixture import");
    }

    /// The demo's supervision (sessions, notices, supervisors, a visit, draw plans) for a loaded
    /// demo dataset, published through the write path as `zhicheng demo` does.
    pub async fn publish_demo_supervision(&self, dataset: &Dataset, today: chrono::NaiveDate) {
        for (authority_id, role, operations) in zhicheng::demo::supervision::supervision(dataset, today).publications {
            let actor = zhicheng::domain::publish::Actor::new(authority_id, "demo", role);
            self.store.execute(&actor, &operations, None, None).await.expect("the demo's supervision records");
        }
    }

    pub async fn get(&self, uri: &str) -> Response {
        let request = Request::get(uri).body(Body::empty()).expect("request");
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Response { status, headers, body }
    }

    /// Any request; `token` goes in `Authorization: Bearer`, a JSON `body` with its content type.
    pub async fn send(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = match body {
            Some(json) => builder.header("content-type", "application/json").body(Body::from(json.to_string())),
            None => builder.body(Body::empty()),
        }
        .expect("request");
        self.send_request(request).await
    }

    /// Sends a raw body with a content type (imports, malformed JSON).
    pub async fn send_raw(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<Body>,
    ) -> Response {
        let mut builder = Request::builder().method(method).uri(uri).header("content-type", content_type);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        self.send_request(builder.body(body.into()).expect("request")).await
    }

    pub async fn post(&self, uri: &str, token: &str, body: Value) -> Response {
        self.send("POST", uri, Some(token), Some(body), &[]).await
    }

    /// Any prepared request (from 127.0.0.1 unless it carries its own `ConnectInfo`).
    pub async fn send_request(&self, mut request: Request<Body>) -> Response {
        if request.extensions().get::<ConnectInfo<std::net::SocketAddr>>().is_none() {
            request.extensions_mut().insert(ConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 40000))));
        }
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Response { status, headers, body }
    }

    /// A token for `authority` with `role`, created directly in the store.
    pub async fn token(&self, authority: &str, role: zhicheng::domain::publish::Role) -> String {
        self.store.create_token(authority, role, None, Some("test"), "test", None).await.expect("token").1
    }

    /// GET that must succeed with JSON.
    pub async fn ok(&self, uri: &str) -> Value {
        let r = self.get(uri).await;
        assert_eq!(r.status, StatusCode::OK, "GET {uri}: {}", r.body);
        r.body
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Response {
    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Asserts a problem+json answer with this status and first error code; returns the body.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "expected {status} {code}, got {}", self.body);
        assert_eq!(self.content_type(), "application/problem+json", "{}", self.body);
        assert_eq!(self.body["errors"][0]["code"], code, "{}", self.body);
        &self.body
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "expected {status}, got {} {}", self.status, self.body);
        &self.body
    }

    #[track_caller]
    pub fn created(&self) -> &Value {
        assert_eq!(self.status.as_u16(), 201, "expected 201, got {} {}", self.status, self.body);
        &self.body["applied"]
    }
}

fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// Runs each listed `async fn(TestApp)` as two tests: `sqlite::name` and `postgres::name`.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::TestApp::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::support::TestApp::postgres().await {
                        super::$name(app).await
                    }
                }
            )*
        }
    };
}
pub(crate) use both;

fn settings(limits: RateLimits) -> zhicheng::http::state::Settings {
    zhicheng::http::state::Settings { limits, ..zhicheng::http::state::Settings::new(REGISTRY_URL) }
}

/// Every test app is this registry: its status lists are under this URL.
pub const REGISTRY_URL: &str = "http://registry.test";

/// The test registry's key (fixed, so certificates made before an app is built are its own).
pub fn registry_key() -> zhicheng::verify::registry_key::RegistryKey {
    zhicheng::verify::registry_key::RegistryKey::from_signing(ed25519_dalek::SigningKey::from_bytes(&[42; 32]))
}

/// The test registry's log key: every node of one registry signs its checkpoints with one key,
/// and a server refuses a database whose checkpoints another key signed.
pub fn log_key() -> zhicheng::verify::registry_key::RegistryKey {
    zhicheng::verify::registry_key::RegistryKey::from_signing(ed25519_dalek::SigningKey::from_bytes(&[43; 32]))
}

/// The key of the test registry's holder ID digests.
pub fn holder_key() -> zhicheng::domain::holder_id::HolderIdKey {
    registry_key().holder_id_key()
}
