//! The public read API over a known registry: coverage answers for every reason code,
//! searches and filters, pagination, authorities, sanctions, catalog.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::fixtures;
use crate::support::{TestApp, both};

both!(
    coverage_answers_every_reason_code,
    evaluations_before_a_withdrawal_stand_and_after_it_do_not,
    committee_detail_has_unit_authorizations_history_and_sanctions,
    committee_search_filters_by_name_region_series_level_and_status,
    pagination_walks_every_committee_once,
    as_of_dates_change_derived_status,
    authorities_list_and_detail_show_competence,
    sanctions_filter_by_kind_committee_region_date_and_text,
    catalog_lists_series_levels_and_regions,
    readiness_checks_the_database,
    demo_registry_answers_every_endpoint,
    history_tables_refuse_rewrites,
    cache_follows_writes_on_this_node_at_once_and_on_other_nodes_within_a_second,
);

async fn coverage(app: &TestApp, committee: &str, query: &str) -> Value {
    app.ok(&format!("/api/v1/committees/{committee}/coverage?{query}")).await
}

fn codes(answer: &Value) -> Vec<String> {
    answer["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["code"].as_str().expect("code").to_string())
        .collect()
}

async fn coverage_answers_every_reason_code(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let cases: &[(&str, &str, &[&str])] = &[
        ("c-eng", "series=ENGINEERING&specialty=建筑工程&level=intermediate&region=220102&on=2023-05-01", &[]),
        ("c-empty", "series=ENGINEERING&level=intermediate&on=2023-05-01", &["no_authorization"]),
        ("c-eng", "series=HEALTH&level=intermediate&region=220102&on=2023-05-01", &["series_not_covered"]),
        (
            "c-eng",
            "series=ENGINEERING&specialty=电子工程&level=intermediate&region=220102&on=2023-05-01",
            &["specialty_not_covered"],
        ),
        ("c-eng", "series=ENGINEERING&level=senior&region=220102&on=2023-05-01", &["level_not_covered"]),
        ("c-eng", "series=ENGINEERING&level=intermediate&region=220202&on=2023-05-01", &["region_not_covered"]),
        ("c-eng", "series=ENGINEERING&level=intermediate&region=220102&on=2021-12-20", &["not_yet_valid"]),
        ("c-health-old", "series=HEALTH&level=intermediate&region=220102&on=2023-05-01", &["expired"]),
        ("c-susp", "series=AGRICULTURE&level=intermediate&region=220102&on=2023-04-01", &["suspended"]),
        ("c-susp", "series=AGRICULTURE&level=intermediate&region=220102&on=2023-07-01", &[]),
        ("c-eng", "series=ENGINEERING&level=intermediate&region=220102&on=2024-07-01", &["withdrawn"]),
        ("c-overreach", "series=ENGINEERING&level=senior&region=220102&on=2023-05-01", &["grantor_lacked_competence"]),
        ("c-overreach", "series=ENGINEERING&level=intermediate&region=220102&on=2023-05-01", &[]),
        ("c-sanctioned", "series=ECONOMICS&level=intermediate&region=530102&on=2023-03-01", &["suspended"]),
        ("c-sanctioned", "series=ECONOMICS&level=intermediate&region=530102&on=2023-08-31", &[]),
        ("c-sanctioned", "series=ECONOMICS&level=intermediate&region=530102&on=2023-10-01", &["withdrawn"]),
        ("c-univ", "series=HIGHER_ED&level=senior&on=2023-05-01", &["scope_own_staff_only"]),
        ("c-univ", "series=HIGHER_ED&level=senior&own_staff=true&on=2023-05-01", &[]),
    ];
    for (committee, query, expected) in cases {
        let answer = coverage(&app, committee, query).await;
        assert_eq!(codes(&answer), *expected, "{committee}?{query}: {answer}");
        assert_eq!(answer["covered"], Value::Bool(expected.is_empty()), "{committee}?{query}");
        for reason in answer["reasons"].as_array().expect("reasons") {
            assert!(
                !reason["message_zh"].as_str().expect("zh").is_empty()
                    && !reason["message_en"].as_str().expect("en").is_empty()
            );
        }
    }
    let covered = coverage(&app, "c-eng", "series=ENGINEERING&level=intermediate&region=220102&on=2023-05-01").await;
    assert_eq!(covered["authorization"]["id"], "a-eng");
    assert_eq!(covered["authorization"]["granted_by"], "jilin");
    assert_eq!(covered["query"]["on"], "2023-05-01");
}

async fn evaluations_before_a_withdrawal_stand_and_after_it_do_not(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let before = coverage(&app, "c-eng", "series=ENGINEERING&level=associate_senior&region=220104&on=2024-05-31").await;
    assert_eq!(before["covered"], true, "{before}");
    assert_eq!(before["authorization"]["status"], "active");
    let after = coverage(&app, "c-eng", "series=ENGINEERING&level=associate_senior&region=220104&on=2024-06-01").await;
    assert_eq!(after["covered"], false);
    assert_eq!(codes(&after), ["withdrawn"]);
    assert_eq!(after["authorization"]["status"], "withdrawn");
    assert!(after["reasons"][0]["message_zh"].as_str().unwrap().contains("吉人社函〔2024〕12号"));
}

async fn committee_detail_has_unit_authorizations_history_and_sanctions(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let body = app.ok("/api/v1/committees/c-eng?as_of=2023-05-01").await;
    let c = &body["committee"];
    assert_eq!(c["id"], "c-eng");
    assert_eq!(c["kind"], "intermediate");
    assert_eq!(c["status"], "authorized");
    assert_eq!(c["authority_id"], "jilin");
    assert_eq!(c["region"], "220000");
    assert_eq!(c["organizing_unit"]["credit_code"].as_str().unwrap().len(), 18);
    let a = &c["authorizations"][0];
    assert_eq!(a["series"], "ENGINEERING");
    assert_eq!(a["specialties"], serde_json::json!(["建筑工程"]));
    assert_eq!(a["levels"], serde_json::json!(["intermediate", "associate_senior"]));
    assert_eq!(a["scope"], serde_json::json!({"regions": ["220100"]}));
    assert_eq!(a["valid_from"], "2022-01-01");
    assert_eq!(a["valid_until"], "2024-12-31");
    assert_eq!(a["status"], "active");
    assert_eq!(a["document_number"], "吉人社函〔2021〕90号");
    let actions: Vec<&str> = a["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["granted", "withdrawn"]);
    assert_eq!(c["sanctions"][0]["measure"], "warning");
    assert_eq!(c["sanctions"][0]["subject"], serde_json::json!({"kind": "committee", "id": "c-eng"}));
    // The same committee later: the withdrawal is in force.
    let later = app.ok("/api/v1/committees/c-eng?as_of=2024-07-01").await;
    assert_eq!(later["committee"]["status"], "withdrawn");
    assert_eq!(later["committee"]["authorizations"][0]["status"], "withdrawn");
    let univ = app.ok("/api/v1/committees/c-univ?as_of=2023-01-01").await;
    assert_eq!(univ["committee"]["authorizations"][0]["scope"], serde_json::json!({"own_staff": true}));
}

fn ids(body: &Value, key: &str) -> Vec<String> {
    body[key].as_array().expect("list").iter().map(|c| c["id"].as_str().expect("id").to_string()).collect()
}

async fn committee_search_filters_by_name_region_series_level_and_status(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let q = |query: &'static str| {
        let app = &app;
        async move { ids(&app.ok(&format!("/api/v1/committees?{query}")).await, "committees") }
    };
    assert_eq!(q("q=建筑工程").await, ["c-eng"]);
    assert_eq!(q("q=%E5%BB%BA%E7%AD%91").await, ["c-eng"], "percent-encoded Chinese");
    assert_eq!(q("region=530000").await, ["c-sanctioned"]);
    assert_eq!(q("region=220100").await, ["c-overreach", "c-univ"]);
    assert_eq!(q("series=HEALTH").await, ["c-health-old"]);
    // c-overreach's senior grant was beyond its grantor's competence: it authorizes nothing.
    assert_eq!(q("level=senior").await, ["c-univ"]);
    assert_eq!(q("series=ENGINEERING&level=associate_senior").await, ["c-eng"]);
    assert_eq!(q("status=suspended&as_of=2023-04-01").await, ["c-sanctioned", "c-susp"]);
    assert_eq!(q("status=expired&as_of=2023-04-01").await, ["c-health-old"]);
    assert_eq!(q("status=unauthorized").await, ["c-empty"]);
    assert_eq!(q("status=withdrawn&as_of=2024-07-01").await, ["c-eng", "c-sanctioned"]);
    assert_eq!(q("authority=changchun").await, ["c-overreach"]);
    assert!(q("q=不存在的名字").await.is_empty());
    assert!(q("q=100%25_").await.is_empty(), "LIKE wildcards in q are literal");
}

async fn pagination_walks_every_committee_once(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let mut seen = Vec::new();
    let mut uri = "/api/v1/committees?limit=2".to_string();
    for _ in 0..10 {
        let page = app.ok(&uri).await;
        assert!(page["committees"].as_array().unwrap().len() <= 2);
        assert_eq!(page["meta"]["count"], page["committees"].as_array().unwrap().len());
        seen.extend(ids(&page, "committees"));
        match page["meta"]["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/api/v1/committees?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert_eq!(unique.len(), 7);
    // Filtered pagination: derived-status filters page exactly too.
    let first = app.ok("/api/v1/committees?status=authorized&as_of=2023-05-01&limit=1").await;
    let cursor = first["meta"]["next_cursor"].as_str().expect("more than one authorized committee");
    let second =
        app.ok(&format!("/api/v1/committees?status=authorized&as_of=2023-05-01&limit=1&cursor={cursor}")).await;
    assert_ne!(ids(&first, "committees"), ids(&second, "committees"));
    assert_eq!(second["committees"][0]["status"], "authorized");
}

async fn as_of_dates_change_derived_status(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let status = |id: &'static str, date: &'static str| {
        let app = &app;
        async move {
            app.ok(&format!("/api/v1/committees/{id}?as_of={date}")).await["committee"]["status"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    assert_eq!(status("c-eng", "2021-06-01").await, "pending");
    assert_eq!(status("c-eng", "2023-06-01").await, "authorized");
    assert_eq!(status("c-susp", "2023-04-01").await, "suspended");
    assert_eq!(status("c-susp", "2023-07-01").await, "authorized");
    assert_eq!(status("c-health-old", "2020-06-01").await, "authorized");
    assert_eq!(status("c-health-old", "2022-06-01").await, "expired");
    assert_eq!(status("c-sanctioned", "2024-02-01").await, "withdrawn");
}

async fn authorities_list_and_detail_show_competence(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let all = app.ok("/api/v1/authorities").await;
    assert_eq!(ids(&all, "authorities"), ["changchun", "jilin", "mohrss", "siping", "yunnan"]);
    let jilin_subtree = app.ok("/api/v1/authorities?region=220000").await;
    assert_eq!(ids(&jilin_subtree, "authorities"), ["changchun", "jilin", "siping"]);
    assert_eq!(ids(&app.ok("/api/v1/authorities?level=municipal").await, "authorities"), ["changchun", "siping"]);
    assert_eq!(ids(&app.ok("/api/v1/authorities?parent=jilin").await, "authorities"), ["changchun", "siping"]);
    let changchun = app.ok("/api/v1/authorities/changchun").await;
    let a = &changchun["authority"];
    assert_eq!(a["level"], "municipal");
    assert_eq!(a["region_name"], "吉林省长春市");
    assert_eq!(a["competence"]["basis"], "delegated");
    assert_eq!(a["competence"]["delegations"][0]["series"], "ENGINEERING");
    assert_eq!(a["competence"]["delegations"][0]["delegated_by"], "jilin");
    let jilin = app.ok("/api/v1/authorities/jilin").await;
    assert_eq!(jilin["authority"]["competence"]["basis"], "inherent");
    assert_eq!(ids(&jilin["authority"], "children"), ["changchun", "siping"]);
}

async fn sanctions_filter_by_kind_committee_region_date_and_text(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let q = |query: &'static str| {
        let app = &app;
        async move { ids(&app.ok(&format!("/api/v1/sanctions?{query}")).await, "sanctions") }
    };
    assert_eq!(q("").await.len(), 6);
    assert_eq!(q("subject_kind=applicant").await, ["s-4"]);
    assert_eq!(q("subject_kind=website").await, ["s-5"]);
    assert_eq!(q("committee=c-sanctioned").await, ["s-1", "s-2"]);
    assert_eq!(q("region=530000").await, ["s-1", "s-2"]);
    assert_eq!(q("in_force_on=2023-03-01").await, ["s-1", "s-6"]);
    assert_eq!(q("in_force_on=2023-05-01").await, ["s-1", "s-4"], "s-6 was lifted on 2023-04-01");
    assert_eq!(q("q=张某某").await, ["s-4"]);
    assert_eq!(q("q=虚假网站").await, ["s-5"]);
    let body = app.ok("/api/v1/sanctions?committee=c-sanctioned").await;
    let retro = &body["sanctions"][1];
    assert_eq!(retro["retroactive"], true);
    assert_eq!(retro["void_from"], "2023-09-01");
    assert_eq!(retro["measure_name"], "收回评审权限");
    let lifted = &app.ok("/api/v1/sanctions?committee=c-susp&in_force_on=2023-02-01").await["sanctions"][0];
    assert_eq!(lifted["lifted"]["document_number"], "吉人社监〔2023〕20号");
}

async fn catalog_lists_series_levels_and_regions(app: TestApp) {
    let series = app.ok("/api/v1/catalog/series").await;
    assert_eq!(series["series"].as_array().unwrap().len(), 27);
    assert!(
        series["series"].as_array().unwrap().iter().any(|s| s["code"] == "HEALTH" && s["name_zh"] == "卫生技术人员")
    );
    let levels = app.ok("/api/v1/catalog/levels").await;
    assert_eq!(levels["levels"][3]["code"], "associate_senior");
    let provinces = app.ok("/api/v1/catalog/regions").await;
    assert_eq!(provinces["regions"].as_array().unwrap().len(), 31);
    let jilin = app.ok("/api/v1/catalog/regions?parent=220000").await;
    assert!(jilin["regions"].as_array().unwrap().iter().any(|r| r["code"] == "220100" && r["name"] == "长春市"));
    let changchun = app.ok("/api/v1/catalog/regions?parent=220100").await;
    assert!(changchun["regions"].as_array().unwrap().iter().any(|r| r["code"] == "220102"));
}

async fn readiness_checks_the_database(app: TestApp) {
    let ready = app.ok("/readyz").await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], app.store.backend());
    assert_eq!(app.ok("/healthz").await["status"], "ok");
}

async fn demo_registry_answers_every_endpoint(app: TestApp) {
    app.load(&zhicheng::demo::dataset(zhicheng::store::today())).await;
    let list = app.ok("/api/v1/committees?limit=500").await;
    assert!(list["committees"].as_array().unwrap().len() >= 180);
    let first = list["committees"][0]["id"].as_str().unwrap().to_string();
    app.ok(&format!("/api/v1/committees/{first}")).await;
    app.ok(&format!("/api/v1/committees/{first}/coverage?series=ENGINEERING&level=senior&region=110101")).await;
    let overreach = app.ok("/api/v1/committees?q=四平市卫生").await;
    let id = overreach["committees"][0]["id"].as_str().unwrap().to_string();
    let answer = app.ok(&format!("/api/v1/committees/{id}/coverage?series=HEALTH&level=senior&region=220302")).await;
    assert_eq!(codes(&answer), ["grantor_lacked_competence"]);
    assert_eq!(id, "cmt-220300-03", "the README names this committee");
    for status in ["authorized", "expired", "suspended", "withdrawn"] {
        let page = app.ok(&format!("/api/v1/committees?status={status}")).await;
        assert!(!page["committees"].as_array().unwrap().is_empty(), "no {status} committee in the demo");
    }
    assert!(app.ok("/api/v1/authorities?limit=500").await["authorities"].as_array().unwrap().len() > 60);
    app.ok("/api/v1/authorities/hr-220100").await;
    assert!(app.ok("/api/v1/sanctions?limit=500").await["sanctions"].as_array().unwrap().len() >= 15);
}

async fn history_tables_refuse_rewrites(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let statements = [
        "UPDATE authorization_records SET effective_on = '2030-01-01' WHERE authorization_id = 'a-eng'",
        "DELETE FROM authorization_records WHERE authorization_id = 'a-eng'",
        "UPDATE sanctions SET summary = 'erased' WHERE id = 's-1'",
        "DELETE FROM sanctions WHERE id = 's-2'",
    ];
    for sql in statements {
        let result = if app.url.starts_with("sqlite") {
            let pool = sqlx::SqlitePool::connect(&app.url).await.unwrap();
            sqlx::raw_sql(sql).execute(&pool).await.map(|_| ())
        } else {
            let pool = sqlx::PgPool::connect(&app.url).await.unwrap();
            sqlx::raw_sql(sql).execute(&pool).await.map(|_| ())
        };
        let error = result.expect_err(sql).to_string();
        assert!(error.contains("append-only"), "{sql}: {error}");
    }
    // The record is unchanged.
    let after = coverage(&app, "c-eng", "series=ENGINEERING&level=intermediate&region=220102&on=2024-07-01").await;
    assert_eq!(codes(&after), ["withdrawn"]);
}

async fn cache_follows_writes_on_this_node_at_once_and_on_other_nodes_within_a_second(app: TestApp) {
    use std::sync::Arc;
    use zhicheng::domain::publish::{Actor, AuthorizationAct, Operation, Role};
    use zhicheng::store::cached::CachedStore;
    use zhicheng::store::prelude::*;
    app.load(&fixtures::registry()).await;
    // A second API node on the same database, with its own cache following the log.
    let other =
        Arc::new(CachedStore::new(zhicheng::store::connect(&app.url, false).await.unwrap(), Default::default()));
    other.clone().follow_log(std::time::Duration::from_millis(100)).await;
    let status_on = |record: Option<Arc<zhicheng::domain::committee::CommitteeRecord>>| {
        record.unwrap().authorizations[0].status_on(fixtures::d("2023-07-01"))
    };
    use zhicheng::domain::authorization::AuthorizationStatus::{Active, Withdrawn};
    assert_eq!(status_on(app.store.committee("c-susp").await.unwrap()), Active);
    assert_eq!(status_on(other.committee("c-susp").await.unwrap()), Active, "now cached on the other node");
    let actor = Actor::new("jilin", "test", Role::Publisher);
    let withdraw = Operation::WithdrawAuthorization(AuthorizationAct {
        authorization_id: "a-susp".into(),
        effective_on: fixtures::d("2023-06-15"),
        document_number: "吉人社函〔2026〕9号".into(),
        note: None,
    });
    app.store.execute(&actor, &[withdraw], None, None).await.unwrap();
    assert_eq!(
        status_on(app.store.committee("c-susp").await.unwrap()),
        Withdrawn,
        "the writing node never serves the old answer"
    );
    let started = std::time::Instant::now();
    while status_on(other.committee("c-susp").await.unwrap()) != Withdrawn {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "the other node still serves the old answer after a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
