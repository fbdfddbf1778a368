//! Pages for people (issue 14): bad input answered with a friendly page and the right status,
//! and a person's path through the pages in headless Chromium (WebDriver, chromedriver).

use std::time::Duration;

use serde_json::Value;

use crate::bulk::Server;
use crate::support::{TestApp, both};

both!(
    every_page_answers_bad_input_with_a_friendly_page,
    people_find_committees_sanctions_and_the_log,
    a_person_checks_a_committee_and_verifies_in_a_browser,
);

async fn load_demo(app: &TestApp) -> Vec<zhicheng::demo::certificates::Example> {
    let today = zhicheng::store::today();
    let demo = zhicheng::demo::demo(today, 300, &TestApp::demo_registry());
    app.load(&demo.dataset).await;
    app.publish_demo_supervision(&demo.dataset, today).await;
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

fn get_form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

async fn people_find_committees_sanctions_and_the_log(app: TestApp) {
    load_demo(&app).await;
    let search = |q: &str| {
        let uri = format!("/committees?{}", get_form(&[("q", q)]));
        let app = &app;
        async move {
            let page = app.get(&uri).await;
            assert_eq!(page.status, 200, "{uri}");
            html(&page.body).to_string()
        }
    };
    // Pinyin, in full or by first letters.
    assert!(search("changchun gongcheng").await.contains("长春市工程技术人员正高级职称评审委员会"));
    assert!(search("CCSGC").await.contains("长春市工程技术人员正高级职称评审委员会"));
    // A place run together with an abbreviation.
    assert!(search("长春工程高评委").await.contains("长春市工程技术人员正高级职称评审委员会"));
    // An official web address, typed as people copy it from a browser.
    let committee = app.get("/api/v1/committees/cmt-220300-03").await;
    let domain = committee.body["committee"]["domains"][0].as_str().unwrap().to_string();
    let credit_code = committee.body["committee"]["organizing_unit"]["credit_code"].as_str().unwrap().to_string();
    assert!(search(&format!("https://www.{domain}/apply")).await.contains("四平市卫生技术人员高级职称评审委员会"));
    assert!(search(&credit_code.to_lowercase()).await.contains("四平市卫生技术人员高级职称评审委员会"));
    // A look-alike "evaluation centre" is no committee, but its sanction is found, by the name
    // it used and by its web address.
    let centre = search("吉林省职称评审中心").await;
    assert!(centre.contains("没有相符的评委会") && centre.contains("jlzcps-zhongxin.example.com"), "{centre}");
    assert!(search("http://jlzcps-zhongxin.example.com/").await.contains("冒用"));

    // Filters, and a page at a time.
    let lacked = search_words_page(&app, &[("status", "grantor_lacked_competence")]).await;
    assert!(lacked.contains("四平市卫生技术人员高级职称评审委员会"), "{lacked}");
    assert!(!lacked.contains("长春市工程技术人员正高级职称评审委员会"));
    let first = search_words_page(&app, &[("status", "authorized")]).await;
    let next = first.split("rel=\"next\"").next().and_then(|s| s.rsplit("href=\"").next()).unwrap();
    let next = next.trim_end_matches(['"', ' ']).replace("&#38;", "&").replace("&amp;", "&");
    assert!(next.starts_with("/committees?"), "a link to the next page: {next}");
    let second = app.get(&next).await;
    assert_eq!(second.status, 200, "{next}: {}", second.body);
    let first_link =
        |page: &str| page.split("ul class=\"results\"").nth(1).expect(page).split("</a>").next().unwrap().to_string();
    assert_ne!(first_link(&first), first_link(html(&second.body)), "the next page goes on");
    assert_eq!(app.get("/committees?series=NOPE").await.status, 400);

    // Sanctions: individuals' names masked.
    let sanctions = app.get("/sanctions?kind=applicant").await;
    assert_eq!(sanctions.status, 200);
    let sanctions = html(&sanctions.body);
    assert!(sanctions.contains("张*某") && !sanctions.contains("张某某"), "{sanctions}");
    assert!(!sanctions.contains("长春某某教育咨询有限公司"), "the kind filter applies");
    assert!(html(&app.get("/sanctions?q=%E5%8C%85%E8%BF%87").await.body).contains("长春某某教育咨询有限公司"));

    // A committee: scope table, timeline, linked authority, and the coverage question.
    let page = app.get("/committees/cmt-220300-03").await;
    let page = html(&page.body);
    assert!(page.contains("class=\"cell-beyond\"") && page.contains("href=\"/authorities/hr-220300?lang=zh-CN\""));
    assert!(page.contains("class=\"timeline\"") && page.contains("核准评审权限"));
    let asked = app.get("/committees/cmt-220300-03?series=HEALTH&level=senior").await;
    assert!(html(&asked.body).contains("无权评审"), "beyond its grantor's competence");
    let wrong = app.get("/committees/cmt-220300-03?series=NOPE&level=senior").await;
    assert_eq!(wrong.status, 400);
    assert!(html(&wrong.body).contains("series"));

    // Authorities, the log, about; unknown ids are a friendly 404.
    let authority = app.get("/authorities/hr-220300").await;
    assert_eq!(authority.status, 200);
    assert!(html(&authority.body).contains("四平市卫生技术人员高级职称评审委员会"));
    assert_eq!(app.get("/authorities/no-such-authority").await.status, 404);
    app.checkpoint().await;
    let log = app.get("/log").await;
    let log = html(&log.body);
    let key = app.get("/api/v1/log/key").await;
    assert!(log.contains(key.body.as_str().unwrap().trim()) && log.contains("zhicheng log verify"), "{log}");
    assert!(html(&app.get("/").await.body).contains("最新签名检查点覆盖"));
    let about = app.get("/about?lang=en").await;
    assert!(html(&about.body).contains("Apache-2.0") && html(&about.body).contains("/api/v1/log/entries"));
    // The camera's scripts are served from the binary, the vendored one with its licence.
    let jsqr = app.get("/assets/jsQR-1.4.0.js").await;
    assert_eq!(jsqr.status, 200);
    assert!(jsqr.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(html(&app.get("/assets/jsQR-1.4.0.LICENSE.txt").await.body).contains("Apache License"));
}

async fn search_words_page(app: &TestApp, pairs: &[(&str, &str)]) -> String {
    let page = app.get(&format!("/committees?{}", get_form(pairs))).await;
    assert_eq!(page.status, 200, "{pairs:?}");
    html(&page.body).to_string()
}

/// chromedriver on a free port, and a headless Chromium session through it; `None` (the test
/// is skipped) when chromedriver is not installed, unless `ZHICHENG_REQUIRE_BROWSER` is set.
struct Browser {
    client: fantoccini::Client,
    _driver: tokio::process::Child,
}

impl Browser {
    /// A session whose camera shows `camera` (a Y4M video file), as a phone pointed at a code.
    async fn start(camera: &std::path::Path) -> Option<Browser> {
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
            serde_json::json!({"args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=390,900",
                "--lang=zh-CN", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                format!("--use-file-for-fake-video-capture={}", camera.display()),
            ]}),
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

    /// The first element matching `css`, waited for up to 30 seconds (a loaded CI machine): a click that submits a
    /// form returns before the next page has loaded.
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        let found =
            self.client.wait().at_most(Duration::from_secs(30)).for_element(fantoccini::Locator::Css(css)).await;
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

    /// Uploads `file` through the verify page's file form; the verdict shown.
    async fn upload(&self, base: &str, file: &std::path::Path) -> String {
        self.client.goto(&format!("{base}/verify")).await.unwrap();
        self.fill("#file", file.to_str().unwrap()).await;
        self.click("form[enctype] button").await;
        self.text("#verdict").await
    }
}

/// One frame of a camera pointed at a QR code of `text`, as a Y4M (4:2:0) video file: what
/// Chromium's fake camera plays in a loop.
fn camera_video(text: &str, path: &std::path::Path) {
    let (width, height) = (1280usize, 720usize);
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).unwrap();
    let modules = code.width();
    let scale = (height / (modules + 8)).clamp(1, 6);
    let (left, top) = ((width - modules * scale) / 2, (height - modules * scale) / 2);
    let mut luma = vec![235u8; width * height];
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = (left + (i % modules) * scale, top + (i / modules) * scale);
            for dy in 0..scale {
                luma[(y + dy) * width + x..(y + dy) * width + x + scale].fill(16);
            }
        }
    }
    let mut video = format!("YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\nFRAME\n").into_bytes();
    video.extend(&luma);
    video.extend(std::iter::repeat_n(128u8, width * height / 2));
    std::fs::write(path, video).unwrap();
}

/// axe-core 4.10.2 (MPL-2.0, vendored under tests/assets/), run on the page in the browser:
/// the serious and critical violations, described.
async fn accessibility_violations(browser: &Browser) -> Vec<String> {
    const AXE: &str = include_str!("../assets/axe-core-4.10.2/axe.min.js");
    browser.client.execute(AXE, vec![]).await.expect("load axe-core");
    let run = r#"
        const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ["violations"] })
            .then(r => done(r.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => v.id + " (" + v.impact + "): " + v.help + " — " + v.nodes.map(n => n.target.join(" ")).join(", "))))
            .catch(e => done(["axe failed: " + e]));
    "#;
    let found = browser.client.execute_async(run, vec![]).await.expect("run axe-core");
    serde_json::from_value(found).expect("a list of violations")
}

async fn a_person_checks_a_committee_and_verifies_in_a_browser(app: TestApp) {
    let examples = load_demo(&app).await;
    let server = Server::start(&app.url, "info").await;
    let base = format!("http://{}", server.addr);
    let dir = tempfile::tempdir().unwrap();
    let url = zhicheng::crypto::compact::url(&base, example(&examples, "valid"));
    let camera = dir.path().join("camera.y4m");
    camera_video(&url, &camera);
    let Some(browser) = Browser::start(&camera).await else { return };
    let db = if app.url.starts_with("postgres") { "pg" } else { "sqlite" };
    let mut audited: Vec<(String, Vec<String>)> = Vec::new();
    macro_rules! audit {
        ($name:expr) => {{
            let violations = accessibility_violations(&browser).await;
            let page = browser.client.current_url().await.unwrap().to_string();
            browser.screenshot(&format!("{db}-{}", $name)).await;
            audited.push((page, violations));
        }};
    }

    // Search by part of a name written in traditional characters, open the committee.
    browser.client.goto(&format!("{base}/")).await.unwrap();
    browser.text("#freshness").await;
    audit!("home");
    browser.fill("#q", "工程技術人員高級").await;
    browser.click("form[role=search] button").await;
    browser.text("main ul.results li a").await;
    audit!("search");
    browser.click("main ul.results li a").await;
    browser.text("p.verdict").await;
    let heading = browser.text("h1").await;
    assert!(heading.contains("工程技术人员高级"), "{heading}");
    audit!("committee");

    // The committee whose approving authority lacked the competence is flagged; ask it a
    // coverage question; open its authority.
    browser.client.goto(&format!("{base}/committees/cmt-220300-03")).await.unwrap();
    let warning = browser.text("[role=alert]").await;
    assert!(warning.contains("超越权限"), "{warning}");
    browser.screenshot(&format!("{db}-beyond-competence")).await;
    browser.element("#series").await.select_by_value("HEALTH").await.unwrap();
    browser.element("#level").await.select_by_value("senior").await.unwrap();
    browser.click("form[action^='/committees/'] button").await;
    assert_eq!(browser.text("#coverage-answer").await, "无权评审");
    audit!("coverage");
    browser.click("a[href^='/authorities/']").await;
    browser.text("h1").await;
    audit!("authority");
    // Supervision: the sessions with their pass rates, the notices of results, and the
    // spot-check draws (made once a checkpoint is signed past their plans).
    app.checkpoint().await;
    browser.client.goto(&format!("{base}/supervision")).await.unwrap();
    assert!(browser.text("h1").await.contains("评审监管"));
    let sessions = browser.text("table.sessions tbody").await;
    assert!(sessions.contains('%'), "a session met today shows its pass rate: {sessions}");
    if zhicheng::domain::calendar::COVERED_YEARS.contains(&chrono::Datelike::year(&zhicheng::store::today())) {
        assert!(browser.text("ul.notices").await.contains("公示"), "today's results are noticed");
    }
    let draws = browser.text("ul.draws").await;
    assert!(draws.contains("随机抽查") && draws.contains("抽中"), "each seed province's draw is shown: {draws}");
    audit!("supervision");
    for (path, name) in
        [("/sanctions", "sanctions"), ("/log", "log"), ("/about", "about"), ("/errors", "errors"), ("/v", "open")]
    {
        browser.client.goto(&format!("{base}{path}")).await.unwrap();
        browser.text("h1").await;
        audit!(name);
    }
    // The check itself can fail: a picture without a text alternative is a critical violation.
    browser
        .client
        .execute("document.querySelector('main').append(document.createElement('img'))", vec![])
        .await
        .unwrap();
    let control = accessibility_violations(&browser).await;
    assert!(control.iter().any(|v| v.starts_with("image-alt")), "{control:?}");
    browser.client.goto(&format!("{base}/committees/no-such-committee")).await.unwrap();
    browser.text("h1").await;
    audit!("not-found");

    // The valid certificate by number and name; its printed report fits one A4 page.
    let subject = &example(&examples, "valid")["credentialSubject"];
    browser.client.goto(&format!("{base}/verify")).await.unwrap();
    audit!("verify");
    browser.fill("#number", subject["certificateNumber"].as_str().unwrap()).await;
    browser.fill("#name", subject["holderName"].as_str().unwrap()).await;
    browser.click("form:first-of-type button").await;
    assert_eq!(browser.text("#verdict").await, "真实有效");
    // The report's re-check code is drawn (an image that loaded).
    let drawn = "const i = document.querySelector('figure.recheck img'); return i.complete && i.naturalWidth > 0;";
    for _ in 0..50 {
        if browser.client.execute(drawn, vec![]).await.unwrap() == Value::Bool(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(browser.client.execute(drawn, vec![]).await.unwrap(), Value::Bool(true), "the re-check QR code loads");
    audit!("verified");
    let pdf = browser.client.print(fantoccini::wd::PrintConfiguration::default()).await.expect("print");
    let dir_out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::write(dir_out.join(format!("{db}-report.pdf")), &pdf).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let pages =
        pdf.windows(b"/Type /Page".len() + 1).filter(|w| w.starts_with(b"/Type /Page") && w[11] != b's').count();
    assert_eq!(pages, 1, "the verification report prints on one A4 page");
    // The print view leaves out the navigation, the forms and the buttons.
    let hidden_in_print = r#"
        for (const sheet of document.styleSheets) for (const rule of sheet.cssRules)
            if (rule.media && rule.media.mediaText === "print") return rule.cssText;
        return "";
    "#;
    let print_rules = browser.client.execute(hidden_in_print, vec![]).await.unwrap();
    let print_rules = print_rules.as_str().unwrap_or_default();
    assert!(print_rules.contains("header nav") && print_rules.contains(".actions"), "{print_rules}");

    // The forged one by file upload: the failing check in words.
    let file = dir.path().join("forged.json");
    std::fs::write(&file, example(&examples, "forged-signature").to_string()).unwrap();
    assert_eq!(browser.upload(&base, &file).await, "无效 — 可能伪造");
    let checks = browser.text("ul.checks").await;
    assert!(checks.contains("未通过 签名"), "{checks}");
    audit!("forged");

    // The valid certificate's file.
    let valid_file = dir.path().join("valid.json");
    std::fs::write(&valid_file, example(&examples, "valid").to_string()).unwrap();
    assert_eq!(browser.upload(&base, &valid_file).await, "真实有效");

    // A photo (here: the image) of the valid certificate's QR code, and opening its QR URL.
    let png = dir.path().join("valid-qr.png");
    std::fs::write(&png, zhicheng::verify::qr_image::encode_png(&url).unwrap()).unwrap();
    assert_eq!(browser.upload(&base, &png).await, "真实有效");
    browser.screenshot(&format!("{db}-qr-image")).await;
    browser.client.goto(&url).await.unwrap();
    assert_eq!(browser.text("#verdict").await, "真实有效");

    // The phone camera pointed at the certificate's QR code.
    browser.client.goto(&format!("{base}/verify")).await.unwrap();
    browser.click("#camera-start").await;
    assert_eq!(browser.text("#verdict").await, "真实有效");
    browser.screenshot(&format!("{db}-camera")).await;

    // Switch to English.
    browser.client.goto(&format!("{base}/verify")).await.unwrap();
    browser.click("a[hreflang=en]").await;
    browser.text("html[lang=en]").await;
    assert_eq!(browser.text("h1").await, "Verify a certificate");
    let lang = browser.client.find(fantoccini::Locator::Css("html")).await.unwrap().attr("lang").await.unwrap();
    assert_eq!(lang.as_deref(), Some("en"));
    audit!("english");
    browser.client.close().await.unwrap();
    drop(server);

    let failing: Vec<_> = audited.iter().filter(|(_, v)| !v.is_empty()).collect();
    assert!(failing.is_empty(), "serious or critical accessibility violations: {failing:#?}");
    assert!(audited.len() >= 14, "every page was checked");
}
