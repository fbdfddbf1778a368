//! Evaluation sessions (issue 17): registered through the write path before they meet, only for
//! what the committee is authorized to evaluate on the meeting date, their outcome published
//! once afterwards with its pass rate flagged above the supervisor's cap.

use chrono::Duration;
use serde_json::{Value, json};
use zhicheng::domain::publish::Role;

use crate::fixtures;
use crate::publishing::committee_body;
use crate::support::{TestApp, both};

both!(
    sessions_are_registered_only_within_the_authorization,
    outcomes_come_once_after_the_meeting,
    certificates_rest_on_a_session_registered_before_it_met,
    notices_end_on_the_right_working_day,
    the_five_negative_lists_hold_what_is_in_force,
    an_organizing_unit_acts_for_its_own_committee_only
);

/// A committee of Jilin's with an engineering grant (intermediate only) valid from a year ago
/// to two years on; returns its id.
pub(crate) async fn authorized_committee(app: &TestApp, token: &str) -> String {
    let created =
        app.post("/api/v1/admin/committees", token, committee_body("吉林省测绘工程评审委员会", "220000", 77)).await;
    let id = created.created()["id"].as_str().unwrap().to_string();
    let today = zhicheng::store::today();
    let grant = json!({
        "committee_id": id, "series": "ENGINEERING", "specialties": ["测绘工程"], "levels": ["intermediate"],
        "scope": {"regions": ["220000"]}, "valid_from": (today - Duration::days(365)).to_string(),
        "valid_until": (today + Duration::days(730)).to_string(), "document_number": "吉人社函〔2026〕77号"
    });
    app.post("/api/v1/admin/authorizations", token, grant).await.created();
    id
}

pub(crate) fn session(committee: &str, levels: &[&str], in_days: i64) -> Value {
    json!({
        "committee_id": committee, "series": "ENGINEERING", "specialty": "测绘工程", "levels": levels,
        "meets_on": (zhicheng::store::today() + Duration::days(in_days)).to_string(), "applicants": 120,
        "pass_rate_cap": 0.8
    })
}

/// The kinds of every event in the audit trail, oldest first.
async fn event_kinds(app: &TestApp, token: &str) -> Vec<String> {
    let events = app.send("GET", "/api/v1/admin/events?limit=500", Some(token), None, &[]).await;
    events.body["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect()
}

async fn sessions_are_registered_only_within_the_authorization(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let committee = authorized_committee(&app, &jilin).await;

    let registered = app.post("/api/v1/admin/sessions", &jilin, session(&committee, &["intermediate"], 20)).await;
    let id = registered.created()["id"].as_str().unwrap().to_string();
    let shown = app.ok(&format!("/api/v1/sessions/{id}")).await;
    assert_eq!(shown["committee_id"], committee.as_str());
    assert_eq!(shown["registered_by"], "jilin");
    assert!(shown["outcome"].is_null() && shown["pass_rate"].is_null(), "{shown}");
    let listed = app.ok(&format!("/api/v1/sessions?committee={committee}")).await;
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1);

    let before = app.ok(&format!("/api/v1/sessions?committee={committee}")).await;
    let events_before = event_kinds(&app, &jilin).await.len();
    // A level the committee may not evaluate, a date after its grant, a date already past,
    // another province's token: each refused with its reason, nothing written.
    let beyond = session(&committee, &["intermediate", "associate_senior"], 20);
    let refused = app.post("/api/v1/admin/sessions", &jilin, beyond).await;
    let problem = refused.problem(409, "session_not_authorized");
    assert_eq!(problem["errors"][0]["field"], "levels[1]", "{problem}");
    app.post("/api/v1/admin/sessions", &jilin, session(&committee, &["intermediate"], 800))
        .await
        .problem(409, "session_not_authorized");
    app.post("/api/v1/admin/sessions", &jilin, session(&committee, &["intermediate"], -1))
        .await
        .problem(422, "session_in_the_past");
    let yunnan = app.token("yunnan", Role::Publisher).await;
    app.post("/api/v1/admin/sessions", &yunnan, session(&committee, &["intermediate"], 20))
        .await
        .problem(403, "not_supervisor");
    app.post("/api/v1/admin/sessions", &jilin, session("no-such-committee", &["intermediate"], 20))
        .await
        .problem(422, "unknown_reference");
    assert_eq!(app.ok(&format!("/api/v1/sessions?committee={committee}")).await, before, "nothing was written");
    let events_after = event_kinds(&app, &jilin).await.len();
    assert_eq!(events_after, events_before, "no event was logged for a refused session");
}

async fn outcomes_come_once_after_the_meeting(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let committee = authorized_committee(&app, &jilin).await;
    let today = app.post("/api/v1/admin/sessions", &jilin, session(&committee, &["intermediate"], 0)).await;
    let today = today.created()["id"].as_str().unwrap().to_string();
    let later = app.post("/api/v1/admin/sessions", &jilin, session(&committee, &["intermediate"], 30)).await;
    let later = later.created()["id"].as_str().unwrap().to_string();
    let outcome = |public: (u32, u32), enterprise: (u32, u32)| {
        json!({
            "public_sector": {"applicants": public.0, "passed": public.1},
            "enterprise": {"applicants": enterprise.0, "passed": enterprise.1},
            "review_problems": 3,
            "checklist": {"recusal_applied": true, "secret_ballot": true, "supervisor_present": true}
        })
    };
    let (today_url, later_url) =
        (format!("/api/v1/admin/sessions/{today}/outcome"), format!("/api/v1/admin/sessions/{later}/outcome"));

    app.post(&later_url, &jilin, outcome((80, 50), (40, 30))).await.problem(422, "session_not_met");
    app.post(&today_url, &jilin, outcome((10, 11), (0, 0))).await.problem(422, "passed_exceeds_applicants");
    app.post(&today_url, &jilin, outcome((80, 75), (40, 38))).await.created();
    let shown = app.ok(&format!("/api/v1/sessions/{today}")).await;
    assert_eq!(shown["outcome"]["public_sector"]["passed"], 75, "{shown}");
    let rate = shown["pass_rate"].as_f64().unwrap();
    assert!((rate - 113.0 / 120.0).abs() < 1e-9, "{rate}");
    assert_eq!(shown["pass_rate_flagged"], true, "113 of 120 is above the 0.8 cap");
    app.post(&today_url, &jilin, outcome((1, 1), (0, 0))).await.problem(409, "outcome_exists");
    app.get("/api/v1/sessions/no-such-session").await.assert_status(404);

    let kinds = event_kinds(&app, &jilin).await;
    assert_eq!(kinds.iter().filter(|k| **k == "session.registered").count(), 2, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "session.concluded").count(), 1, "{kinds:?}");
}

async fn certificates_rest_on_a_session_registered_before_it_met(app: TestApp) {
    let s = crate::certificates::setup(&app).await;
    let committee = authorized_committee(&app, &s.publisher).await;
    let registered = app.post("/api/v1/admin/sessions", &s.publisher, session(&committee, &["intermediate"], 0)).await;
    let id = registered.created()["id"].as_str().unwrap().to_string();
    let today = zhicheng::store::today().to_string();
    let credential = |number: &str, session: &str| {
        let mut subject = crate::certificates::subject(number, &committee, "ENGINEERING", "intermediate", &today);
        subject.specialty = Some("测绘工程".into());
        subject.evaluation_session = Some(session.to_string());
        s.issuer.sign(&subject, "jilin", chrono::Utc::now() - Duration::minutes(1))
    };
    let session_check = |answer: &Value| {
        let check = answer["checks"].as_array().unwrap().iter().find(|c| c["step"] == "session").unwrap().clone();
        (check["status"].as_str().unwrap().to_string(), check["code"].as_str().unwrap().to_string())
    };

    let genuine = credential("CH-0001", &id);
    app.post("/api/v1/admin/certificates", &s.issuer_token, json!({"credential": genuine})).await.created();
    let answer = app.send("POST", "/api/v1/verify", None, Some(json!({"credential": genuine})), &[]).await.body;
    assert_eq!(answer["verdict"], "valid", "{answer}");
    assert_eq!(session_check(&answer), ("pass".to_string(), "ok".to_string()));

    // A certificate resting on a session nobody registered: refused at issuance, and a copy
    // presented anyway fails its session check with a stable code.
    let invented = credential("CH-0002", "ses-invented");
    app.post("/api/v1/admin/certificates", &s.issuer_token, json!({"credential": invented}))
        .await
        .problem(422, "session_unregistered");
    let answer = app.send("POST", "/api/v1/verify", None, Some(json!({"credential": invented})), &[]).await.body;
    assert_eq!(answer["verdict"], "invalid", "{answer}");
    assert_eq!(session_check(&answer), ("fail".to_string(), "session_unregistered".to_string()));

    // Offline, from the signed bundle, the session step answers as the API does.
    let bundle = zhicheng::verify::offline::open(&app.ok("/api/v1/bundle").await, None).expect("the bundle verifies");
    for (credential, expected) in [(&genuine, ("pass", "ok")), (&invented, ("fail", "session_unregistered"))] {
        let presented = zhicheng::domain::verification::Presented::new(credential.clone());
        let offline = bundle.verify(&presented, &Default::default(), chrono::Utc::now());
        let offline = json!({"checks": offline.checks});
        let got = session_check(&offline);
        assert_eq!((got.0.as_str(), got.1.as_str()), expected, "offline: {offline}");
    }

    // Verification's session reads are cached; a registration is seen by the next one.
    let mut late = session(&committee, &["intermediate"], 0);
    late["id"] = json!("ses-invented");
    app.post("/api/v1/admin/sessions", &s.publisher, late).await.created();
    let answer = app.send("POST", "/api/v1/verify", None, Some(json!({"credential": invented})), &[]).await.body;
    assert_eq!(session_check(&answer), ("pass".to_string(), "ok".to_string()), "{answer}");
}

async fn notices_end_on_the_right_working_day(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let committee = authorized_committee(&app, &jilin).await;
    let registered = app.post("/api/v1/admin/sessions", &jilin, session(&committee, &["intermediate"], 10)).await;
    let session_id = registered.created()["id"].as_str().unwrap().to_string();
    let notice = |published_on: &str, working_days: u32| {
        json!({"committee_id": committee, "session_id": session_id, "title": "2026年度测绘工程中级职称评审结果公示",
            "published_on": published_on, "working_days": working_days, "url": "https://rst.jl.gov.cn/gs/2026-01",
            "complaint_channel": "0431-88888888"})
    };
    // Thursday 12 February 2026: the worked Saturday 14th counts, the Spring Festival 15–23 does not.
    let published = app.post("/api/v1/admin/notices", &jilin, notice("2026-02-12", 5)).await;
    let id = published.created()["id"].as_str().unwrap().to_string();
    let shown = app.ok(&format!("/api/v1/notices/{id}")).await;
    assert_eq!(shown["ends_on"], "2026-02-25", "{shown}");
    assert_eq!(shown["state"], "closed");
    let listed = app.ok(&format!("/api/v1/notices?session={session_id}")).await;
    assert_eq!(listed["notices"].as_array().unwrap().len(), 1);

    app.post("/api/v1/admin/notices", &jilin, notice("2026-02-12", 4)).await.problem(422, "out_of_range");
    app.post("/api/v1/admin/notices", &jilin, notice("2031-06-02", 5)).await.problem(422, "calendar_not_covered");
    let yunnan = app.token("yunnan", Role::Publisher).await;
    app.post("/api/v1/admin/notices", &yunnan, notice("2026-02-12", 5)).await.problem(403, "not_supervisor");
    let mut other = notice("2026-02-12", 5);
    other["committee_id"] = json!("c-eng");
    app.post("/api/v1/admin/notices", &jilin, other).await.problem(409, "session_of_another_committee");
    assert_eq!(app.ok("/api/v1/notices").await["notices"].as_array().unwrap().len(), 1, "nothing else was written");
}

/// `zhicheng demo` carries supervision: sessions (one met today, with its outcome, notice and
/// visit), supervisors, complaints, and a spot-check plan per seed province.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_registry_shows_supervision() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let examples = dir.path().join("examples");
    let out = crate::cli::zhicheng(&[
        "demo",
        "--database-url",
        &url,
        "--certificates",
        "50",
        "--examples",
        examples.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store = zhicheng::store::connect(&url, false).await.unwrap();
    let sessions = store.sessions_after(&Default::default(), None, 100).await.unwrap();
    assert!(sessions.len() >= 6, "{sessions:?}");
    let concluded: Vec<_> = sessions.iter().filter(|s| s.outcome.is_some()).collect();
    assert_eq!(concluded.len(), 3, "one session met today in each seed province");
    assert!(concluded.iter().all(|s| s.outcome.as_ref().unwrap().total().pass_rate().is_some()));
    let notices = store.notices_after(&Default::default(), None, 100).await.unwrap();
    if zhicheng::domain::calendar::COVERED_YEARS.contains(&chrono::Datelike::year(&zhicheng::store::today())) {
        assert_eq!(notices.len(), 3, "each result noticed");
    }
    let jilin_today = "ses-hr-220000-0";
    assert!(store.registered_supervisor("JG-220000-001").await.unwrap().is_some(), "supervisors are registered");
    let visits = store.visits(jilin_today).await.unwrap();
    assert_eq!(visits.len(), 1, "today's session was supervised");
    assert_eq!(visits[0].supervisors.len(), 2);
    let counts = store.complaint_counts(jilin_today).await.unwrap();
    assert_eq!((counts.received, counts.concluded), (2, 1), "complaints received and one concluded");
    let year = chrono::Datelike::year(&zhicheng::store::today());
    for region in ["220000", "450000", "530000"] {
        let (plan, _) = store.draw_plan(&format!("draw-{region}-{year}")).await.unwrap().expect("a plan per province");
        assert!(plan.count >= 1 && plan.eligible.len() >= plan.count as usize, "{plan:?}");
    }
}

async fn the_five_negative_lists_hold_what_is_in_force(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let today = zhicheng::store::today();
    let sanction = |kind: &str, name: &str, measure: &str, from: chrono::NaiveDate, n: u32| {
        json!({"subject": {"kind": kind, "name": name}, "measure": measure, "region": "220100",
            "effective_from": from.to_string(), "document_number": format!("吉人社监〔2026〕{n}号"),
            "legal_basis": "《职称评审管理暂行规定》第四十条", "summary": "负面清单测试"})
    };
    let recent = today - Duration::days(10);
    let employer = sanction("employer", "长春某某科技有限公司", "dishonesty_record", recent, 71);
    app.post("/api/v1/admin/sanctions", &jilin, employer).await.created();
    let expert = sanction("expert", "钱评审", "expert_disqualification", recent, 72);
    app.post("/api/v1/admin/sanctions", &jilin, expert).await.created();
    let old = sanction("applicant", "李旧", "dishonesty_record", today - Duration::days(4 * 365), 73);
    app.post("/api/v1/admin/sanctions", &jilin, old).await.created();
    let website = sanction("website", "fake-zhicheng.example.com", "public_criticism", recent, 74);
    app.post("/api/v1/admin/sanctions", &jilin, website).await.created();

    let answer = app.ok("/api/v1/negative-lists").await;
    let lists = answer["lists"].as_array().unwrap();
    assert_eq!(lists.len(), 5, "{answer}");
    let entries = |list: &str| -> Vec<Value> {
        let found = lists.iter().find(|l| l["list"] == list).unwrap();
        found["entries"].as_array().unwrap().iter().filter(|e| e["summary"] == "负面清单测试").cloned().collect()
    };
    let employers = entries("employers");
    assert_eq!(employers.len(), 1, "{answer}");
    let until = (recent + Duration::days(365 * 3 + 1)).to_string();
    assert!(
        employers[0]["effective_until"].as_str().is_some_and(|u| u <= until.as_str() && u > today.to_string().as_str()),
        "a three-year record: {}",
        employers[0]
    );
    assert_eq!(employers[0]["legal_basis"], "《职称评审管理暂行规定》第四十条");
    assert_eq!(entries("experts").len(), 1);
    assert!(entries("applicants").is_empty(), "a record of four years ago has run out");
    let all: usize =
        ["applicants", "employers", "evaluation_bodies", "experts", "staff"].iter().map(|l| entries(l).len()).sum();
    assert_eq!(all, 2, "a website is on no negative list");
    assert_eq!(app.ok("/api/v1/negative-lists?list=experts").await["lists"].as_array().unwrap().len(), 1);
    app.get("/api/v1/negative-lists?list=bogus").await.problem(400, "unknown_list");
}

/// A committee's organizing unit (组建单位) holds a token of its own: it registers the committee's
/// sessions, publishes their outcomes and notices, and does nothing else — and the log says it
/// was the unit, by its token.
async fn an_organizing_unit_acts_for_its_own_committee_only(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let committee = authorized_committee(&app, &jilin).await;
    let other =
        app.post("/api/v1/admin/committees", &jilin, committee_body("吉林省另一评审委员会", "220000", 78)).await;
    let other = other.created()["id"].as_str().unwrap().to_string();
    let admin = app.token("jilin", Role::Admin).await;
    let tokens = "/api/v1/admin/tokens";
    let scoped = |role: &str, extra: Value| {
        let mut body = json!({"role": role, "committee_id": committee, "label": "组建单位"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    app.post(tokens, &admin, scoped("issuer", json!({}))).await.problem(422, "organizing_unit_role");
    app.post(tokens, &admin, scoped("publisher", json!({"authority_id": "yunnan"})))
        .await
        .problem(422, "committee_of_another_authority");
    let yunnan_admin = app.token("yunnan", Role::Admin).await;
    app.post(tokens, &yunnan_admin, scoped("publisher", json!({}))).await.problem(403, "not_supervisor");
    let body = json!({"role": "publisher", "committee_id": "no-such-committee"});
    app.post(tokens, &admin, body).await.problem(422, "unknown_reference");
    let created = app.post(tokens, &admin, scoped("publisher", json!({}))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let created = &created.body;
    assert_eq!(
        (created["token"]["committee_id"].as_str(), created["token"]["authority_id"].as_str()),
        (Some(committee.as_str()), Some("jilin"))
    );
    let (unit, token_id) = (created["secret"].as_str().unwrap().to_string(), created["token"]["id"].as_str().unwrap());

    let registered = app.post("/api/v1/admin/sessions", &unit, session(&committee, &["intermediate"], 0)).await;
    let id = registered.created()["id"].as_str().unwrap().to_string();
    let outcome = json!({"public_sector": {"applicants": 70, "passed": 50}, "enterprise": {"applicants": 50, "passed": 30},
        "review_problems": 0, "checklist": {"recusal_applied": true}});
    app.post(&format!("/api/v1/admin/sessions/{id}/outcome"), &unit, outcome).await.created();
    let notice = json!({"committee_id": committee, "session_id": id, "title": "评审结果公示", "published_on": "2026-06-01",
        "working_days": 5, "complaint_channel": "0431-88880000"});
    app.post("/api/v1/admin/notices", &unit, notice).await.created();

    let refused = app.post("/api/v1/admin/sessions", &unit, session(&other, &["intermediate"], 10)).await;
    assert_eq!(refused.problem(403, "not_organizing_unit")["errors"][0]["field"], "committee_id");
    let sanction = json!({"subject": {"kind": "committee", "id": other}, "measure": "warning",
        "effective_from": "2026-07-01", "document_number": "吉人社监〔2026〕9号", "legal_basis": "人社部令第40号", "summary": "越权"});
    app.post("/api/v1/admin/sanctions", &unit, sanction).await.problem(403, "outside_token_scope");
    let plan = json!({"name": "自查", "eligible": [committee], "count": 1});
    app.post("/api/v1/admin/draws", &unit, plan).await.problem(403, "outside_token_scope");
    let decision = json!({"status": "under_review"});
    let answer = app.post("/api/v1/admin/complaints/TS-NONE", &unit, decision).await;
    answer.problem(403, "outside_token_scope");

    let events = app.send("GET", "/api/v1/admin/events?limit=500", Some(&jilin), None, &[]).await.body;
    let by_unit: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["credential"] == format!("token:{token_id}"))
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        by_unit,
        ["session.registered", "session.concluded", "notice.published"],
        "the log names the unit's token"
    );
}
