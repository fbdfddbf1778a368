//! The pages' scripts, compiled into the binary: nothing is fetched from elsewhere at run time.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// jsQR 1.4.0 (Apache-2.0), copied unchanged from the npm registry: `assets/vendor/jsqr-1.4.0/`.
pub const JSQR_PATH: &str = "/assets/jsQR-1.4.0.js";
const JSQR: &str = include_str!("../../../assets/vendor/jsqr-1.4.0/jsQR.js");
const JSQR_LICENSE: &str = include_str!("../../../assets/vendor/jsqr-1.4.0/LICENSE");
/// The camera scanner of the verify page.
pub const SCAN_PATH: &str = "/assets/scan.js";
const SCAN: &str = include_str!("../../../assets/scan.js");

fn script(body: &'static str, cache: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, cache)], body).into_response()
}

/// A versioned file never changes: cached for a year.
pub async fn jsqr() -> Response {
    script(JSQR, "public, max-age=31536000, immutable")
}

pub async fn jsqr_license() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], JSQR_LICENSE).into_response()
}

pub async fn scan() -> Response {
    script(SCAN, "public, max-age=3600")
}
