//! The write API: every rule, its error, and that a refused write changes nothing.

use serde_json::{Value, json};
use zhicheng::domain::credit_code::check_character;
use zhicheng::domain::publish::Role;

use crate::fixtures;
use crate::support::{TestApp, both};

both!(
    allowed_writes_are_visible_in_the_public_api,
    unauthenticated_writes_are_refused_and_change_nothing,
    forbidden_writes_are_refused_and_change_nothing,
    conflicting_and_invalid_writes_are_refused_and_change_nothing,
    malformed_bodies_are_refused_and_change_nothing,
    back_dated_acts_are_accepted_and_flagged,
    idempotency_keys_make_retries_safe,
    tokens_are_shown_once_hashed_revocable_and_role_bound,
    imports_are_all_or_nothing_and_name_every_bad_line,
);

pub fn credit_code(seed: u64) -> String {
    let first17 = format!("51220100{:09}", seed % 1_000_000_000);
    format!("{first17}{}", check_character(&first17).unwrap())
}

pub fn committee_body(name: &str, region: &str, seed: u64) -> Value {
    json!({
        "name": name,
        "kind": "social_association",
        "organizing_unit": {"name": format!("{name}组建单位"), "credit_code": credit_code(seed)},
        "region": region,
        "domains": ["example.org.cn"]
    })
}

pub fn grant_body(committee: &str, doc: &str) -> Value {
    json!({
        "committee_id": committee,
        "series": "ENGINEERING",
        "specialties": ["人工智能工程技术"],
        "levels": ["intermediate", "associate_senior"],
        "scope": {"regions": ["220000"]},
        "valid_from": "2025-01-01",
        "valid_until": "2027-12-31",
        "document_number": doc
    })
}

async fn coverage_codes(app: &TestApp, committee: &str, query: &str) -> Vec<String> {
    let answer = app.ok(&format!("/api/v1/committees/{committee}/coverage?{query}")).await;
    answer["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_string()).collect()
}

async fn allowed_writes_are_visible_in_the_public_api(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let created = app
        .post("/api/v1/admin/committees", &jilin, committee_body("吉林省人工智能学会职称评审委员会", "220100", 1))
        .await;
    let committee = created.created()["id"].as_str().unwrap().to_string();
    assert_eq!(created.body["applied"]["op"], "committee.created");
    let public = app.ok(&format!("/api/v1/committees/{committee}")).await;
    assert_eq!(public["committee"]["authority_id"], "jilin");
    assert_eq!(public["committee"]["status"], "unauthorized");

    let granted = app.post("/api/v1/admin/authorizations", &jilin, grant_body(&committee, "吉人社函〔2025〕1号")).await;
    let authorization = granted.created()["id"].as_str().unwrap().to_string();
    let q = "series=ENGINEERING&specialty=人工智能工程技术&level=intermediate&region=220102";
    assert!(coverage_codes(&app, &committee, &format!("{q}&on=2025-06-01")).await.is_empty());

    let act = |doc: &str, on: &str| json!({"effective_on": on, "document_number": doc, "note": "测试"});
    app.post(
        &format!("/api/v1/admin/authorizations/{authorization}/suspend"),
        &jilin,
        act("吉人社函〔2025〕2号", "2025-07-01"),
    )
    .await
    .created();
    assert_eq!(coverage_codes(&app, &committee, &format!("{q}&on=2025-07-02")).await, ["suspended"]);
    app.post(
        &format!("/api/v1/admin/authorizations/{authorization}/reinstate"),
        &jilin,
        act("吉人社函〔2025〕3号", "2025-08-01"),
    )
    .await
    .created();
    assert!(coverage_codes(&app, &committee, &format!("{q}&on=2025-08-02")).await.is_empty());

    let amendment = json!({
        "levels": ["intermediate", "associate_senior", "senior"], "scope": {"regions": ["220000"]},
        "valid_from": "2025-01-01", "valid_until": "2027-12-31", "effective_on": "2025-09-01",
        "document_number": "吉人社函〔2025〕4号"
    });
    app.post(&format!("/api/v1/admin/authorizations/{authorization}/amend"), &jilin, amendment).await.created();
    assert_eq!(
        coverage_codes(&app, &committee, "series=ENGINEERING&level=senior&region=220102&on=2025-08-31").await,
        ["level_not_covered"]
    );
    assert!(
        coverage_codes(&app, &committee, "series=ENGINEERING&level=senior&region=220102&on=2025-09-02")
            .await
            .is_empty()
    );

    app.post(
        &format!("/api/v1/admin/authorizations/{authorization}/withdraw"),
        &jilin,
        act("吉人社函〔2025〕5号", "2025-10-01"),
    )
    .await
    .created();
    assert_eq!(coverage_codes(&app, &committee, &format!("{q}&on=2025-10-02")).await, ["withdrawn"]);
    assert!(
        coverage_codes(&app, &committee, &format!("{q}&on=2025-09-30")).await.is_empty(),
        "earlier evaluations stand"
    );

    let sanction = json!({
        "subject": {"kind": "committee", "id": committee}, "measure": "public_criticism",
        "effective_from": "2025-10-01", "document_number": "吉人社监〔2025〕9号",
        "legal_basis": "人社部发〔2024〕56号", "summary": "违规扩大评审范围"
    });
    let published = app.post("/api/v1/admin/sanctions", &jilin, sanction).await;
    let sanction_id = published.created()["id"].as_str().unwrap().to_string();
    let listed = app.ok(&format!("/api/v1/sanctions?committee={committee}")).await;
    assert_eq!(listed["sanctions"][0]["id"], sanction_id.as_str());
    assert_eq!(listed["sanctions"][0]["decided_by"], "jilin");
    let lift = json!({"effective_on": "2025-12-01", "document_number": "吉人社监〔2025〕10号", "reason": "整改完成"});
    app.post(&format!("/api/v1/admin/sanctions/{sanction_id}/lift"), &jilin, lift).await.created();
    assert_eq!(
        app.ok(&format!("/api/v1/sanctions?committee={committee}")).await["sanctions"][0]["lifted"]["document_number"],
        "吉人社监〔2025〕10号"
    );

    let patch = app
        .send(
            "PATCH",
            &format!("/api/v1/admin/committees/{committee}"),
            Some(&jilin),
            Some(json!({"contact": "0431-88888888"})),
            &[],
        )
        .await;
    patch.created();
    assert_eq!(app.ok(&format!("/api/v1/committees/{committee}")).await["committee"]["contact"], "0431-88888888");

    // The audit trail holds every act, attributed to the authority and the token.
    let events = app.send("GET", "/api/v1/admin/events?limit=500", Some(&jilin), None, &[]).await;
    let kinds: Vec<&str> = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["credential"] != "fixture")
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "committee.created",
            "authorization.granted",
            "authorization.suspended",
            "authorization.reinstated",
            "authorization.amended",
            "authorization.withdrawn",
            "sanction.published",
            "sanction.lifted",
            "committee.amended"
        ]
    );
    for e in events.body["events"].as_array().unwrap() {
        assert_eq!(e["authority_id"], "jilin");
    }
    let last = events.body["events"].as_array().unwrap().last().unwrap();
    assert!(last["credential"].as_str().unwrap().starts_with("token:tok_"));
    assert_eq!(last["payload"]["before"]["contact"], Value::Null);
}

/// Everything the public can read, to show a refused write left no trace.
async fn snapshot(app: &TestApp) -> Value {
    let counts = app.store.counts().await.unwrap();
    json!({
        "counts": [counts.authorities, counts.committees, counts.authorizations, counts.sanctions],
        "events": app.store.events_after(&Default::default(), None, 10_000).await.unwrap().len(),
        "c-eng": app.ok("/api/v1/committees/c-eng?as_of=2023-05-01").await,
        "c-overreach": app.ok("/api/v1/committees/c-overreach").await,
        "sanctions": app.ok("/api/v1/sanctions?limit=500").await,
        "authorities": app.ok("/api/v1/authorities?limit=500").await,
    })
}

/// Every refusal case whose status `wanted` selects, sent after the same set-up; every case
/// that answers otherwise is reported, not just the first, and nothing may change.
async fn refusals(app: TestApp, wanted: fn(u16) -> bool) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let issuer = app.token("jilin", Role::Issuer).await;
    let yunnan = app.token("yunnan", Role::Publisher).await;
    let changchun = app.token("changchun", Role::Publisher).await;
    let revoked = app.store.create_token("jilin", Role::Publisher, None, None, "test", None).await.unwrap();
    app.store.revoke_token("jilin", &revoked.0.id).await.unwrap();
    // One successful grant so duplicates and state conflicts have something to conflict with.
    app.post("/api/v1/admin/authorizations", &jilin, grant_body("c-eng", "吉人社函〔2025〕7号")).await.created();
    let before = snapshot(&app).await;

    let good_committee = committee_body("新评委会", "220100", 7);
    // (what, path, token, body, status, error code)
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Value, u16, &'a str);
    let cases: Vec<Case> = vec![
        ("missing token", "/api/v1/admin/committees", None, good_committee.clone(), 401, "missing_token"),
        (
            "unknown token",
            "/api/v1/admin/committees",
            Some("zct_not-a-real-token"),
            good_committee.clone(),
            401,
            "invalid_token",
        ),
        ("revoked token", "/api/v1/admin/committees", Some(&revoked.1), good_committee.clone(), 401, "token_revoked"),
        ("wrong role", "/api/v1/admin/committees", Some(&issuer), good_committee.clone(), 403, "wrong_role"),
        (
            "wrong jurisdiction",
            "/api/v1/admin/committees",
            Some(&yunnan),
            good_committee.clone(),
            403,
            "outside_jurisdiction",
        ),
        (
            "not the supervisor",
            "/api/v1/admin/authorizations",
            Some(&yunnan),
            grant_body("c-eng", "云人社函〔2025〕1号"),
            403,
            "not_supervisor",
        ),
        (
            "beyond competence",
            "/api/v1/admin/authorizations",
            Some(&changchun),
            json!({"committee_id": "c-overreach", "series": "ENGINEERING", "levels": ["senior"], "scope": {"regions": ["220100"]},
                   "valid_from": "2025-01-01", "valid_until": "2026-12-31", "document_number": "长人社函〔2025〕1号"}),
            403,
            "beyond_competence",
        ),
        (
            "window over three years",
            "/api/v1/admin/authorizations",
            Some(&jilin),
            json!({"committee_id": "c-eng", "series": "HEALTH", "levels": ["senior"], "scope": {"regions": ["220000"]},
                   "valid_from": "2025-01-01", "valid_until": "2028-01-01", "document_number": "吉人社函〔2025〕8号"}),
            422,
            "window_exceeds_cap",
        ),
        (
            "inverted window",
            "/api/v1/admin/authorizations",
            Some(&jilin),
            json!({"committee_id": "c-eng", "series": "HEALTH", "levels": ["senior"], "scope": {"regions": ["220000"]},
                   "valid_from": "2025-01-01", "valid_until": "2024-01-01", "document_number": "吉人社函〔2025〕8号"}),
            422,
            "window_inverted",
        ),
        (
            "unknown series",
            "/api/v1/admin/authorizations",
            Some(&jilin),
            {
                let mut g = grant_body("c-eng", "吉人社函〔2025〕9号");
                g["series"] = json!("ALCHEMY");
                g
            },
            422,
            "unknown_series",
        ),
        (
            "invalid credit code",
            "/api/v1/admin/committees",
            Some(&jilin),
            {
                let mut c = good_committee.clone();
                c["organizing_unit"]["credit_code"] = json!("91350100M000100Y44");
                c
            },
            422,
            "invalid_credit_code",
        ),
        (
            "invalid region code",
            "/api/v1/admin/committees",
            Some(&jilin),
            {
                let mut c = good_committee.clone();
                c["region"] = json!("229999");
                c
            },
            422,
            "invalid_region",
        ),
        (
            "wrong field type",
            "/api/v1/admin/authorizations",
            Some(&jilin),
            {
                let mut g = grant_body("c-eng", "吉人社函〔2025〕9号");
                g["levels"] = json!(["chief"]);
                g
            },
            422,
            "invalid_field",
        ),
        (
            "unknown field",
            "/api/v1/admin/committees",
            Some(&jilin),
            {
                let mut c = good_committee.clone();
                c["colour"] = json!("red");
                c
            },
            422,
            "invalid_field",
        ),
        (
            "unknown committee",
            "/api/v1/admin/authorizations",
            Some(&jilin),
            grant_body("c-nope", "吉人社函〔2025〕9号"),
            422,
            "unknown_reference",
        ),
        (
            "duplicate document number",
            "/api/v1/admin/authorizations",
            Some(&jilin),
            grant_body("c-eng", "吉人社函〔2025〕7号"),
            409,
            "duplicate_document_number",
        ),
        (
            "already withdrawn",
            "/api/v1/admin/authorizations/a-eng/withdraw",
            Some(&jilin),
            json!({"effective_on": "2024-07-01", "document_number": "吉人社函〔2024〕99号"}),
            409,
            "already_withdrawn",
        ),
        (
            "out of date order",
            "/api/v1/admin/authorizations/a-susp/suspend",
            Some(&jilin),
            json!({"effective_on": "2023-01-01", "document_number": "吉人社函〔2023〕99号"}),
            409,
            "out_of_order",
        ),
        (
            "reinstating what is not suspended",
            "/api/v1/admin/authorizations/a-susp/reinstate",
            Some(&jilin),
            json!({"effective_on": "2024-01-01", "document_number": "吉人社函〔2024〕98号"}),
            409,
            "not_suspended",
        ),
        (
            "lifting twice",
            "/api/v1/admin/sanctions/s-6/lift",
            Some(&jilin),
            json!({"effective_on": "2023-05-01", "document_number": "吉人社监〔2023〕99号"}),
            409,
            "already_lifted",
        ),
        (
            "sanctioning outside jurisdiction",
            "/api/v1/admin/sanctions",
            Some(&yunnan),
            json!({"subject": {"kind": "applicant", "name": "李某"}, "measure": "dishonesty_record", "region": "220100",
                   "effective_from": "2025-01-01", "document_number": "云人社监〔2025〕1号", "legal_basis": "x", "summary": "y"}),
            403,
            "outside_jurisdiction",
        ),
        (
            "void_from on a warning",
            "/api/v1/admin/sanctions",
            Some(&jilin),
            json!({"subject": {"kind": "committee", "id": "c-eng"}, "measure": "warning", "void_from": "2024-01-01",
                   "effective_from": "2025-01-01", "document_number": "吉人社监〔2025〕1号", "legal_basis": "x", "summary": "y"}),
            422,
            "void_from_not_allowed",
        ),
        (
            "body id contradicts path",
            "/api/v1/admin/authorizations/a-susp/suspend",
            Some(&jilin),
            json!({"authorization_id": "a-eng", "effective_on": "2025-01-01", "document_number": "x"}),
            422,
            "id_mismatch",
        ),
        (
            "creating an authority needs admin",
            "/api/v1/admin/authorities",
            Some(&jilin),
            json!({"name": "长春市某区人社局", "level": "county", "region": "220102", "parent_id": "changchun"}),
            403,
            "wrong_role",
        ),
    ];
    let mut wrong = Vec::new();
    let cases: Vec<Case> = cases.into_iter().filter(|c| wanted(c.4)).collect();
    assert!(cases.len() >= 3, "only {} case(s) selected", cases.len());
    for (what, uri, token, body, status, code) in cases {
        let r = app.send("POST", uri, token, Some(body), &[]).await;
        let ok = r.status.as_u16() == status
            && r.content_type() == "application/problem+json"
            && r.body["code"] == code_of(status)
            && r.body["errors"][0]["code"] == code
            && !r.body["errors"][0]["message_zh"].as_str().unwrap_or("").is_empty()
            && (status != 401 || r.headers.get("www-authenticate").is_some_and(|v| v == "Bearer"));
        if !ok {
            wrong.push(format!("{what}: expected {status} {code}, got {} {}", r.status, r.body));
        }
    }
    assert!(wrong.is_empty(), "{} case(s) answered wrongly:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(snapshot(&app).await, before, "a refused write changed the registry");
}

/// The problem `code` each status carries.
fn code_of(status: u16) -> &'static str {
    match status {
        401 => "unauthenticated",
        403 => "forbidden",
        409 => "conflict",
        _ => "unprocessable",
    }
}

async fn unauthenticated_writes_are_refused_and_change_nothing(app: TestApp) {
    refusals(app, |status| status == 401).await
}

async fn forbidden_writes_are_refused_and_change_nothing(app: TestApp) {
    refusals(app, |status| status == 403).await
}

async fn conflicting_and_invalid_writes_are_refused_and_change_nothing(app: TestApp) {
    refusals(app, |status| status == 409 || status == 422).await
}

async fn malformed_bodies_are_refused_and_change_nothing(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let before = snapshot(&app).await;
    let malformed =
        app.send_raw("POST", "/api/v1/admin/committees", Some(&jilin), "application/json", "{\"name\": ").await;
    malformed.problem(400, "malformed_json");
    let not_json = app.send_raw("POST", "/api/v1/admin/committees", Some(&jilin), "text/plain", "name=x").await;
    not_json.problem(415, "unsupported_media_type");
    let huge = app
        .send_raw("POST", "/api/v1/admin/committees", Some(&jilin), "application/json", vec![b' '; 2 * 1024 * 1024])
        .await;
    assert_eq!(huge.status.as_u16(), 413, "{}", huge.body);
    assert_eq!(huge.content_type(), "application/problem+json");
    assert_eq!(snapshot(&app).await, before, "a refused write changed the registry");
}

async fn back_dated_acts_are_accepted_and_flagged(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let withdrawal = app
        .post(
            "/api/v1/admin/authorizations/a-susp/withdraw",
            &jilin,
            json!({"effective_on": "2024-01-01", "document_number": "吉人社函〔2025〕20号"}),
        )
        .await;
    assert_eq!(withdrawal.created()["back_dated"], true);
    let future = app.post("/api/v1/admin/sanctions", &jilin, json!({
        "subject": {"kind": "website", "name": "fake.example.com"}, "measure": "public_criticism", "region": "220000",
        "effective_from": "2099-01-01", "document_number": "吉人社监〔2099〕1号", "legal_basis": "x", "summary": "y"
    })).await;
    assert_eq!(future.created()["back_dated"], false);
    let dishonesty = app.post("/api/v1/admin/sanctions", &jilin, json!({
        "subject": {"kind": "applicant", "name": "王某"}, "measure": "dishonesty_record", "region": "220100",
        "effective_from": "2020-03-01", "document_number": "吉人社监〔2025〕21号", "legal_basis": "人社部令第40号", "summary": "造假"
    })).await;
    let id = dishonesty.created()["id"].as_str().unwrap().to_string();
    assert_eq!(dishonesty.body["applied"]["back_dated"], true);
    let listed = app.ok("/api/v1/sanctions?subject_kind=applicant&q=王某").await;
    assert_eq!(listed["sanctions"][0]["id"], id.as_str());
    assert_eq!(listed["sanctions"][0]["effective_until"], "2023-02-28", "a dishonesty record ends after three years");
    let events = app.send("GET", &format!("/api/v1/admin/events?entity_id={id}"), Some(&jilin), None, &[]).await;
    assert_eq!(events.body["events"][0]["back_dated"], true);
    assert_eq!(events.body["events"][0]["effective_on"], "2020-03-01");
}

async fn idempotency_keys_make_retries_safe(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let body = committee_body("幂等测试评委会", "220100", 42);
    let key = [("idempotency-key", "retry-1")];
    let first = app.send("POST", "/api/v1/admin/committees", Some(&jilin), Some(body.clone()), &key).await;
    first.created();
    let second = app.send("POST", "/api/v1/admin/committees", Some(&jilin), Some(body.clone()), &key).await;
    assert_eq!(second.status.as_u16(), 200, "{}", second.body);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert_eq!(second.body["applied"], first.body["applied"]);
    let found = app.ok("/api/v1/committees?q=幂等测试").await;
    assert_eq!(found["committees"].as_array().unwrap().len(), 1, "written once");
    let other = committee_body("另一个评委会", "220100", 43);
    app.send("POST", "/api/v1/admin/committees", Some(&jilin), Some(other), &key)
        .await
        .problem(409, "idempotency_key_reused");
    // Keys are per authority: another authority's identical key is a different request.
    let changchun_admin = app.token("changchun", Role::Publisher).await;
    let theirs = app
        .send(
            "POST",
            "/api/v1/admin/committees",
            Some(&changchun_admin),
            Some(committee_body("长春评委会", "220102", 44)),
            &key,
        )
        .await;
    assert_eq!(theirs.status.as_u16(), 201, "{}", theirs.body);
}

async fn tokens_are_shown_once_hashed_revocable_and_role_bound(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let admin = app.token("jilin", Role::Admin).await;
    let created = app.post("/api/v1/admin/tokens", &admin, json!({"role": "publisher", "label": "省厅发布"})).await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    assert_eq!(created.headers["cache-control"], "no-store");
    let secret = created.body["secret"].as_str().unwrap().to_string();
    let id = created.body["token"]["id"].as_str().unwrap().to_string();
    // A sub-authority's first token, from the province's admin.
    let city = app.post("/api/v1/admin/tokens", &admin, json!({"role": "admin", "authority_id": "changchun"})).await;
    assert_eq!(city.status.as_u16(), 201);
    app.post("/api/v1/admin/tokens", &admin, json!({"role": "admin", "authority_id": "yunnan"}))
        .await
        .problem(403, "not_supervisor");

    app.post("/api/v1/admin/committees", &secret, committee_body("令牌测试评委会", "220100", 9)).await.created();
    let listed = app.send("GET", "/api/v1/admin/tokens", Some(&admin), None, &[]).await;
    let text = listed.body.to_string();
    assert!(!text.contains(&secret) && !text.contains(&secret[4..]), "a listed token shows its secret");
    // The last use is recorded on the side (authentication never waits for the write lock):
    // it shows within moments.
    let mut last_used = Value::Null;
    for _ in 0..100 {
        let listed = app.send("GET", "/api/v1/admin/tokens", Some(&admin), None, &[]).await;
        let mine = listed.body["tokens"].as_array().unwrap().iter().find(|t| t["id"] == id.as_str()).unwrap().clone();
        last_used = mine["last_used_at"].clone();
        if last_used.is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(last_used.is_string(), "last use is recorded");
    assert!(!app.send("GET", "/api/v1/admin/events", Some(&admin), None, &[]).await.body.to_string().contains(&secret));

    app.post("/api/v1/admin/tokens", &secret, json!({"role": "admin"})).await.problem(403, "wrong_role");
    let revoked = app.send("DELETE", &format!("/api/v1/admin/tokens/{id}"), Some(&admin), None, &[]).await;
    assert_eq!(revoked.status.as_u16(), 200, "{}", revoked.body);
    assert!(revoked.body["revoked_at"].is_string());
    app.post("/api/v1/admin/committees", &secret, committee_body("吊销后评委会", "220100", 10))
        .await
        .problem(401, "token_revoked");
    app.send("DELETE", "/api/v1/admin/tokens/tok_nope", Some(&admin), None, &[]).await.problem(404, "not_found");
}

async fn imports_are_all_or_nothing_and_name_every_bad_line(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let line = |v: Value| v.to_string();
    let mut create = committee_body("导入评委会甲", "220100", 100);
    create["id"] = json!("imp-1");
    create["op"] = json!("create_committee");
    let mut grant = grant_body("imp-1", "吉人社函〔2025〕30号");
    grant["op"] = json!("grant_authorization");
    let mut bad_grant = grant.clone();
    bad_grant["valid_until"] = json!("2030-12-31");
    let mut bad_region = committee_body("导入评委会乙", "530100", 101);
    bad_region["op"] = json!("create_committee");
    let file = [line(create.clone()), line(bad_grant), "{not json".to_string(), line(bad_region.clone())].join("\n");
    let before = snapshot(&app).await;
    let rejected = app.send_raw("POST", "/api/v1/admin/import", Some(&jilin), "application/x-ndjson", file).await;
    rejected.problem(422, "malformed_json");
    assert_eq!(rejected.body["code"], "import-rejected");
    let lines: Vec<(u64, &str)> = rejected.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(lines, [(3, "malformed_json")], "parse errors are reported first, for the whole file");
    let file = [
        line(create.clone()),
        line({
            let mut g = grant.clone();
            g["valid_until"] = json!("2030-12-31");
            g
        }),
        line(bad_region.clone()),
    ]
    .join("\n");
    let rejected = app.send_raw("POST", "/api/v1/admin/import", Some(&jilin), "application/x-ndjson", file).await;
    let lines: Vec<(u64, &str)> = rejected.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(lines, [(2, "window_exceeds_cap"), (3, "outside_jurisdiction")]);
    assert_eq!(snapshot(&app).await, before, "a rejected import wrote something");

    let good = [line(create), line(grant)].join("\n");
    let applied = app.send_raw("POST", "/api/v1/admin/import", Some(&jilin), "application/x-ndjson", good).await;
    assert_eq!(applied.status.as_u16(), 200, "{}", applied.body);
    assert_eq!(applied.body["applied"], 2);
    assert!(
        coverage_codes(&app, "imp-1", "series=ENGINEERING&level=intermediate&region=220102&on=2026-01-01")
            .await
            .is_empty()
    );

    let csv = format!(
        "name,kind,unit_name,credit_code,region,domains\nCSV评委会,junior,CSV单位,{},220100,a.cn;b.cn\n",
        credit_code(200)
    );
    let imported =
        app.send_raw("POST", "/api/v1/admin/import?format=csv&type=committees", Some(&jilin), "text/csv", csv).await;
    assert_eq!(imported.status.as_u16(), 200, "{}", imported.body);
    assert_eq!(app.ok("/api/v1/committees?q=CSV评委会").await["committees"][0]["domains"], json!(["a.cn", "b.cn"]));
    let bad_csv = "name,kind,unit_name,credit_code,region\nX,wizard,Y,91350100M000100Y43,220100\n";
    let r = app
        .send_raw("POST", "/api/v1/admin/import?format=csv&type=committees", Some(&jilin), "text/csv", bad_csv)
        .await;
    assert_eq!(r.body["errors"][0]["line"], 2);
    assert_eq!(r.body["errors"][0]["field"], "kind");
    app.send_raw("POST", "/api/v1/admin/import?format=csv", Some(&jilin), "text/csv", bad_csv)
        .await
        .problem(400, "required");
}
