//! Stable, bilingual reason codes shared by coverage answers and (later) verification checks.

use serde::Serialize;

/// Why a check failed (or passed), for machines (`code`) and for people (Chinese and English).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    /// Stable machine-readable code, e.g. `level_not_covered`.
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
}

impl Reason {
    pub fn new(code: &str, message_zh: impl Into<String>, message_en: impl Into<String>) -> Self {
        Reason { code: code.to_string(), message_zh: message_zh.into(), message_en: message_en.into() }
    }
}
