//! The service as a whole: OpenAPI drift, migrations in step, a real server on a port,
//! and the HTTP edges (wrong method, oversized body).

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use crate::support::TestApp;

#[tokio::test]
async fn committed_openapi_matches_what_the_service_serves() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
        .expect("openapi/openapi.json");
    let generated = zhicheng::cli::openapi_json();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi.json is stale: regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
    let app = TestApp::sqlite().await;
    let served = app.ok("/openapi.json").await;
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(served, committed, "the served document differs from the committed one");
    for path in [
        "/api/v1/committees",
        "/api/v1/committees/{id}",
        "/api/v1/committees/{id}/coverage",
        "/api/v1/authorities",
        "/api/v1/sanctions",
        "/readyz",
    ] {
        assert!(served["paths"].get(path).is_some(), "{path} is not documented");
    }
}

#[test]
fn both_migration_folders_hold_the_same_versions() {
    let versions = |db: &str| -> BTreeSet<String> {
        std::fs::read_dir(format!("{}/migrations/{db}", env!("CARGO_MANIFEST_DIR")))
            .expect("migrations folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect()
    };
    let (sqlite, postgres) = (versions("sqlite"), versions("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres must hold the same versions");
}

#[tokio::test]
async fn api_docs_for_people_are_served_from_the_binary() {
    let app = TestApp::sqlite().await;
    let r = app.get("/docs/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.as_str().unwrap_or_default().contains("swagger"), "the docs page is Swagger UI");
}

#[tokio::test]
async fn wrong_method_and_oversized_body_get_problems() {
    let app = TestApp::sqlite().await;
    let request = Request::post("/api/v1/committees").body(Body::from("{}")).unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn a_real_server_on_port_zero_answers_http() {
    let app = TestApp::sqlite().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, app.router.clone()).into_future());
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /api/v1/catalog/series HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("工程技术人员"));
    server.abort();
}

#[tokio::test]
async fn a_missing_sqlite_file_is_not_silently_created() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("typo.db").display());
    let error = zhicheng::store::connect(&url, false).await.err().expect("refused");
    assert!(error.to_string().contains("does not exist"), "{error}");
    assert!(!dir.path().join("typo.db").exists());
    assert!(zhicheng::store::connect("data/zhicheng.db", true).await.is_err(), "a bare path is refused");
}
