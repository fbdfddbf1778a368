//! Extractors for writes: the bearer credential, and JSON bodies whose errors name the
//! field (via serde_path_to_error) as problem+json.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::domain::publish::Actor;
use crate::http::problem::AppError;
use crate::http::state::AppState;
use crate::publish::json::JsonError;
use crate::store::{Idempotency, TokenCheck};

/// Largest request body accepted anywhere (bulk endpoints set their own).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The authenticated actor behind an admin request (`Authorization: Bearer zct_…`).
pub struct Authenticated(pub Actor);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(super::rate_limit::Identified(actor)) = parts.extensions.get() {
            return Ok(Authenticated(actor.clone()));
        }
        let header = parts.headers.get(header::AUTHORIZATION).ok_or(AppError::Unauthenticated {
            code: "missing_token",
            message_zh: "缺少 Authorization: Bearer 凭证",
            message_en: "missing Authorization: Bearer token",
        })?;
        let secret = super::rate_limit::bearer_secret(header).ok_or(AppError::Unauthenticated {
            code: "malformed_authorization",
            message_zh: "Authorization 头应为 “Bearer <token>”",
            message_en: "the Authorization header must be \"Bearer <token>\"",
        })?;
        match state.store.authenticate(secret).await? {
            TokenCheck::Valid(actor) => Ok(Authenticated(actor)),
            TokenCheck::Revoked => Err(AppError::Unauthenticated {
                code: "token_revoked",
                message_zh: "该凭证已被吊销",
                message_en: "this token has been revoked",
            }),
            TokenCheck::Unknown => Err(AppError::Unauthenticated {
                code: "invalid_token",
                message_zh: "凭证无效",
                message_en: "invalid token",
            }),
        }
    }
}

/// Path parameters; a segment that cannot be read is a problem+json 400 (axum's own
/// rejection is plain text).
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => {
                tracing::debug!(error = %rejection, "path rejected");
                Err(AppError::invalid(
                    "path",
                    "invalid_path",
                    "地址中的参数无法读取（须为有效的 UTF-8 且符合格式）",
                    "a parameter in the path cannot be read (it must be valid UTF-8 of the expected form)",
                ))
            }
        }
    }
}

/// A JSON body of at most `LIMIT` bytes. Syntax errors are 400 with line and column; type and
/// field errors are 422 naming the field path (`scope.regions[0]`); a wrong content type is 415;
/// too large, 413 naming `LIMIT`. A route with a larger or smaller limit sets the same number
/// on its `DefaultBodyLimit`.
pub struct JsonBody<T, const LIMIT: usize = MAX_BODY_BYTES> {
    pub value: T,
    /// SHA-256 of the raw body, for idempotency.
    pub digest: String,
}

/// A raw body of at most `LIMIT` bytes (bulk files); too large is a problem+json 413.
pub struct RawBody<const LIMIT: usize>(pub Bytes);

impl<S: Send + Sync, const LIMIT: usize> FromRequest<S> for RawBody<LIMIT> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, AppError> {
        read_body(req, LIMIT).await.map(RawBody)
    }
}

/// The body, refused with 413 beyond `limit` bytes (whatever the route's `DefaultBodyLimit`).
async fn read_body(req: Request, limit: usize) -> Result<Bytes, AppError> {
    axum::body::to_bytes(req.into_body(), limit).await.map_err(|e| {
        tracing::debug!(error = %e, "request body rejected");
        AppError::PayloadTooLarge { limit }
    })
}

impl<S: Send + Sync, T: DeserializeOwned, const LIMIT: usize> FromRequest<S> for JsonBody<T, LIMIT> {
    type Rejection = AppError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, AppError> {
        let content_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        if !content_type.starts_with("application/json") {
            return Err(AppError::UnsupportedMediaType(if content_type.is_empty() {
                "(none)".into()
            } else {
                content_type
            }));
        }
        let bytes = read_body(req, LIMIT).await?;
        let value = parse_json(&bytes)?;
        Ok(JsonBody { value, digest: hex::encode(Sha256::digest(&bytes)) })
    }
}

/// Parses a request body, naming the failing field path: malformed JSON is a 400, a bad
/// field a 422.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    crate::publish::json::parse_json(bytes).map_err(|e| {
        let violation = e.violation();
        match e {
            JsonError::Malformed { .. } => AppError::Invalid {
                field: violation.field,
                code: "malformed_json",
                message_zh: violation.message_zh,
                message_en: violation.message_en,
            },
            JsonError::Field { .. } => AppError::Rule(violation),
        }
    })
}

/// The optional `Idempotency-Key` header, bound to the request it came with.
pub fn idempotency(
    parts: &axum::http::HeaderMap,
    method_and_path: &str,
    body_digest: &str,
) -> Result<Option<Idempotency>, AppError> {
    let Some(value) = parts.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 255).ok_or_else(|| {
        AppError::invalid(
            "Idempotency-Key",
            "invalid_idempotency_key",
            "Idempotency-Key 应为1到255个可见字符",
            "Idempotency-Key must be 1 to 255 visible characters",
        )
    })?;
    let request = hex::encode(Sha256::digest(format!("{method_and_path}\n{body_digest}").as_bytes()));
    Ok(Some(Idempotency { key: key.to_string(), request_sha256: request }))
}
