//! Pages for people (issue 14): bad input answered with a friendly page and the right status,
//! and a person's path through the pages in headless Chromium (WebDriver, chromedriver).

use std::time::Duration;

use serde_json::Value;

use crate::bulk::Server;
use crate::support::{TestApp, both};

both!(every_page_answers_bad_input_with_a_friendly_page, a_person_checks_a_committee_and_verifies_in_a_browser,);

async fn load_demo(app: &TestApp) -> Vec<zhicheng::demo::certificates::Example> {
    let demo = zhicheng::demo::demo(zhicheng::store::today(), 300, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    demo.examples
}

fn example<'a>(examples: &'a [zhicheng::demo::certificates::Example], name: &str) -> &'a Value {
    &examples.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("no {name} example")).credential
}

fn html(body: &Value) -> &str {
    body.as_str().expect("an HTML page")
}

async fn every_page_answers_bad_input_with_a_friendly_page(app: TestApp) {
    let examples = load_demo(&app).await;
    let home = app.get("/").await;
    assert_eq!(home.status, 200);
    assert!(html(&home.body).contains("<html lang=\"zh-CN\">"));
    let english = app.get("/?lang=en").await;
    assert!(html(&english.body).contains("<html lang=\"en\">") && html(&english.body).contains("Verify a certificate"));

    let unknown = app.get("/committees/no-such-committee").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(html(&unknown.body).contains("未找到"));

    // A mistyped address: a page for a browser, problem+json for a program.
    let typo = app.send("GET", "/verfy", None, None, &[("accept", "text/html,application/xhtml+xml")]).await;
    assert_eq!(typo.status, 404);
    assert!(html(&typo.body).contains("<html lang=\"zh-CN\">"));
    assert_eq!(app.get("/verfy").await.content_type(), "application/problem+json");

    let form = |body: &str| {
        let body = body.to_string();
        let app = &app;
        async move { app.send_raw("POST", "/verify", None, "application/x-www-form-urlencoded", body).await }
    };
    let garbled = form("qr=ZC1%3Anot-a-certificate").await;
    assert_eq!(garbled.status, 400);
    assert!(html(&garbled.body).contains("二维码内容无法识别"));
    let subject = &example(&examples, "valid")["credentialSubject"];
    let number = subject["certificateNumber"].as_str().unwrap();
    let wrong_name = form(&format!("certificate_number={number}&name=%E6%9D%8E%E5%9B%9B")).await;
    assert_eq!(wrong_name.status, 200);
    assert!(html(&wrong_name.body).contains("未找到"), "a wrong name is not found, like an unknown number");

    let upload = |bytes: Vec<u8>| {
        let app = &app;
        async move {
            let boundary = "zhichengboundary";
            let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.json\"\r\nContent-Type: application/octet-stream\r\n\r\n").into_bytes();
            body.extend(bytes);
            body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
            app.send_raw("POST", "/verify/file", None, &format!("multipart/form-data; boundary={boundary}"), body).await
        }
    };
    let not_json = upload(b"\x89PNG\r\n\x1a\nnot a certificate".to_vec()).await;
    assert_eq!(not_json.status, 400);
    assert!(html(&not_json.body).contains("图片无法读取"));
    let text = upload(b"hello".to_vec()).await;
    assert_eq!(text.status, 400);
    assert!(html(&text.body).contains("不是证书文件"));
    let oversized = upload(vec![b' '; 5 * 1024 * 1024]).await;
    assert_eq!(oversized.status, 413, "{}", oversized.body);
    let forged = upload(example(&examples, "forged-signature").to_string().into_bytes()).await;
    assert_eq!(forged.status, 200);
    assert!(html(&forged.body).contains("无效 — 可能伪造") && html(&forged.body).contains("签名"));
    // A picture that holds no QR code is told so.
    let blank = zhicheng::verify::qr_image::encode_png("").unwrap_or_default();
    let no_code = upload(blank[..blank.len().min(60)].to_vec()).await;
    assert_eq!(no_code.status, 400, "{}", no_code.body);
}

/// chromedriver on a free port, and a headless Chromium session through it; `None` (the test
/// is skipped) when chromedriver is not installed, unless `ZHICHENG_REQUIRE_BROWSER` is set.
struct Browser {
    client: fantoccini::Client,
    _driver: tokio::process::Child,
}

impl Browser {
    async fn start() -> Option<Browser> {
        let driver = ["chromedriver", "/usr/bin/chromedriver"]
            .into_iter()
            .find(|p| std::process::Command::new(p).arg("--version").output().is_ok());
        let Some(driver) = driver else {
            assert!(
                std::env::var_os("ZHICHENG_REQUIRE_BROWSER").is_none(),
                "ZHICHENG_REQUIRE_BROWSER is set but chromedriver is not installed"
            );
            eprintln!("chromedriver not installed: browser test skipped");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = tokio::process::Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=390,900", "--lang=zh-CN"]}),
        );
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            let connected =
                fantoccini::ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&url).await;
            if let Ok(client) = connected {
                return Some(Browser { client, _driver: child });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start");
    }

    async fn screenshot(&self, name: &str) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// The first element matching `css`, waited for up to ten seconds: a click that submits a
    /// form returns before the next page has loaded.
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        let found =
            self.client.wait().at_most(Duration::from_secs(10)).for_element(fantoccini::Locator::Css(css)).await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("{css}: {e}\n{}", self.client.source().await.unwrap_or_default()),
        }
    }

    async fn text(&self, css: &str) -> String {
        self.element(css).await.text().await.unwrap()
    }

    async fn fill(&self, css: &str, text: &str) {
        self.element(css).await.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.element(css).await.click().await.unwrap();
    }
}

async fn a_person_checks_a_committee_and_verifies_in_a_browser(app: TestApp) {
    let Some(browser) = Browser::start().await else { return };
    let examples = load_demo(&app).await;
    let server = Server::start(&app.url, "info").await;
    let base = format!("http://{}", server.addr);
    let db = if app.url.starts_with("postgres") { "pg" } else { "sqlite" };

    // Search by part of a name written in traditional characters, open the committee.
    browser.client.goto(&format!("{base}/")).await.unwrap();
    browser.fill("#q", "工程技術人員高級").await;
    browser.click("form[role=search] button").await;
    browser.text("main ul li a").await;
    browser.screenshot(&format!("{db}-search")).await;
    browser.click("main ul li a").await;
    browser.text("p.verdict").await;
    let heading = browser.text("h1").await;
    assert!(heading.contains("工程技术人员高级"), "{heading}");

    // The committee whose approving authority lacked the competence is flagged.
    browser.client.goto(&format!("{base}/committees/cmt-220300-03")).await.unwrap();
    let warning = browser.text("[role=alert]").await;
    assert!(warning.contains("超越权限"), "{warning}");
    browser.screenshot(&format!("{db}-beyond-competence")).await;

    // The valid certificate by number and name.
    let subject = &example(&examples, "valid")["credentialSubject"];
    browser.client.goto(&format!("{base}/verify")).await.unwrap();
    browser.fill("#number", subject["certificateNumber"].as_str().unwrap()).await;
    browser.fill("#name", subject["holderName"].as_str().unwrap()).await;
    browser.click("form:first-of-type button").await;
    assert_eq!(browser.text("#verdict").await, "真实有效");
    browser.screenshot(&format!("{db}-verified")).await;

    // The forged one by file upload: the failing check in words.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("forged.json");
    std::fs::write(&file, example(&examples, "forged-signature").to_string()).unwrap();
    browser.client.goto(&format!("{base}/verify")).await.unwrap();
    browser.fill("#file", file.to_str().unwrap()).await;
    browser.click("form[enctype] button").await;
    assert_eq!(browser.text("#verdict").await, "无效 — 可能伪造");
    let checks = browser.text("ul.checks").await;
    assert!(checks.contains("未通过 签名"), "{checks}");
    browser.screenshot(&format!("{db}-forged")).await;

    // A photo (here: the image) of the valid certificate's QR code, and opening its QR URL.
    let url = zhicheng::crypto::compact::url(&base, example(&examples, "valid"));
    let png = dir.path().join("valid-qr.png");
    std::fs::write(&png, zhicheng::verify::qr_image::encode_png(&url).unwrap()).unwrap();
    browser.client.goto(&format!("{base}/verify")).await.unwrap();
    browser.fill("#file", png.to_str().unwrap()).await;
    browser.click("form[enctype] button").await;
    assert_eq!(browser.text("#verdict").await, "真实有效");
    browser.screenshot(&format!("{db}-qr-image")).await;
    browser.client.goto(&url).await.unwrap();
    assert_eq!(browser.text("#verdict").await, "真实有效");

    // Switch to English.
    browser.client.goto(&format!("{base}/verify")).await.unwrap();
    browser.click("a[hreflang=en]").await;
    browser.text("html[lang=en]").await;
    assert_eq!(browser.text("h1").await, "Verify a certificate");
    let lang = browser.client.find(fantoccini::Locator::Css("html")).await.unwrap().attr("lang").await.unwrap();
    assert_eq!(lang.as_deref(), Some("en"));
    browser.client.close().await.unwrap();
    drop(server);
}
