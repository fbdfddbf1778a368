//! Events as transparency-log entries. Every event is a leaf: the RFC 8785 (JCS) bytes of the
//! object `entry` builds. Each event names the index of the previous event about the same
//! entity (`prev`), so a reader shown an entity's history can check it is complete. Personal
//! data never enters a leaf: names and summaries of sanctioned individuals are replaced by salted
//! commitments, and the salts (kept outside the log) can be erased without breaking any proof.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::Date;
use super::sanction::SubjectKind;
use crate::crypto::{jcs, sha256};

/// One event: who published what, when it was logged, when it takes effect.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// Position in the registry's event sequence: the event's leaf index in the log.
    pub seq: i64,
    /// e.g. `authorization.withdrawn`.
    pub kind: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The index of the previous event about the same entity, if any.
    pub prev: Option<i64>,
    /// The publishing authority.
    pub authority_id: String,
    /// The credential used: `token:<id>`, `cli`, `demo` or `fixture`.
    pub credential: String,
    pub logged_at: DateTime<Utc>,
    pub effective_on: Option<Date>,
    /// The act took effect before the day it was published.
    pub back_dated: bool,
    /// The operation as published, personal data replaced by commitments.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
}

/// Timestamps in entries (and in the database) have microsecond precision: what PostgreSQL
/// keeps, so an entry rebuilt from either database is byte for byte the one first hashed.
pub fn log_time(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

impl Event {
    /// The leaf entry: JCS of the event.
    pub fn entry(&self) -> Vec<u8> {
        jcs(&serde_json::json!({
            "index": self.seq,
            "kind": self.kind,
            "entity": { "type": self.entity_type, "id": self.entity_id },
            "prev": self.prev,
            "authority": self.authority_id,
            "credential": self.credential,
            "logged_at": self.logged_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            "effective_on": self.effective_on,
            "back_dated": self.back_dated,
            "payload": self.payload,
        }))
    }
}

/// Who is a person: their names are personal data.
pub fn is_individual(kind: SubjectKind) -> bool {
    matches!(kind, SubjectKind::Applicant | SubjectKind::Expert | SubjectKind::Staff)
}

/// The salt and value behind one commitment in an entry's payload, at a JSON Pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Disclosure {
    /// JSON Pointer into the payload, e.g. `/operation/subject/name`.
    pub path: String,
    /// 16 random bytes, base64.
    pub salt: String,
    pub value: String,
}

/// `{"salted_sha256": base64(SHA-256(salt ‖ UTF-8 value))}`.
pub fn commitment(salt: &[u8], value: &str) -> serde_json::Value {
    let digest = sha256(&[salt, value.as_bytes()].concat());
    serde_json::json!({ "salted_sha256": STANDARD.encode(digest) })
}

/// Replaces the personal data in a payload by commitments: the name and summary of every
/// sanction subject that is a person. Returns what was replaced.
pub fn redact(payload: &mut serde_json::Value, salt: &mut impl FnMut() -> [u8; 16]) -> Vec<Disclosure> {
    let mut out = Vec::new();
    redact_at(payload, String::new(), salt, &mut out);
    out
}

fn redact_at(
    value: &mut serde_json::Value,
    path: String,
    salt: &mut impl FnMut() -> [u8; 16],
    out: &mut Vec<Disclosure>,
) {
    let individual = value
        .pointer("/subject/kind")
        .and_then(|k| serde_json::from_value::<SubjectKind>(k.clone()).ok())
        .is_some_and(is_individual);
    if individual {
        for field in ["/subject/name", "/summary"] {
            if let Some(slot) = value.pointer_mut(field)
                && let Some(text) = slot.as_str().map(str::to_string)
            {
                let s = salt();
                *slot = commitment(&s, &text);
                out.push(Disclosure { path: format!("{path}{field}"), salt: STANDARD.encode(s), value: text });
            }
        }
        return;
    }
    if let serde_json::Value::Object(map) = value {
        for (key, child) in map.iter_mut() {
            redact_at(child, format!("{path}/{}", key.replace('~', "~0").replace('/', "~1")), salt, out);
        }
    }
}

/// Whether a disclosure opens the commitment at its path in `payload`.
pub fn discloses(payload: &serde_json::Value, d: &Disclosure) -> bool {
    let Ok(salt) = STANDARD.decode(&d.salt) else { return false };
    payload.pointer(&d.path) == Some(&commitment(&salt, &d.value))
}

/// Checks an entry read back from the log: it is an event object at its own index, linked to
/// the previous entry about the same entity. `heads` is updated as entries are read in order.
pub fn check_entry(
    entry: &[u8],
    index: u64,
    heads: &mut std::collections::HashMap<(String, String), u64>,
) -> Result<(), String> {
    let v: serde_json::Value = serde_json::from_slice(entry).map_err(|e| format!("entry {index} is not JSON: {e}"))?;
    if crate::crypto::jcs(&v) != entry {
        return Err(format!("entry {index} is not in canonical (JCS) form"));
    }
    if v["index"].as_u64() != Some(index) {
        return Err(format!("entry {index} claims index {}", v["index"]));
    }
    let (Some(t), Some(id)) = (v["entity"]["type"].as_str(), v["entity"]["id"].as_str()) else {
        return Err(format!("entry {index} names no entity"));
    };
    let prev = heads.insert((t.to_string(), id.to_string()), index);
    if v["prev"].as_u64() != prev {
        return Err(format!(
            "entry {index} ({t} {id}) names previous event {}, but the previous event about it is {}",
            v["prev"],
            prev.map_or("none".to_string(), |p| p.to_string())
        ));
    }
    Ok(())
}

/// How long after its effective date an act may be logged before the public API calls it
/// back-dated: a month covers the post and the paperwork of an honest publication.
pub const LATE_AFTER_DAYS: i64 = 30;

/// Whether an act effective on `effective_on` and logged at `logged_at` was logged late
/// (dates in Beijing time).
pub fn logged_late(effective_on: Date, logged_at: DateTime<Utc>) -> bool {
    let logged_on = super::china_date(logged_at);
    (logged_on - effective_on).num_days() > LATE_AFTER_DAYS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sanction_payload(kind: &str) -> serde_json::Value {
        serde_json::json!({
            "id": "s1",
            "operation": {
                "op": "publish_sanction",
                "subject": { "kind": kind, "name": "张三" },
                "summary": "张三 伪造论文",
                "measure": "dishonesty_record"
            }
        })
    }

    #[test]
    fn names_of_people_become_commitments_that_their_salts_open() {
        let mut payload = sanction_payload("applicant");
        let mut n = 0u8;
        let disclosures = redact(&mut payload, &mut || {
            n += 1;
            [n; 16]
        });
        let text = payload.to_string();
        assert!(!text.contains("张三"), "{text}");
        assert_eq!(disclosures.len(), 2);
        assert_eq!(disclosures[0].path, "/operation/subject/name");
        assert_eq!(disclosures[1].path, "/operation/summary");
        for d in &disclosures {
            assert!(discloses(&payload, d));
            let mut wrong = d.clone();
            wrong.value.push('x');
            assert!(!discloses(&payload, &wrong));
        }
        assert_eq!(payload["operation"]["measure"], "dishonesty_record");
    }

    #[test]
    fn organisations_stay_in_the_clear() {
        for kind in ["committee", "intermediary", "website", "organizing_unit"] {
            let mut payload = sanction_payload(kind);
            let before = payload.clone();
            assert!(redact(&mut payload, &mut || [0; 16]).is_empty());
            assert_eq!(payload, before);
        }
    }

    #[test]
    fn entries_are_canonical_and_cover_every_field() {
        let e = Event {
            seq: 7,
            kind: "sanction.published".into(),
            entity_type: "sanction".into(),
            entity_id: "s1".into(),
            prev: Some(3),
            authority_id: "a".into(),
            credential: "token:t".into(),
            logged_at: "2026-11-22T08:00:00.123456789Z".parse().unwrap(),
            effective_on: Some(Date::from_ymd_opt(2026, 1, 2).unwrap()),
            back_dated: true,
            payload: serde_json::json!({"b": 1, "a": "职称"}),
        };
        let entry = String::from_utf8(e.entry()).unwrap();
        assert!(entry.starts_with(r#"{"authority":"a","back_dated":true,"credential":"token:t","effective_on":"2026-01-02","entity":{"id":"s1","type":"sanction"},"index":7,"kind":"sanction.published","logged_at":"2026-11-22T08:00:00.123456Z","payload":{"a":"职称","b":1},"prev":3}"#), "{entry}");
        let mut changed = e.clone();
        changed.prev = None;
        assert_ne!(changed.entry(), e.entry());
    }

    #[test]
    fn late_logging_is_measured_in_beijing_days() {
        let on = Date::from_ymd_opt(2026, 1, 1).unwrap();
        assert!(!logged_late(on, "2026-01-31T15:59:59Z".parse().unwrap()));
        assert!(logged_late(on, "2026-01-31T16:00:00Z".parse().unwrap()));
    }
}
