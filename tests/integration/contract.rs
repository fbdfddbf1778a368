//! The API contract (issue 13): every rejection is problem+json whose `type` resolves to its
//! documentation, limits are named right, and typed parameters mean what the document says.

use serde_json::json;

use crate::support::{TestApp, both};

both!(every_problem_type_resolves_and_every_rejection_is_problem_json,);

async fn every_problem_type_resolves_and_every_rejection_is_problem_json(app: TestApp) {
    // The page every `type` points at has a section for every code.
    let page = app.get("/errors").await;
    assert_eq!(page.status, 200);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.body.as_str().unwrap().to_string();
    for t in zhicheng::http::problem::PROBLEM_TYPES {
        assert!(html.contains(&format!("id=\"{}\"", t.code)), "no section for {}", t.code);
    }
    let missing = app.get("/api/v1/committees/nope").await;
    let type_uri = missing.body["type"].as_str().unwrap();
    let (path, anchor) = type_uri.split_once('#').unwrap();
    assert_eq!(path, "/errors");
    assert!(html.contains(&format!("id=\"{anchor}\"")));

    // A path segment that is not UTF-8: problem+json, not axum's plain text.
    let bad_path = app.get("/api/v1/committees/%FF%FE").await;
    assert_eq!(bad_path.problem(400, "invalid_path")["errors"][0]["field"], "path");

    // The 413 names the limit of the endpoint that refused, not a global one.
    let big = "x".repeat(70 * 1024);
    let too_large = app.send("POST", "/api/v1/verify", None, Some(json!({"qr": big})), &[]).await;
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.content_type(), "application/problem+json");
    let limit = zhicheng::http::certificates::MAX_VERIFY_BYTES;
    assert!(too_large.body["detail"].as_str().unwrap().contains(&limit.to_string()), "{}", too_large.body);

    // A typed parameter that is present but empty is refused, not read as absent.
    app.get("/api/v1/committees?region=").await.problem(400, "invalid_region");
    app.get("/api/v1/committees/cmt-x?as_of=").await.problem(400, "invalid_date");
    app.get("/api/v1/sanctions?limit=").await.problem(400, "out_of_range");
    // A log position beyond what storage can hold is out of range, not wrapped.
    app.get("/api/v1/log/entries?start=9223372036854775808").await.problem(400, "invalid_number");
    // Nesting is bounded: a body nested deeper than 128 levels is refused before it is walked.
    let deep = format!("{{\"credential\": {}1{}}}", "{\"a\": ".repeat(200), "}".repeat(200));
    let nested = app.send_raw("POST", "/api/v1/verify", None, "application/json", deep.into_bytes()).await;
    assert_eq!(nested.problem(400, "malformed_json")["errors"][0]["field"], "body", "{}", nested.body);
    // A credential must be an object.
    let not_object = app.send("POST", "/api/v1/verify", None, Some(json!({"credential": "text"})), &[]).await;
    assert_eq!(not_object.status, 422, "{}", not_object.body);
    assert_eq!(not_object.content_type(), "application/problem+json");
}
