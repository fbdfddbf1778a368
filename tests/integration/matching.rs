//! Matching names, domains and credit codes against the registry (issue 15): exact committees,
//! units and sanctioned subjects, look-alikes of a real committee, and the W3C Reconciliation
//! API's batch shape.

use serde_json::Value;
use zhicheng::domain::publish::Role;

use crate::support::{TestApp, both};

both!(a_list_of_names_finds_committees_look_alikes_and_sanctioned_subjects,);

async fn a_list_of_names_finds_committees_look_alikes_and_sanctioned_subjects(app: TestApp) {
    let demo = zhicheng::demo::demo(zhicheng::store::today(), 20, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    let token = app.token("hr-220000", Role::Publisher).await;
    let committee = app.ok("/api/v1/committees/cmt-220300-03").await["committee"].clone();
    let real = committee["name"].as_str().unwrap().to_string();
    assert_eq!(real, "四平市卫生技术人员高级职称评审委员会");
    let credit_code = committee["organizing_unit"]["credit_code"].as_str().unwrap().to_string();
    let queries = [
        real.as_str(),
        "四平市卫生技术人员职称评审中心",
        "四平市衛生技術人員職稱評審服務中心",
        "\"四平卫生技术评审有限公司\"",
        "北京烤鸭有限公司",
        "{\"query\": \"长春某某教育咨询有限公司\"}",
        "https://jlzcps-zhongxin.example.com/apply",
        "%%% ###",
        credit_code.as_str(),
        "四平市卫声技术人员职称评审中心",
        "Siping Weisheng Jishu Zhicheng Pingshen Zhongxin",
    ];
    let answer = app.send_raw("POST", "/api/v1/bulk/match", Some(&token), "text/plain", queries.join("\n")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let results: Vec<Value> = answer.body.as_str().unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(results.len(), queries.len());
    let ids = |r: &Value, key: &str| -> Vec<String> {
        r[key].as_array().unwrap().iter().filter_map(|c| c["committee_id"].as_str().map(str::to_string)).collect()
    };

    let exact = &results[0];
    assert_eq!(exact["exact"][0]["committee_id"], "cmt-220300-03", "{exact}");
    assert_eq!(exact["exact"][0]["kind"], "committee");
    assert_eq!(exact["exact"][0]["status"], "grantor_lacked_competence");
    for (i, r) in results.iter().enumerate().take(4).skip(1) {
        assert!(r["exact"].as_array().unwrap().is_empty(), "line {}: a look-alike is not the committee: {r}", i + 1);
        assert!(ids(r, "look_alikes").contains(&"cmt-220300-03".to_string()), "line {}: {r}", i + 1);
    }
    // Sounds the same (声 for 生), or written in pinyin: a look-alike all the same.
    for r in &results[9..] {
        assert!(ids(r, "look_alikes").contains(&"cmt-220300-03".to_string()), "{r}");
    }
    let unrelated = &results[4];
    assert!(
        unrelated["exact"].as_array().unwrap().is_empty() && unrelated["look_alikes"].as_array().unwrap().is_empty(),
        "{unrelated}"
    );
    let intermediary = &results[5];
    assert_eq!(intermediary["query"], "长春某某教育咨询有限公司");
    assert_eq!(intermediary["exact"][0]["kind"], "intermediary", "{intermediary}");
    assert!(intermediary["exact"][0]["sanctions"].to_string().contains("记入失信黑名单"));
    let website = &results[6];
    assert_eq!(website["matched_as"], "domain");
    assert_eq!(website["exact"][0]["kind"], "website", "{website}");
    assert_eq!(results[7]["matched_as"], "nothing");
    let by_code = &results[8];
    assert_eq!(by_code["matched_as"], "credit_code");
    assert_eq!(by_code["exact"][0]["kind"], "organizing_unit");
    assert_eq!(by_code["exact"][0]["committee_id"], "cmt-220300-03");

    // The W3C Reconciliation API, as OpenRefine calls it.
    let manifest = app.ok("/api/v1/reconcile").await;
    assert_eq!(manifest["versions"][0], "0.2");
    let batch = serde_json::json!({
        "q0": {"query": real, "limit": 3},
        "q1": {"query": "四平市卫生技术人员职称评审中心"}
    });
    let form = serde_urlencoded::to_string([("queries", batch.to_string())]).unwrap();
    let reconciled = app.send_raw("POST", "/api/v1/reconcile", None, "application/x-www-form-urlencoded", form).await;
    assert_eq!(reconciled.status, 200, "{}", reconciled.body);
    assert_eq!(reconciled.body["q0"]["result"][0]["id"], "cmt-220300-03");
    assert_eq!(reconciled.body["q0"]["result"][0]["match"], true);
    assert_eq!(reconciled.body["q1"]["result"][0]["match"], false, "{}", reconciled.body);
    let bad =
        app.send_raw("POST", "/api/v1/reconcile", None, "application/x-www-form-urlencoded", "queries=nope").await;
    assert_eq!(bad.status, 400);
    let empty = app.send_raw("POST", "/api/v1/reconcile", None, "text/plain", "").await;
    assert_eq!(empty.status, 400);
    assert_eq!(empty.body["errors"][0]["field"], "queries", "a problem naming the field: {}", empty.body);

    // Bulk matching is for token holders; an empty body is refused.
    assert_eq!(app.send_raw("POST", "/api/v1/bulk/match", None, "text/plain", "x").await.status, 401);
    assert_eq!(app.send_raw("POST", "/api/v1/bulk/match", Some(&token), "text/plain", "").await.status, 400);
}
