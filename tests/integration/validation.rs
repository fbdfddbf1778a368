//! Bad input gets a 400/404 problem+json that names the parameter — never a 500.

use axum::http::StatusCode;

use crate::fixtures;
use crate::support::{TestApp, both};

both!(bad_parameters_get_problem_details_naming_them, unknown_resources_and_routes_are_404_problems);

async fn bad_parameters_get_problem_details_naming_them(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let cases: &[(&str, &str, &str)] = &[
        ("/api/v1/committees/c-eng/coverage?series=NOPE&level=senior", "series", "unknown_series"),
        ("/api/v1/committees/c-eng/coverage?level=senior", "series", "required"),
        ("/api/v1/committees/c-eng/coverage?series=HEALTH", "level", "required"),
        ("/api/v1/committees/c-eng/coverage?series=HEALTH&level=professor", "level", "unknown_level"),
        ("/api/v1/committees/c-eng/coverage?series=HEALTH&level=senior&on=2023-02-30", "on", "invalid_date"),
        ("/api/v1/committees/c-eng/coverage?series=HEALTH&level=senior&on=yesterday", "on", "invalid_date"),
        ("/api/v1/committees/c-eng/coverage?series=HEALTH&level=senior&region=22", "region", "invalid_region"),
        ("/api/v1/committees/c-eng/coverage?series=HEALTH&level=senior&region=999999", "region", "unknown_region"),
        (
            "/api/v1/committees/c-eng/coverage?series=HEALTH&level=senior&own_staff=maybe",
            "own_staff",
            "invalid_boolean",
        ),
        ("/api/v1/committees?limit=100000", "limit", "out_of_range"),
        ("/api/v1/committees?limit=0", "limit", "out_of_range"),
        ("/api/v1/committees?limit=ten", "limit", "out_of_range"),
        ("/api/v1/committees?cursor=not-a-cursor", "cursor", "invalid_cursor"),
        ("/api/v1/committees?as_of=2024/01/01", "as_of", "invalid_date"),
        ("/api/v1/committees?series=engineering", "series", "unknown_series"),
        ("/api/v1/committees?status=great", "status", "unknown_status"),
        ("/api/v1/committees/c-eng?as_of=20240101", "as_of", "invalid_date"),
        ("/api/v1/authorities?level=galactic", "level", "unknown_level"),
        ("/api/v1/authorities?cursor=%FF", "cursor", "invalid_cursor"),
        ("/api/v1/sanctions?subject_kind=alien", "subject_kind", "unknown_subject_kind"),
        ("/api/v1/sanctions?in_force_on=2023-13-01", "in_force_on", "invalid_date"),
        ("/api/v1/sanctions?limit=501", "limit", "out_of_range"),
        ("/api/v1/catalog/regions?parent=12ab56", "parent", "invalid_region"),
        ("/api/v1/catalog/regions?parent=999999", "parent", "unknown_region"),
    ];
    for (uri, field, code) in cases {
        let r = app.get(uri).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.body);
        assert_eq!(r.content_type(), "application/problem+json", "{uri}");
        assert_eq!(r.body["status"], 400);
        assert_eq!(r.body["errors"][0]["field"], *field, "{uri}: {}", r.body);
        assert_eq!(r.body["errors"][0]["code"], *code, "{uri}: {}", r.body);
        assert!(r.body["title"].as_str().unwrap().contains("Invalid"));
        assert!(!r.body["errors"][0]["message_zh"].as_str().unwrap().is_empty());
        assert!(r.body["detail"].as_str().unwrap().contains(field), "{uri}: detail names the field");
    }
}

async fn unknown_resources_and_routes_are_404_problems(app: TestApp) {
    app.load(&fixtures::registry()).await;
    for uri in [
        "/api/v1/committees/does-not-exist",
        "/api/v1/committees/does-not-exist/coverage?series=HEALTH&level=senior",
        "/api/v1/authorities/nobody",
        "/api/v1/nothing-here",
    ] {
        let r = app.get(uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(r.content_type(), "application/problem+json", "{uri}");
        assert_eq!(r.body["code"], "not-found");
    }
    let r = app.get("/api/v1/committees/does-not-exist").await;
    assert_eq!(r.body["errors"][0]["field"], "id");
}
