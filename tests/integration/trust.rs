//! Trust what it says (issue 13): no answer calls a committee authorized when its grant was
//! beyond the grantor's competence.

use serde_json::Value;

use crate::support::{TestApp, both};

both!(
    a_grant_beyond_its_grantors_competence_is_never_called_authorized,
    text_that_would_spoof_leak_or_break_the_log_is_refused_and_nothing_is_written,
    a_held_write_lock_costs_writers_a_bounded_wait_and_readers_nothing,
    small_contract_leaks_are_closed,
    an_admin_lists_and_revokes_the_tokens_it_created_below_it,
    the_bundle_is_built_once_per_log_size,
    a_retried_token_creation_mints_no_second_token,
    a_filter_that_matches_little_reads_a_bounded_page_and_resumes,
    the_operators_audit_reads_the_entry_bundles_as_an_outside_verifier_does,
    unknown_fields_are_refused_at_every_depth,
);

/// The demo's deliberate overreach: Siping (a city) granted senior health titles it was never
/// delegated.
const OVERREACH: &str = "cmt-220300-03";

async fn a_grant_beyond_its_grantors_competence_is_never_called_authorized(app: TestApp) {
    app.load(&zhicheng::demo::dataset(zhicheng::store::today())).await;
    let detail = app.ok(&format!("/api/v1/committees/{OVERREACH}")).await;
    let committee = &detail["committee"];
    assert_eq!(committee["status"], "grantor_lacked_competence", "{committee}");
    let authorization = &committee["authorizations"][0];
    assert_eq!(authorization["status"], "active", "its own records say active: {authorization}");
    assert!(!authorization["levels_beyond_grantor_competence"].as_array().unwrap().is_empty(), "{authorization}");
    assert_eq!(authorization["grantor_competence"]["code"], "grantor_lacked_competence", "{authorization}");

    // The coverage answer agrees, and flags the same authorization the same way.
    let series = authorization["series"].as_str().unwrap();
    let level = authorization["levels"].as_array().unwrap().iter().filter_map(Value::as_str).max().unwrap();
    let coverage = app.ok(&format!("/api/v1/committees/{OVERREACH}/coverage?series={series}&level={level}")).await;
    assert_eq!(coverage["covered"], false, "{coverage}");
    assert!(coverage["reasons"].as_array().unwrap().iter().any(|r| r["code"] == "grantor_lacked_competence"));
    assert_eq!(coverage["authorization"]["grantor_competence"], authorization["grantor_competence"]);

    // The list's status and series filters follow the same rule.
    let ids = |list: &Value| -> Vec<String> {
        list["committees"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
    };
    let authorized = app.ok("/api/v1/committees?status=authorized&limit=500").await;
    assert!(!ids(&authorized).contains(&OVERREACH.to_string()), "listed as authorized");
    assert!(!ids(&authorized).is_empty());
    let flagged = app.ok("/api/v1/committees?status=grantor_lacked_competence&limit=500").await;
    assert_eq!(ids(&flagged), [OVERREACH]);
    let by_level = app.ok(&format!("/api/v1/committees?series={series}&level={level}&limit=500")).await;
    assert!(!ids(&by_level).contains(&OVERREACH.to_string()), "listed for a level it may not evaluate");

    // Every other committee's authorizations are within competence, and say so.
    let all = app.ok("/api/v1/committees?limit=500").await;
    for c in all["committees"].as_array().unwrap().iter().filter(|c| c["id"] != OVERREACH) {
        for a in c["authorizations"].as_array().unwrap() {
            assert_eq!(a["levels_beyond_grantor_competence"], serde_json::json!([]), "{}", c["id"]);
            assert!(a["grantor_competence"].is_null(), "{}", c["id"]);
        }
    }
}

/// Names with control or bidi characters, a 66 KB name, an ID number in a sanction's summary, a
/// grant whose scope mixes regions and own staff, a status-list index in the trillions: each
/// is refused with a 422 naming the field, and nothing is written.
async fn text_that_would_spoof_leak_or_break_the_log_is_refused_and_nothing_is_written(app: TestApp) {
    use serde_json::json;
    use zhicheng::domain::publish::Role;

    use crate::publishing::{committee_body, grant_body};

    app.load(&crate::fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let size = app.store.log_size().await.unwrap();
    let with = |mut body: Value, pointer: &str, value: Value| {
        *body.pointer_mut(pointer).unwrap() = value;
        body
    };
    let committee = committee_body("新评委会", "220100", 7);
    let sanction = json!({
        "subject": {"kind": "applicant", "name": "张三"}, "measure": "dishonesty_record", "region": "220100",
        "effective_from": "2026-01-05", "document_number": "吉人社监〔2026〕1号", "legal_basis": "人社部令第40号",
        "summary": "张三（身份证号 220102198001011234）提交虚假材料",
    });
    let cases = [
        (
            "/api/v1/admin/committees",
            with(committee.clone(), "/name", json!("评委会\u{0}")),
            "name",
            "invalid_character",
        ),
        (
            "/api/v1/admin/committees",
            with(committee.clone(), "/name", json!("\u{202E}会员委审评")),
            "name",
            "invalid_character",
        ),
        ("/api/v1/admin/committees", with(committee.clone(), "/name", json!("评".repeat(22_000))), "name", "too_long"),
        ("/api/v1/admin/sanctions", sanction, "summary", "id_number_in_text"),
        (
            "/api/v1/admin/authorizations",
            with(
                grant_body("c-eng", "吉人社函〔2026〕7号"),
                "/scope",
                json!({"regions": ["220100"], "own_staff": true}),
            ),
            "scope",
            "invalid_field",
        ),
    ];
    for (uri, body, field, code) in cases {
        let r = app.post(uri, &jilin, body).await;
        let problem = r.problem(422, code);
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        assert!(!problem["errors"][0]["message_zh"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.store.log_size().await.unwrap(), size, "a refused write reached the log");
}

/// While another writer holds the write lock (a long import, say), an authenticated read answers
/// at once, and a write answers 503 with `Retry-After` after a bounded wait, never 500.
async fn a_held_write_lock_costs_writers_a_bounded_wait_and_readers_nothing(app: TestApp) {
    use std::time::Instant;

    use sqlx::Connection;
    use zhicheng::domain::publish::Role;

    use crate::publishing::committee_body;

    app.load(&crate::fixtures::registry()).await;
    let admin = app.token("jilin", Role::Admin).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    // Another writer: a connection of its own that takes the same lock the store's writers take.
    let held: Box<dyn std::any::Any> = if app.url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(&app.url).await.unwrap();
        sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut conn).await.unwrap();
        Box::new(conn)
    } else {
        let mut conn = sqlx::PgConnection::connect(&app.url).await.unwrap();
        sqlx::raw_sql("BEGIN").execute(&mut conn).await.unwrap();
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(zhicheng::store::POSTGRES_WRITE_LOCK)
            .execute(&mut conn)
            .await
            .unwrap();
        Box::new(conn)
    };

    let started = Instant::now();
    let read = app.send("GET", "/api/v1/admin/tokens", Some(&admin), None, &[]).await;
    assert_eq!(read.status.as_u16(), 200, "an authenticated read waited on the write lock: {}", read.body);
    let read_took = started.elapsed();

    let started = Instant::now();
    let write = app.post("/api/v1/admin/committees", &jilin, committee_body("锁等待评委会", "220100", 9)).await;
    let write_took = started.elapsed();
    assert_eq!(write.status.as_u16(), 503, "{}", write.body);
    assert_eq!(write.content_type(), "application/problem+json");
    assert_eq!(write.body["code"], "unavailable");
    assert_eq!(write.headers["retry-after"], "2");
    assert!(write_took < zhicheng::store::LOCK_WAIT * 3, "the wait is bounded: {write_took:?}");
    eprintln!("lock held: authenticated read {read_took:?}, write refused after {write_took:?}");

    drop(held);
    let retried = app.post("/api/v1/admin/committees", &jilin, committee_body("锁等待评委会", "220100", 9)).await;
    assert_eq!(retried.status.as_u16(), 201, "{}", retried.body);
}

/// A lower-case `bearer` is a bearer; a wrong token learns its role before the batch is read;
/// a misspelt query parameter is refused, not ignored; errors name JSON shapes, not Rust types.
async fn small_contract_leaks_are_closed(app: TestApp) {
    use serde_json::json;
    use zhicheng::domain::publish::Role;

    app.load(&crate::fixtures::registry()).await;
    let admin = app.token("jilin", Role::Admin).await;
    let publisher = app.token("jilin", Role::Publisher).await;
    let issuer = app.token("jilin", Role::Issuer).await;
    let lower =
        app.send("GET", "/api/v1/admin/tokens", None, None, &[("authorization", &format!("bearer {admin}"))]).await;
    assert_eq!(lower.status.as_u16(), 200, "{}", lower.body);

    let empty = json!({"credentials": []});
    app.post("/api/v1/admin/certificates", &publisher, empty.clone()).await.problem(403, "wrong_role");
    app.post("/api/v1/admin/certificates", &issuer, empty).await.problem(422, "empty_batch");

    let misspelt = app.get("/api/v1/committees?staus=withdrawn").await;
    let problem = misspelt.problem(400, "unknown_parameter");
    assert_eq!(problem["errors"][0]["field"], "staus", "{problem}");
    app.get("/api/v1/sanctions?limt=5").await.problem(400, "unknown_parameter");

    let wrong_shape = app.send("POST", "/api/v1/verify", None, Some(json!("a string")), &[]).await;
    assert_eq!(wrong_shape.status.as_u16(), 422, "{}", wrong_shape.body);
    let text = wrong_shape.body.to_string();
    assert!(!text.contains("VerifyRequest") && !text.contains("struct"), "{text}");
}

/// An admin that creates a sub-authority's token can also list and revoke it; an admin of a
/// sub-authority cannot reach up, nor across.
async fn an_admin_lists_and_revokes_the_tokens_it_created_below_it(app: TestApp) {
    use serde_json::json;
    use zhicheng::domain::publish::Role;

    app.load(&crate::fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Admin).await;
    let changchun = app.token("changchun", Role::Admin).await;
    let created = app
        .post(
            "/api/v1/admin/tokens",
            &jilin,
            json!({"role": "publisher", "authority_id": "changchun", "label": "长春发布"}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let id = created.body["token"]["id"].as_str().unwrap().to_string();
    let list = app.send("GET", "/api/v1/admin/tokens?authority_id=changchun", Some(&jilin), None, &[]).await;
    assert_eq!(list.status.as_u16(), 200, "{}", list.body);
    assert!(list.body["tokens"].as_array().unwrap().iter().any(|t| t["id"] == id.as_str()), "{}", list.body);
    // Not up the tree, nor across it.
    app.send("GET", "/api/v1/admin/tokens?authority_id=jilin", Some(&changchun), None, &[])
        .await
        .problem(403, "not_supervisor");
    let revoked =
        app.send("DELETE", &format!("/api/v1/admin/tokens/{id}?authority_id=changchun"), Some(&jilin), None, &[]).await;
    assert_eq!(revoked.status.as_u16(), 200, "{}", revoked.body);
    assert!(!revoked.body["revoked_at"].is_null(), "{}", revoked.body);
}

/// The offline bundle (the whole registry, signed) is built and signed once per log size: the
/// same bytes until a write, a 304 to its ETag, and a new one after the write.
async fn the_bundle_is_built_once_per_log_size(app: TestApp) {
    use zhicheng::domain::publish::Role;

    use crate::publishing::committee_body;

    app.load(&crate::fixtures::registry()).await;
    let (status, headers, first) = app.bytes("/api/v1/bundle").await;
    assert_eq!(status.as_u16(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, again_headers, again) = app.bytes("/api/v1/bundle").await;
    assert_eq!(first, again, "rebuilt without a write");
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert_eq!(again_headers["etag"], etag.as_str());
    let unchanged = app.send("GET", "/api/v1/bundle", None, None, &[("if-none-match", &etag)]).await;
    assert_eq!(unchanged.status.as_u16(), 304);

    let jilin = app.token("jilin", Role::Publisher).await;
    app.post("/api/v1/admin/committees", &jilin, committee_body("捆绑测试评委会", "220100", 11)).await.created();
    let (_, after_headers, after) = app.bytes("/api/v1/bundle").await;
    assert_ne!(after_headers["etag"], etag.as_str());
    assert!(String::from_utf8_lossy(&after).contains("捆绑测试评委会"));
}

/// `POST /admin/tokens` with an Idempotency-Key: a retry does not mint a second live token; it
/// is told the first one exists (its secret was shown once).
async fn a_retried_token_creation_mints_no_second_token(app: TestApp) {
    use serde_json::json;
    use zhicheng::domain::publish::Role;

    app.load(&crate::fixtures::registry()).await;
    let admin = app.token("jilin", Role::Admin).await;
    let body = json!({"role": "publisher", "label": "重试测试"});
    let key = [("idempotency-key", "token-retry-1")];
    let first = app.send("POST", "/api/v1/admin/tokens", Some(&admin), Some(body.clone()), &key).await;
    assert_eq!(first.status.as_u16(), 201, "{}", first.body);
    let retry = app.send("POST", "/api/v1/admin/tokens", Some(&admin), Some(body), &key).await;
    retry.problem(409, "token_already_created");
    let other = app.send("POST", "/api/v1/admin/tokens", Some(&admin), Some(json!({"role": "issuer"})), &key).await;
    other.problem(409, "idempotency_key_reused");
    let listed = app.send("GET", "/api/v1/admin/tokens", Some(&admin), None, &[]).await;
    let labelled = listed.body["tokens"].as_array().unwrap().iter().filter(|t| t["label"] == "重试测试").count();
    assert_eq!(labelled, 1, "{}", listed.body);
}

/// A status filter that matches one committee in the demo: each page reads at most the scan
/// budget, says so, and following `next_cursor` finds exactly what one unbounded read finds.
async fn a_filter_that_matches_little_reads_a_bounded_page_and_resumes(app: TestApp) {
    app.load(&zhicheng::demo::dataset(zhicheng::store::today())).await;
    let everything = app.ok("/api/v1/committees?status=grantor_lacked_competence&limit=500").await;
    let expected: Vec<Value> = everything["committees"].as_array().unwrap().iter().map(|c| c["id"].clone()).collect();
    assert_eq!(expected, [Value::from(OVERREACH)]);
    assert_eq!(everything["meta"]["partial"], false);
    assert_eq!(everything["meta"]["count"], 1, "count is the items on this page");

    let app = app.configured(|s| s.scan_budget = 10);
    let (mut found, mut pages, mut partial_pages) = (Vec::new(), 0, 0);
    let mut uri = "/api/v1/committees?status=grantor_lacked_competence&limit=5".to_string();
    loop {
        let page = app.ok(&uri).await;
        pages += 1;
        found.extend(page["committees"].as_array().unwrap().iter().map(|c| c["id"].clone()));
        assert_eq!(page["meta"]["count"], page["committees"].as_array().unwrap().len());
        if page["meta"]["partial"] == true {
            partial_pages += 1;
        }
        match page["meta"]["next_cursor"].as_str() {
            Some(next) => uri = format!("/api/v1/committees?status=grantor_lacked_competence&limit=5&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(found, expected, "nothing skipped, nothing twice");
    let committees = app.store.counts().await.unwrap().committees;
    assert!(
        pages >= committees / 11 && partial_pages >= 1,
        "{pages} pages, {partial_pages} partial, {committees} committees"
    );
}

/// An entry too large for its bundle's 16-bit length (only a load that skipped the checks can
/// write one now) fails the operator's audit exactly where an outside verifier would fail, and
/// its bundle is refused with a 500 instead of served wrapped.
async fn the_operators_audit_reads_the_entry_bundles_as_an_outside_verifier_does(app: TestApp) {
    let mut dataset = crate::fixtures::registry();
    app.load(&dataset).await;
    let clean = zhicheng::transparency::audit(app.store.as_ref(), &app.log.verifier()).await.unwrap();
    assert!(clean.problems.is_empty(), "{:?}", clean.problems);

    let mut huge = dataset.committees[0].clone();
    huge.id = "c-huge".into();
    huge.name = "评".repeat(25_000);
    huge.organizing_unit.credit_code = "91220000000000001X".into();
    dataset = zhicheng::store::Dataset { committees: vec![huge], ..Default::default() };
    app.load(&dataset).await;
    let report = zhicheng::transparency::audit(app.store.as_ref(), &app.log.verifier()).await.unwrap();
    assert!(report.problems.iter().any(|p| p.contains("more than an entry bundle can carry")), "{:?}", report.problems);
    let size = report.size;
    let path = format!("/log/tile/entries/000.p/{size}");
    let bundle = app.get(&path).await;
    assert_eq!(bundle.status, 500, "{}", bundle.body);
    assert_eq!(bundle.content_type(), "application/problem+json");
}

/// A field the API does not know is refused wherever it is nested, so nothing is stored
/// broader or other than what was sent.
async fn unknown_fields_are_refused_at_every_depth(app: TestApp) {
    use serde_json::json;
    use zhicheng::domain::publish::Role;
    app.load(&crate::fixtures::registry()).await;
    let admin = app.token("jilin", Role::Admin).await;
    let publisher = app.token("jilin", Role::Publisher).await;
    let issuer = app.token("jilin", Role::Issuer).await;
    let key = json!({"owner": {"kind": "authority", "id": "jilin", "also": "x"}, "public_key": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "valid_from": "2020-01-01T00:00:00Z"});
    let committee = json!({"name": "某评委会", "kind": "intermediate", "region": "220100",
        "organizing_unit": {"name": "某单位", "credit_code": "91220000000000001X", "own_staff_only": true}});
    let sanction = json!({"subject": {"kind": "intermediary", "name": "某中介", "verified": true}, "measure": "warning",
        "region": "220000", "effective_from": "2026-01-05", "document_number": "吉人社罚〔2026〕9号", "legal_basis": "x", "summary": "y"});
    let certificates = json!({"credentials": [], "dry_run": true});
    for (uri, token, body, field) in [
        ("/api/v1/admin/keys", &admin, key, "owner"),
        ("/api/v1/admin/committees", &publisher, committee, "organizing_unit"),
        ("/api/v1/admin/sanctions", &publisher, sanction, "subject"),
        ("/api/v1/admin/certificates", &issuer, certificates, ""),
    ] {
        let refused = app.post(uri, token, body).await;
        assert_eq!(refused.status, 422, "{uri}: {}", refused.body);
        let named = refused.body["errors"][0]["field"].as_str().unwrap_or_default().to_string();
        assert!(named.starts_with(field), "{uri}: {}", refused.body);
    }
    let events = app.ok("/api/v1/log/entries?start=0&end=1000").await;
    assert!(!events.to_string().contains("某中介") && !events.to_string().contains("某评委会"), "nothing was written");
}
