//! The one error type. Every failure a client can see becomes an RFC 9457
//! `application/problem+json` answer with a stable code, Chinese and English text, and the
//! offending field; the cause of a 5xx is logged once here and never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A query parameter, path segment or body field is malformed or out of range.
    #[error("invalid {field}: {message_en}")]
    Invalid { field: String, code: &'static str, message_zh: String, message_en: String },
    #[error("{resource} {id} not found")]
    NotFound { resource: &'static str, id: String },
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal: {0}")]
    Internal(String),
}

/// One field-level problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldError {
    /// The parameter or field at fault, e.g. `limit` or `series`.
    pub field: String,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

/// RFC 9457 problem details, as every error is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type (documented in docs/ERRORS.md).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary, Chinese then English.
    pub title: String,
    pub status: u16,
    /// What went wrong in this instance, Chinese then English.
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl AppError {
    pub fn invalid(
        field: &str,
        code: &'static str,
        message_zh: impl Into<String>,
        message_en: impl Into<String>,
    ) -> Self {
        AppError::Invalid {
            field: field.to_string(),
            code,
            message_zh: message_zh.into(),
            message_en: message_en.into(),
        }
    }

    pub fn not_found(resource: &'static str, id: impl Into<String>) -> Self {
        AppError::NotFound { resource, id: id.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid { .. } => StatusCode::BAD_REQUEST,
            AppError::NotFound { .. } | AppError::RouteNotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Database(sqlx::Error::PoolTimedOut) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Config(_) | AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        let (code, title, detail, errors) = match self {
            AppError::Invalid { field, code, message_zh, message_en } => (
                "invalid-parameter",
                "请求参数无效 / Invalid request parameter",
                format!("{field}: {message_zh} / {message_en}"),
                vec![FieldError {
                    field: field.clone(),
                    code: code.to_string(),
                    message_zh: message_zh.clone(),
                    message_en: message_en.clone(),
                }],
            ),
            AppError::NotFound { resource, id } => (
                "not-found",
                "未找到 / Not found",
                format!("未找到{}“{id}” / no {resource} with id {id:?}", resource_zh(resource)),
                vec![FieldError {
                    field: "id".into(),
                    code: "not_found".into(),
                    message_zh: format!("不存在的{}", resource_zh(resource)),
                    message_en: format!("unknown {resource}"),
                }],
            ),
            AppError::RouteNotFound => {
                ("not-found", "未找到 / Not found", "没有这个地址 / no such path".into(), vec![])
            }
            AppError::MethodNotAllowed => (
                "method-not-allowed",
                "方法不允许 / Method not allowed",
                "该地址不支持此方法 / this path does not support this method".into(),
                vec![],
            ),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => (
                "unavailable",
                "服务暂不可用 / Service unavailable",
                "数据库繁忙，请稍后重试 / the database is busy, retry shortly".into(),
                vec![],
            ),
            _ => (
                "internal",
                "内部错误 / Internal error",
                "服务器内部错误，已记录 / an internal error occurred and was logged".into(),
                vec![],
            ),
        };
        Problem {
            type_uri: format!("/docs/errors#{code}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            code: code.into(),
            errors,
        }
    }
}

fn resource_zh(resource: &str) -> &'static str {
    match resource {
        "committee" => "评审委员会",
        "authority" => "人社部门",
        "sanction" => "惩戒记录",
        "region" => "地区",
        _ => "资源",
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // Logged once, here, with the cause; the client sees only the generic problem.
            tracing::error!(error = %self, "request failed");
        }
        problem_response(status, &self.to_problem())
    }
}

pub fn problem_response(status: StatusCode, problem: &Problem) -> Response {
    let mut response = (status, axum::Json(problem)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}
