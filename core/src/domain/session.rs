//! Evaluation sessions (评审会议): registered before they meet, checked against the committee's
//! authorization on the meeting date, and their outcome published afterwards (the Guangxi
//! record form: 申报人数, 通过人数, 通过率 split 体制内/企业, 复核存在问题人数, the discipline
//! checklist). The rules are pure: the write path calls them with the loaded state.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Date;
use super::authority::AuthorityGraph;
use super::catalog::Level;
use super::certificate::TitleSubject;
use super::committee::CommitteeRecord;
use super::coverage::{CoverageQuery, coverage};
use super::violation::{Checked, Violation, ViolationKind};

/// The most applicants one session may declare: far above any real session, low enough that a
/// typo (an extra zero or three) is caught.
pub const MAX_APPLICANTS: u32 = 20_000;
/// The most checklist items an outcome may answer, and the longest item code.
pub const MAX_CHECKLIST_ITEMS: usize = 64;
const MAX_ITEM_CODE: usize = 64;

/// A session as registered: what the committee will evaluate, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    /// Optional stable id.
    #[serde(default)]
    pub id: Option<String>,
    pub committee_id: String,
    /// A series code (`/api/v1/catalog/series`).
    pub series: String,
    #[serde(default)]
    pub specialty: Option<String>,
    /// The levels evaluated; each must be authorized on `meets_on`.
    pub levels: Vec<Level>,
    /// The meeting date: today or later (a session is registered before it meets).
    pub meets_on: Date,
    /// 申报人数 as registered.
    pub applicants: u32,
    /// A pass rate (0–1) above which the outcome is flagged for review, as the supervising
    /// authority sets it for this session.
    #[serde(default)]
    pub pass_rate_cap: Option<f64>,
}

/// Applicants and passes in one group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Tally {
    pub applicants: u32,
    pub passed: u32,
}

/// The outcome of a session that met, as its organizing unit and supervisor sign it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionOutcomeSubmission {
    /// The session. In a bulk file, required; on a path endpoint the path gives it.
    #[serde(default)]
    pub session_id: String,
    /// 体制内 (public institutions).
    pub public_sector: Tally,
    /// 企业 (enterprises and other non-public employers).
    pub enterprise: Tally,
    /// 复核存在问题人数: applicants whose material was found wanting on review.
    pub review_problems: u32,
    /// The discipline checklist's answers by item code (e.g. `recusal_applied`): `true` where
    /// the rule was kept.
    #[serde(default)]
    pub checklist: BTreeMap<String, bool>,
}

/// A registered session and, once it met, its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvaluationSession {
    pub id: String,
    pub committee_id: String,
    pub series: String,
    pub specialty: Option<String>,
    pub levels: Vec<Level>,
    pub meets_on: Date,
    pub applicants: u32,
    pub pass_rate_cap: Option<f64>,
    /// The authority that registered it.
    pub registered_by: String,
    /// When the registration entered the log: before `meets_on`.
    pub logged_at: DateTime<Utc>,
    pub outcome: Option<SessionOutcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionOutcome {
    pub public_sector: Tally,
    pub enterprise: Tally,
    pub review_problems: u32,
    pub checklist: BTreeMap<String, bool>,
    pub logged_at: DateTime<Utc>,
}

impl SessionOutcome {
    pub fn total(&self) -> Tally {
        Tally {
            applicants: self.public_sector.applicants + self.enterprise.applicants,
            passed: self.public_sector.passed + self.enterprise.passed,
        }
    }
}

impl Tally {
    /// 通过率; `None` without applicants.
    pub fn pass_rate(&self) -> Option<f64> {
        (self.applicants > 0).then(|| f64::from(self.passed) / f64::from(self.applicants))
    }
}

impl EvaluationSession {
    /// The outcome's pass rate is above the cap set for the session.
    pub fn pass_rate_flagged(&self) -> bool {
        let rate = self.outcome.as_ref().and_then(|o| o.total().pass_rate());
        matches!((rate, self.pass_rate_cap), (Some(rate), Some(cap)) if rate > cap)
    }
}

/// Evaluations from this date on must rest on a registered session (the first evaluation year
/// after session registration opened; docs/DECISIONS.md). A certificate that names a session
/// is checked whatever its date.
pub fn required_from() -> Date {
    Date::from_ymd_opt(2027, 1, 1).expect("a valid date")
}

/// Whether a certificate's evaluation must rest on a registered session.
pub fn needed(subject: &TitleSubject) -> bool {
    subject.evaluation_session.is_some() || subject.evaluation_date >= required_from()
}

/// The session a certificate rests on among `sessions`: the one it names, else one of its
/// committee's on its evaluation date, preferring one that covers its series and level.
pub fn find_for<'a>(
    sessions: impl IntoIterator<Item = &'a EvaluationSession>,
    subject: &TitleSubject,
) -> Option<&'a EvaluationSession> {
    let mut same_day = None;
    for s in sessions {
        if let Some(named) = &subject.evaluation_session {
            if s.id == *named {
                return Some(s);
            }
        } else if s.committee_id == subject.committee_id && s.meets_on == subject.evaluation_date {
            if mismatch(s, subject).is_none() {
                return Some(s);
            }
            same_day.get_or_insert(s);
        }
    }
    same_day
}

/// Why `session` cannot be the one the certificate was evaluated in: (code, Chinese, English).
pub fn mismatch(session: &EvaluationSession, subject: &TitleSubject) -> Option<(&'static str, String, String)> {
    let differs = |zh: &str, en: &str| {
        Some((
            "session_mismatch",
            format!("评审会议 {} 与证书不符：{zh}", session.id),
            format!("evaluation session {} does not match the certificate: {en}", session.id),
        ))
    };
    if session.committee_id != subject.committee_id {
        return differs("评委会不同", "another committee's");
    }
    if session.meets_on != subject.evaluation_date {
        return differs(&format!("会议日期为 {}", session.meets_on), &format!("it met on {}", session.meets_on));
    }
    if session.series != subject.series || !session.levels.contains(&subject.level) {
        return differs("未评审该系列或级别", "it did not evaluate this series or level");
    }
    let registered_on = super::china_date(session.logged_at);
    if registered_on > session.meets_on {
        return Some((
            "session_registered_late",
            format!("评审会议 {} 于 {registered_on} 才登记，晚于会议日期", session.id),
            format!("evaluation session {} was registered on {registered_on}, after it met", session.id),
        ));
    }
    None
}

/// A registration's own consistency, and that it comes before the meeting.
fn check_registration_terms(s: &NewSession, today: Date) -> Checked<()> {
    if s.meets_on < today {
        return Err(Violation::invalid(
            "session_in_the_past",
            "meets_on",
            format!("评审会议应在召开前登记：{} 已过", s.meets_on),
            format!("a session is registered before it meets: {} has passed", s.meets_on),
        ));
    }
    if s.levels.is_empty() {
        return Err(Violation::invalid("required", "levels", "请至少填写一个评审级别", "name at least one level"));
    }
    if s.applicants == 0 || s.applicants > MAX_APPLICANTS {
        return Err(Violation::invalid(
            "out_of_range",
            "applicants",
            format!("申报人数应在 1 至 {MAX_APPLICANTS} 之间"),
            format!("applicants must be between 1 and {MAX_APPLICANTS}"),
        ));
    }
    if let Some(cap) = s.pass_rate_cap
        && !(0.0..=1.0).contains(&cap)
    {
        return Err(Violation::invalid(
            "out_of_range",
            "pass_rate_cap",
            "通过率上限应在 0 至 1 之间",
            "pass_rate_cap must be between 0 and 1",
        ));
    }
    Ok(())
}

/// A session may be registered only for what the committee is authorized to evaluate on the
/// meeting date (series, specialty, every level), and not while a sanction stops it.
pub fn check_registration(
    record: &CommitteeRecord,
    graph: &AuthorityGraph,
    s: &NewSession,
    today: Date,
) -> Checked<()> {
    check_registration_terms(s, today)?;
    for (i, level) in s.levels.iter().enumerate() {
        let query = CoverageQuery {
            series: &s.series,
            specialty: s.specialty.as_deref(),
            level: *level,
            region: None,
            own_staff: true,
            on: s.meets_on,
        };
        let answer = coverage(record, graph, &query);
        if let Some(reason) = answer.reasons.first() {
            return Err(Violation::new(
                ViolationKind::Conflict,
                "session_not_authorized",
                &format!("levels[{i}]"),
                format!("评委会在 {} 无权评审该{}：{}", s.meets_on, level.name_zh(), reason.message_zh),
                format!("on {} the committee may not evaluate this level: {}", s.meets_on, reason.message_en),
            ));
        }
    }
    Ok(())
}

/// An outcome is published once, after the session met, with counts that add up.
pub fn check_outcome(session: &EvaluationSession, o: &SessionOutcomeSubmission, today: Date) -> Checked<()> {
    if session.outcome.is_some() {
        return Err(Violation::conflict(
            "outcome_exists",
            "session_id",
            "该评审会议的结果已公布，不可重复公布",
            "this session's outcome was already published",
        ));
    }
    if today < session.meets_on {
        return Err(Violation::invalid(
            "session_not_met",
            "session_id",
            format!("评审会议 {} 才召开，尚无结果", session.meets_on),
            format!("the session meets on {}: there is no outcome yet", session.meets_on),
        ));
    }
    for (field, tally) in [("public_sector", o.public_sector), ("enterprise", o.enterprise)] {
        if tally.passed > tally.applicants {
            return Err(Violation::invalid(
                "passed_exceeds_applicants",
                &format!("{field}.passed"),
                "通过人数不能多于申报人数",
                "more passed than applied",
            ));
        }
    }
    let applicants = o.public_sector.applicants + o.enterprise.applicants;
    if applicants == 0 || applicants > MAX_APPLICANTS || o.review_problems > applicants {
        return Err(Violation::invalid(
            "out_of_range",
            "review_problems",
            format!("申报人数应在 1 至 {MAX_APPLICANTS} 之间，复核存在问题人数不能多于申报人数"),
            format!("applicants must be 1 to {MAX_APPLICANTS}, and review problems at most the applicants"),
        ));
    }
    if o.checklist.len() > MAX_CHECKLIST_ITEMS {
        return Err(Violation::invalid(
            "too_many_items",
            "checklist",
            format!("检查项最多 {MAX_CHECKLIST_ITEMS} 项"),
            format!("at most {MAX_CHECKLIST_ITEMS} checklist items"),
        ));
    }
    if let Some(item) = o.checklist.keys().find(|k| !is_item_code(k)) {
        return Err(Violation::invalid(
            "invalid_item_code",
            "checklist",
            format!("检查项代码“{item}”无效：应为小写字母、数字和下划线"),
            format!("checklist item {item:?} is not a code of lower-case letters, digits and underscores"),
        ));
    }
    Ok(())
}

fn is_item_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_ITEM_CODE
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::authorization::tests::{d, jilin_graph, record, terms};
    use crate::domain::authorization::{Action, Authorization};

    fn committee_record() -> CommitteeRecord {
        let grant = terms(&[Level::Intermediate], "2025-01-01", "2027-12-31");
        CommitteeRecord {
            committee: crate::domain::committee::tests::committee(),
            authorizations: vec![Authorization {
                id: "a".into(),
                committee_id: "c".into(),
                granted_by: "jilin".into(),
                document_number: "吉人社函〔2025〕1号".into(),
                history: vec![record(Action::Granted, "2025-01-01", Some(grant))],
            }],
            sanctions: vec![],
        }
    }

    fn session(levels: &[Level], meets_on: &str) -> NewSession {
        NewSession {
            id: None,
            committee_id: "c".into(),
            series: "ENGINEERING".into(),
            specialty: None,
            levels: levels.to_vec(),
            meets_on: d(meets_on),
            applicants: 120,
            pass_rate_cap: Some(0.8),
        }
    }

    #[test]
    fn a_session_inside_the_authorization_is_accepted() {
        let s = session(&[Level::Intermediate], "2026-12-20");
        assert_eq!(check_registration(&committee_record(), &jilin_graph(), &s, d("2026-12-03")), Ok(()));
    }

    #[test]
    fn a_session_beyond_the_authorization_is_refused() {
        let graph = jilin_graph();
        let beyond_level = session(&[Level::Intermediate, Level::AssociateSenior], "2026-12-20");
        let refused = check_registration(&committee_record(), &graph, &beyond_level, d("2026-12-03")).unwrap_err();
        assert_eq!((refused.code.as_str(), refused.field.as_str()), ("session_not_authorized", "levels[1]"));
        let after_expiry = session(&[Level::Intermediate], "2028-03-01");
        let refused = check_registration(&committee_record(), &graph, &after_expiry, d("2026-12-03")).unwrap_err();
        assert_eq!(refused.code, "session_not_authorized");
        let mut other_series = session(&[Level::Intermediate], "2026-12-20");
        other_series.series = "HEALTH".into();
        assert!(check_registration(&committee_record(), &graph, &other_series, d("2026-12-03")).is_err());
    }

    #[test]
    fn a_session_is_registered_before_it_meets() {
        let s = session(&[Level::Intermediate], "2026-12-01");
        let refused = check_registration(&committee_record(), &jilin_graph(), &s, d("2026-12-03")).unwrap_err();
        assert_eq!(refused.code, "session_in_the_past");
    }

    fn registered(meets_on: &str) -> EvaluationSession {
        let s = session(&[Level::Intermediate], meets_on);
        EvaluationSession {
            id: "s".into(),
            committee_id: s.committee_id,
            series: s.series,
            specialty: None,
            levels: s.levels,
            meets_on: s.meets_on,
            applicants: s.applicants,
            pass_rate_cap: s.pass_rate_cap,
            registered_by: "jilin".into(),
            logged_at: Utc::now(),
            outcome: None,
        }
    }

    fn outcome(public: (u32, u32), enterprise: (u32, u32)) -> SessionOutcomeSubmission {
        SessionOutcomeSubmission {
            session_id: "s".into(),
            public_sector: Tally { applicants: public.0, passed: public.1 },
            enterprise: Tally { applicants: enterprise.0, passed: enterprise.1 },
            review_problems: 2,
            checklist: BTreeMap::from([("recusal_applied".into(), true), ("secret_ballot".into(), true)]),
        }
    }

    #[test]
    fn an_outcome_comes_after_the_meeting_once_and_adds_up() {
        let s = registered("2026-12-20");
        let good = outcome((80, 50), (40, 30));
        assert_eq!(check_outcome(&s, &good, d("2026-12-21")), Ok(()));
        assert_eq!(check_outcome(&s, &good, d("2026-12-19")).unwrap_err().code, "session_not_met");
        let refused = check_outcome(&s, &outcome((10, 11), (0, 0)), d("2026-12-21")).unwrap_err();
        assert_eq!(
            (refused.code.as_str(), refused.field.as_str()),
            ("passed_exceeds_applicants", "public_sector.passed")
        );
        let mut bad_item = good.clone();
        bad_item.checklist.insert("回避".into(), true);
        assert_eq!(check_outcome(&s, &bad_item, d("2026-12-21")).unwrap_err().code, "invalid_item_code");
    }

    fn subject(evaluated: &str, named: Option<&str>) -> TitleSubject {
        serde_json::from_value(serde_json::json!({
            "type": "ProfessionalTitle", "formatVersion": 1, "certificateNumber": "N", "holderName": "张三",
            "series": "ENGINEERING", "level": "intermediate", "titleName": "工程师", "obtainedBy": "evaluation",
            "committeeId": "c", "committeeName": "评委会", "evaluationDate": evaluated, "evaluationSession": named,
            "approvalDocument": "文号", "applicantRegion": "220102"
        }))
        .unwrap()
    }

    #[test]
    fn evaluations_from_the_required_date_rest_on_a_session_of_that_day() {
        assert!(!needed(&subject("2026-12-20", None)), "before the requirement, unless one is named");
        assert!(needed(&subject("2026-12-20", Some("s"))));
        assert!(needed(&subject("2027-01-15", None)));
        let mut other_level = registered("2027-01-15");
        other_level.id = "other-level".into();
        other_level.levels = vec![Level::Senior];
        let mut right = registered("2027-01-15");
        right.id = "right".into();
        right.logged_at = "2027-01-02T00:00:00Z".parse().unwrap();
        let other_day = registered("2027-01-16");
        let sessions = [other_day, other_level, right];
        let found = find_for(&sessions, &subject("2027-01-15", None)).unwrap();
        assert_eq!(found.id, "right", "the one of that day covering the series and level");
        assert_eq!(mismatch(found, &subject("2027-01-15", None)), None);
        assert!(find_for(&sessions[..1], &subject("2027-01-15", None)).is_none(), "none that day");
        let late = EvaluationSession { logged_at: "2027-01-16T00:00:00Z".parse().unwrap(), ..found.clone() };
        assert_eq!(mismatch(&late, &subject("2027-01-15", None)).unwrap().0, "session_registered_late");
    }

    #[test]
    fn a_pass_rate_above_the_cap_is_flagged() {
        let mut s = registered("2026-12-20");
        let record = |o: &SessionOutcomeSubmission| SessionOutcome {
            public_sector: o.public_sector,
            enterprise: o.enterprise,
            review_problems: o.review_problems,
            checklist: o.checklist.clone(),
            logged_at: Utc::now(),
        };
        s.outcome = Some(record(&outcome((80, 50), (40, 30))));
        assert!(!s.pass_rate_flagged(), "80 of 120 is under the 0.8 cap");
        s.outcome = Some(record(&outcome((80, 75), (40, 38))));
        assert!(s.pass_rate_flagged(), "113 of 120 is above it");
        assert_eq!(check_outcome(&s, &outcome((1, 1), (0, 0)), d("2026-12-21")).unwrap_err().code, "outcome_exists");
    }
}
