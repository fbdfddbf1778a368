//! Spot-check draws and the inspection cycle (issue 17): a draw recomputed by an independent
//! script from public data alone gives the registry's committees, a plan changed after the fact
//! is caught, inspections only for what was drawn, and the cycle's overdue committees on
//! generated data for a province (5 years), a city (3) and a county (2).

use std::collections::BTreeSet;

use chrono::{Duration, Months};
use serde_json::{Value, json};
use zhicheng::domain::Date;
use zhicheng::domain::publish::Role;

use crate::fixtures;
use crate::publishing::committee_body;
use crate::support::{TestApp, both};

both!(a_draw_is_recomputed_from_public_data_and_a_changed_plan_is_caught, the_cycle_lists_overdue_committees);

fn years_ago(years: u32) -> Date {
    zhicheng::store::today().checked_sub_months(Months::new(12 * years)).unwrap()
}

/// A committee of `authority` (created with its token), authorized by Jilin from `years` ago
/// until next year: an earlier three-year grant where `years` goes back further than two.
async fn committee_since(app: &TestApp, token: &str, jilin: &str, name: &str, seed: u64, years: u32) -> String {
    committee_in(app, token, jilin, name, "220100", seed, years).await
}

async fn committee_in(
    app: &TestApp,
    token: &str,
    jilin: &str,
    name: &str,
    region: &str,
    seed: u64,
    years: u32,
) -> String {
    let created = app.post("/api/v1/admin/committees", token, committee_body(name, region, seed)).await;
    let id = created.created()["id"].as_str().unwrap().to_string();
    let grant = |from: Date, until: Date, n: u32| {
        json!({"committee_id": id, "series": "ENGINEERING", "levels": ["intermediate"],
            "scope": {"regions": [region]}, "valid_from": from.to_string(), "valid_until": until.to_string(),
            "document_number": format!("吉人社函〔{seed}〕{n}号")})
    };
    let three_years_after = |from: Date| from.checked_add_months(Months::new(36)).unwrap() - Duration::days(1);
    let current_from = if years > 2 { years_ago(2) } else { years_ago(years) };
    if years > 2 {
        let until = (years_ago(years - 3).min(years_ago(2))) - Duration::days(1);
        app.post("/api/v1/admin/authorizations", jilin, grant(years_ago(years), until, 1)).await.created();
    }
    app.post("/api/v1/admin/authorizations", jilin, grant(current_from, three_years_after(current_from), 2))
        .await
        .created();
    id
}

async fn plan(app: &TestApp, token: &str, eligible: &[String], count: u32) -> Value {
    let body = json!({"name": "职称评审委员会随机抽查", "eligible": eligible, "count": count});
    let planned = app.post("/api/v1/admin/draws", token, body).await;
    let id = planned.created()["id"].as_str().unwrap().to_string();
    app.checkpoint().await;
    app.ok(&format!("/api/v1/draws/{id}")).await
}

fn recompute(draw: &Value, entry: &Value) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (draw_path, entry_path) = (dir.path().join("draw.json"), dir.path().join("entry.json"));
    std::fs::write(&draw_path, draw.to_string()).unwrap();
    std::fs::write(&entry_path, entry.to_string()).unwrap();
    let out = std::process::Command::new("python3")
        .arg("scripts/recompute_draw.py")
        .arg(&draw_path)
        .arg(&entry_path)
        .output()
        .expect("python3 runs the independent script");
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

async fn a_draw_is_recomputed_from_public_data_and_a_changed_plan_is_caught(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let mut eligible = Vec::new();
    for n in 0..12 {
        eligible
            .push(committee_since(&app, &jilin, &jilin, &format!("吉林省抽查测试{n}号评审委员会"), 500 + n, 1).await);
    }
    let draw = plan(&app, &jilin, &eligible, 4).await;
    let selected: Vec<String> = serde_json::from_value(draw["selected"].clone()).unwrap();
    assert_eq!(selected.len(), 4, "{draw}");
    let listed = app.ok("/api/v1/draws").await;
    assert_eq!(listed["draws"][0]["plan"], draw["plan"], "{listed}");
    assert_eq!(listed["draws"][0]["selected"], draw["selected"], "the list shows the same draw");
    assert!(selected.iter().all(|c| eligible.contains(c)));
    let index = draw["plan"]["log_index"].as_u64().unwrap();
    let entry = app.ok(&format!("/api/v1/log/entries?start={index}&end={}", index + 1)).await;

    let (agrees, printed, complaint) = recompute(&draw, &entry);
    assert!(agrees, "{complaint}");
    assert_eq!(printed.lines().collect::<Vec<_>>(), selected, "the script draws what the registry drew");

    // A plan changed after the fact (a committee quietly dropped from the list) no longer
    // matches the log, and a selection swapped for another does not match the recomputation.
    let mut changed = draw.clone();
    changed["plan"]["eligible"].as_array_mut().unwrap().retain(|c| *c != json!(selected[0]));
    let (agrees, _, complaint) = recompute(&changed, &entry);
    assert!(!agrees && complaint.contains("eligible differs from what the log holds"), "{complaint}");
    let mut steered = draw.clone();
    let spared = eligible.iter().find(|c| !selected.contains(c)).unwrap();
    steered["selected"][0] = json!(spared);
    let (agrees, _, complaint) = recompute(&steered, &entry);
    assert!(!agrees && complaint.contains("selection differs"), "{complaint}");

    // Inspections: only of a committee the draw selected, by the plan's authority.
    let plan_id = draw["plan"]["id"].as_str().unwrap();
    let inspection = |committee: &str| {
        json!({"committee_id": committee, "inspected_on": zhicheng::store::today().to_string(),
            "result": "rectification_required", "summary": "评审材料归档不全，限期整改"})
    };
    let url = format!("/api/v1/admin/draws/{plan_id}/inspections");
    app.post(&url, &jilin, inspection(&selected[0])).await.created();
    app.post(&url, &jilin, inspection(spared)).await.problem(409, "not_drawn");
    let yunnan = app.token("yunnan", Role::Publisher).await;
    app.post(&url, &yunnan, inspection(&selected[1])).await.problem(403, "not_supervisor");
    app.post("/api/v1/admin/draws", &yunnan, json!({"name": "越权抽查", "eligible": [eligible[0]], "count": 1}))
        .await
        .problem(403, "not_supervisor");
    let shown = app.ok(&format!("/api/v1/draws/{plan_id}")).await;
    assert_eq!(shown["inspections"].as_array().unwrap().len(), 1);
    assert_eq!(shown["inspections"][0]["committee_id"], selected[0].as_str());
}

async fn the_cycle_lists_overdue_committees(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let jilin = app.token("jilin", Role::Publisher).await;
    let changchun = app.token("changchun", Role::Publisher).await;
    let changchun_admin = app.token("changchun", Role::Admin).await;
    let county = app
        .post(
            "/api/v1/admin/authorities",
            &changchun_admin,
            json!({"name": "长春市南关区人力资源和社会保障局", "level": "county", "region": "220102", "parent_id": "changchun"}),
        )
        .await;
    let county_id = county.created()["id"].as_str().unwrap().to_string();
    let county_token = app.token(&county_id, Role::Publisher).await;

    // For each authority: committees evaluating since 1, 4 and 6 years ago, some inspected
    // (years ago) through a draw of that one committee. Expected overdue: nothing inspected
    // within the cycle since the later of its start and its last inspection.
    let authorities = [
        ("jilin", &jilin, "220100", 5),
        ("changchun", &changchun, "220100", 3),
        (county_id.as_str(), &county_token, "220102", 2),
    ];
    let inspected: [(&str, u32, u32); 3] =
        [("changchun", 6, 1), (county_id.as_str(), 6, 1), (county_id.as_str(), 4, 3)];
    let mut seed = 900;
    for (authority, token, region, cycle) in authorities {
        let mut expected = BTreeSet::new();
        for since in [1, 4, 6] {
            seed += 1;
            let name = format!("周期测试{authority}{since}年评审委员会");
            let id = committee_in(&app, token, &jilin, &name, region, seed, since).await;
            let last = inspected.iter().find(|(a, s, _)| *a == authority && *s == since).map(|(_, _, m)| *m);
            if let Some(years) = last {
                let draw = plan(&app, token, std::slice::from_ref(&id), 1).await;
                let url = format!("/api/v1/admin/draws/{}/inspections", draw["plan"]["id"].as_str().unwrap());
                let body = json!({"committee_id": id, "inspected_on": years_ago(years).to_string(),
                    "result": "compliant", "summary": "抽查合格"});
                app.post(&url, token, body).await.created();
            }
            if last.unwrap_or(since).min(since) > cycle {
                expected.insert(id);
            }
        }
        let cycle_answer = app.ok(&format!("/api/v1/authorities/{authority}/inspection-cycle")).await;
        assert_eq!(cycle_answer["cycle_years"], cycle, "{cycle_answer}");
        let overdue: BTreeSet<String> = cycle_answer["committees"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["overdue"] == true)
            .map(|c| c["committee_id"].as_str().unwrap().to_string())
            .collect();
        let generated: BTreeSet<String> = cycle_answer["committees"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"].as_str().unwrap().starts_with("周期测试"))
            .map(|c| c["committee_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(generated.len(), 3, "every authorized committee is in the cycle: {cycle_answer}");
        assert_eq!(
            overdue.intersection(&generated).cloned().collect::<BTreeSet<_>>(),
            expected,
            "{authority}: {cycle_answer}"
        );
    }
}
