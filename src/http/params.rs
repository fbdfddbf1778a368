//! Query parameters arrive as strings and are parsed here, one function per kind, so every
//! rejection names the parameter and says why in Chinese and English.

use axum::extract::{FromRequestParts, Query};
use axum::http::Uri;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;

use crate::domain::Date;
use crate::domain::catalog::{Catalog, Level};
use crate::domain::code::Code;
use crate::http::problem::AppError;

/// `Query<T>` whose rejection is a problem+json 400 instead of plain text.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        from_uri(&parts.uri).map(Params)
    }
}

/// The query string of `uri`, parsed. axum's `Query` tracks the failing field's path at a cost
/// to every request; only a query that fails needs it, so it reads the query a second time.
pub fn from_uri<T: DeserializeOwned>(uri: &Uri) -> Result<T, AppError> {
    serde_urlencoded::from_str(uri.query().unwrap_or_default()).or_else(|e: serde_urlencoded::de::Error| {
        // Every parameter struct refuses names it does not know: a misspelt filter must not
        // silently widen the answer.
        if let Some(name) = unknown_parameter(&e.to_string()) {
            return Err(AppError::invalid(
                &name,
                "unknown_parameter",
                format!("不支持的查询参数“{name}”"),
                format!("unknown query parameter {name:?}"),
            ));
        }
        match Query::<T>::try_from_uri(uri) {
            Ok(Query(v)) => Ok(v),
            Err(e) => Err(AppError::invalid("query", "malformed_query", "查询字符串无法解析", e.body_text())),
        }
    })
}

/// The parameter name in serde's "unknown field `name`, expected …".
fn unknown_parameter(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

pub const MAX_LIMIT: u32 = 500;
pub const DEFAULT_LIMIT: u32 = 50;

/// Non-empty after trimming, or absent.
/// A parameter's value as sent: a typed parameter that is present but empty or padded is
/// refused by its own check, not read as absent, so the documented schema is the contract.
pub fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref()
}

pub fn required<'a>(field: &str, value: &'a Option<String>) -> Result<&'a str, AppError> {
    text(value).ok_or_else(|| AppError::invalid(field, "required", "缺少必填参数", "this parameter is required"))
}

pub fn date(field: &str, value: &str) -> Result<Date, AppError> {
    Date::parse_from_str(value, "%Y-%m-%d").ok().filter(|_| value.len() == 10).ok_or_else(|| {
        AppError::invalid(
            field,
            "invalid_date",
            format!("日期“{value}”格式应为 YYYY-MM-DD"),
            format!("{value:?} is not a date of the form YYYY-MM-DD"),
        )
    })
}

pub fn optional_date(field: &str, value: &Option<String>) -> Result<Option<Date>, AppError> {
    text(value).map(|v| date(field, v)).transpose()
}

pub fn series(field: &str, value: &str) -> Result<String, AppError> {
    Catalog::get().series_by_code(value).map(|s| s.code.clone()).ok_or_else(|| {
        AppError::invalid(
            field,
            "unknown_series",
            format!("未知的职称系列代码“{value}”（见 /api/v1/catalog/series）"),
            format!("unknown series code {value:?} (see /api/v1/catalog/series)"),
        )
    })
}

pub fn level(field: &str, value: &str) -> Result<Level, AppError> {
    Level::parse(value).ok_or_else(|| {
        AppError::invalid(
            field,
            "unknown_level",
            format!("未知的级别“{value}”，应为 junior_assistant、junior、intermediate、associate_senior 或 senior"),
            format!(
                "unknown level {value:?}; expected junior_assistant, junior, intermediate, associate_senior or senior"
            ),
        )
    })
}

pub fn region(field: &str, value: &str) -> Result<String, AppError> {
    if value.len() != 6 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::invalid(
            field,
            "invalid_region",
            format!("地区代码“{value}”应为6位 GB/T 2260 代码"),
            format!("region {value:?} is not a 6-digit GB/T 2260 code"),
        ));
    }
    Catalog::get().region(value).map(|r| r.code.clone()).ok_or_else(|| {
        AppError::invalid(
            field,
            "unknown_region",
            format!("未知的地区代码“{value}”"),
            format!("unknown GB/T 2260 region code {value:?}"),
        )
    })
}

pub fn boolean(field: &str, value: &Option<String>) -> Result<bool, AppError> {
    match text(value) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(AppError::invalid(
            field,
            "invalid_boolean",
            format!("“{other}”应为 true 或 false"),
            format!("{other:?} is not true or false"),
        )),
    }
}

pub fn limit(value: &Option<String>) -> Result<u32, AppError> {
    let Some(raw) = text(value) else { return Ok(DEFAULT_LIMIT) };
    match raw.parse::<u32>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(AppError::invalid(
            "limit",
            "out_of_range",
            format!("limit 应为 1 到 {MAX_LIMIT} 之间的整数（收到“{raw}”）"),
            format!("limit must be a whole number from 1 to {MAX_LIMIT} (got {raw:?})"),
        )),
    }
}

const CURSOR_PREFIX: &str = "v1:";

/// Cursors are opaque to clients: a versioned, base64url-encoded position.
pub fn encode_cursor(last_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{last_id}"))
}

pub fn cursor(value: &Option<String>) -> Result<Option<String>, AppError> {
    let Some(raw) = text(value) else { return Ok(None) };
    URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|s| s.strip_prefix(CURSOR_PREFIX).map(str::to_string))
        .filter(|id| !id.is_empty())
        .map(Some)
        .ok_or_else(|| {
            AppError::invalid(
                "cursor",
                "invalid_cursor",
                "分页游标无效，请使用上一页返回的 meta.next_cursor",
                "malformed cursor; pass meta.next_cursor from the previous page",
            )
        })
}

/// A position in the transparency log: a non-negative whole number. Log positions are i64 in
/// storage, so a larger number is out of range, not a wrap.
pub fn log_index(field: &str, value: &Option<String>) -> Result<Option<u64>, AppError> {
    let Some(raw) = text(value) else { return Ok(None) };
    raw.parse::<i64>().ok().and_then(|n| u64::try_from(n).ok()).map(Some).ok_or_else(|| {
        AppError::invalid(
            field,
            "invalid_number",
            format!("{field} 应为非负整数（收到“{raw}”）"),
            format!("{field} must be a non-negative whole number (got {raw:?})"),
        )
    })
}

/// A committee status by its code.
pub fn committee_status(field: &str, value: &str) -> Result<crate::domain::committee::CommitteeStatus, AppError> {
    use crate::domain::code::Code;
    crate::domain::committee::CommitteeStatus::parse(value).ok_or_else(|| {
        AppError::invalid(
            field,
            "unknown_status",
            format!("未知的状态“{value}”"),
            format!("unknown status {value:?}; expected authorized, grantor_lacked_competence, pending, expired, suspended, withdrawn or unauthorized"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let c = encode_cursor("cmt_01");
        assert_eq!(cursor(&Some(c)).unwrap().as_deref(), Some("cmt_01"));
        for bad in ["%%%", "djE6", "bm90LWEtY3Vyc29y"] {
            assert!(cursor(&Some(bad.into())).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_and_dates_are_checked() {
        assert_eq!(limit(&None).unwrap(), DEFAULT_LIMIT);
        assert!(limit(&Some("100000".into())).is_err());
        assert!(limit(&Some("0".into())).is_err());
        assert!(date("on", "2023-02-30").is_err());
        assert!(date("on", "2023-2-3").is_err());
        assert!(date("on", "2023-02-03").is_ok());
    }
}
