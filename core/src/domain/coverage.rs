//! The question the registry exists to answer: was this committee authorized to evaluate
//! series S, specialty P, level L, for an applicant from region R, on date D?

use super::Date;
use super::authority::{AuthorityGraph, CompetenceGap, CompetenceItem};
use super::authorization::{Authorization, AuthorizationStatus, Scope};
use super::catalog::{Catalog, Level};
use super::code::Code;
use super::committee::CommitteeRecord;
use super::reason::Reason;
use super::sanction::{Measure, Sanction};

#[derive(Debug, Clone, Copy)]
pub struct CoverageQuery<'a> {
    pub series: &'a str,
    pub specialty: Option<&'a str>,
    pub level: Level,
    /// The applicant's region; `None` skips the region check.
    pub region: Option<&'a str>,
    /// The applicant is the organizing unit's own staff.
    pub own_staff: bool,
    pub on: Date,
}

#[derive(Debug, Clone)]
pub struct CoverageAnswer<'a> {
    pub covered: bool,
    /// Empty when covered.
    pub reasons: Vec<Reason>,
    /// The authorization the answer rests on: the one that covers, or the closest one that
    /// did not (same series) so a reader sees what it lacked.
    pub authorization: Option<&'a Authorization>,
}

/// Answers a coverage question from the committee's full record and the authority graph:
/// its authorizations, then the sanctions against it.
pub fn coverage<'a>(record: &'a CommitteeRecord, graph: &AuthorityGraph, q: &CoverageQuery<'_>) -> CoverageAnswer<'a> {
    let mut answer = authorization_coverage(record, graph, q);
    answer.reasons.extend(sanction_reasons(&record.sanctions, q.on));
    answer.covered = answer.reasons.is_empty();
    answer
}

/// The authorization half of [`coverage`]: sanctions are not considered.
pub fn authorization_coverage<'a>(
    record: &'a CommitteeRecord,
    graph: &AuthorityGraph,
    q: &CoverageQuery<'_>,
) -> CoverageAnswer<'a> {
    if record.authorizations.is_empty() {
        let reasons =
            vec![Reason::new("no_authorization", "该评委会未获任何评审权限", "the committee holds no authorization")];
        return CoverageAnswer { covered: false, reasons, authorization: None };
    }
    let mut candidates: Vec<(&Authorization, Vec<Reason>)> =
        record.authorizations.iter().map(|a| (a, authorization_reasons(a, record, graph, q))).collect();
    // The best candidate: right series first, then fewest failed checks.
    candidates.sort_by_key(|(a, reasons)| (a.terms_on(q.on).series != q.series, reasons.len()));
    let (best, mut reasons) = candidates.swap_remove(0);
    let series_matches = best.terms_on(q.on).series == q.series;
    if !series_matches {
        reasons = vec![series_not_covered(q.series)];
    }
    CoverageAnswer { covered: reasons.is_empty(), reasons, authorization: series_matches.then_some(best) }
}

fn authorization_reasons(
    a: &Authorization,
    record: &CommitteeRecord,
    graph: &AuthorityGraph,
    q: &CoverageQuery<'_>,
) -> Vec<Reason> {
    let terms = a.terms_on(q.on);
    let mut reasons = Vec::new();
    if terms.series != q.series {
        reasons.push(series_not_covered(q.series));
    }
    if let Some(specialty) = q.specialty.filter(|s| !terms.covers_specialty(s)) {
        reasons.push(Reason::new(
            "specialty_not_covered",
            format!("评审权限不含专业“{specialty}”"),
            format!("the authorization does not cover the specialty \"{specialty}\""),
        ));
    }
    if !terms.levels.contains(&q.level) {
        reasons.push(Reason::new(
            "level_not_covered",
            format!("评审权限不含{}层级", q.level.name_zh()),
            format!("the authorization does not cover the level {}", q.level.code()),
        ));
    }
    match &terms.scope {
        Scope::OwnStaff { .. } if !q.own_staff => reasons.push(Reason::new(
            "scope_own_staff_only",
            "该评审权限仅限本单位人员",
            "the authorization covers only the organizing unit's own staff",
        )),
        Scope::Regions { .. } => {
            if let Some(region) = q.region.filter(|r| !terms.covers_region(r)) {
                reasons.push(Reason::new(
                    "region_not_covered",
                    format!("申报人所在地区（{}）不在评审范围内", Catalog::get().region_name(region)),
                    format!("applicants from region {region} are outside the authorization's scope"),
                ));
            }
        }
        Scope::OwnStaff { .. } => {}
    }
    // Competence matters only for what the grant does cover: an answer that is already
    // "not covered" gains nothing from a second, derivative reason.
    let terms_cover = reasons.is_empty();
    reasons.extend(status_reason(a, q.on));
    if terms_cover && let Err(gap) = grantor_competence(a, record, graph, q) {
        reasons.push(competence_reason(&gap));
    }
    reasons
}

fn status_reason(a: &Authorization, on: Date) -> Option<Reason> {
    let terms = a.terms_on(on);
    match a.status_on(on) {
        AuthorizationStatus::Active => None,
        AuthorizationStatus::Pending => Some(Reason::new(
            "not_yet_valid",
            format!("评审权限自{}起生效，评审日期早于生效日", terms.valid_from),
            format!("the authorization takes effect on {}, after the evaluation date", terms.valid_from),
        )),
        AuthorizationStatus::Expired => Some(Reason::new(
            "expired",
            format!("评审权限已于{}到期", terms.valid_until),
            format!("the authorization expired on {}", terms.valid_until),
        )),
        AuthorizationStatus::Suspended => {
            let r = a.suspension_on(on).expect("suspended status has a suspension record");
            Some(Reason::new(
                "suspended",
                format!("评审权限自{}起暂停（{}）", r.effective_on, r.document_number),
                format!("the authorization was suspended from {} ({})", r.effective_on, r.document_number),
            ))
        }
        AuthorizationStatus::Withdrawn => {
            let r = a.withdrawal_on(on).expect("withdrawn status has a withdrawal record");
            Some(Reason::new(
                "withdrawn",
                format!("评审权限已于{}收回（{}）", r.effective_on, r.document_number),
                format!("the authorization was withdrawn from {} ({})", r.effective_on, r.document_number),
            ))
        }
    }
}

/// The grantor must have been competent for what is asked, on the evaluation date.
fn grantor_competence(
    a: &Authorization,
    record: &CommitteeRecord,
    graph: &AuthorityGraph,
    q: &CoverageQuery<'_>,
) -> Result<(), CompetenceGap> {
    let terms = a.terms_on(q.on);
    let regions: Vec<&str> = match (&terms.scope, q.region) {
        (Scope::Regions { .. }, Some(r)) => vec![r],
        (Scope::Regions { regions }, None) => regions.iter().map(String::as_str).collect(),
        (Scope::OwnStaff { .. }, _) => vec![record.committee.region.as_str()],
    };
    let specialties: Vec<Option<&str>> = match q.specialty {
        Some(s) => vec![Some(s)],
        None if terms.specialties.is_empty() => vec![None],
        None => terms.specialties.iter().map(|s| Some(s.as_str())).collect(),
    };
    for region in &regions {
        for specialty in &specialties {
            let item = CompetenceItem { series: q.series, specialty: *specialty, level: q.level, region, on: q.on };
            graph.competent(&a.granted_by, &item)?;
        }
    }
    Ok(())
}

/// Why an authority could not grant something, for a person: code `grantor_lacked_competence`.
pub fn competence_reason(gap: &CompetenceGap) -> Reason {
    let (zh, en) = match gap {
        CompetenceGap::UnknownAuthority(id) => {
            (format!("授权机关{id}不在登记中"), format!("the granting authority {id} is not registered"))
        }
        CompetenceGap::OutsideJurisdiction { authority_id } => (
            format!("授权机关{authority_id}超出其管辖地区授权"),
            format!("the granting authority {authority_id} granted beyond its jurisdiction"),
        ),
        CompetenceGap::NotDelegated { authority_id } => (
            format!("授权机关{authority_id}在该日期不具备此项评审权限的授权权限（超越权限）"),
            format!("the granting authority {authority_id} had no competence to authorize this on that date"),
        ),
    };
    Reason::new("grantor_lacked_competence", zh, en)
}

fn series_not_covered(series: &str) -> Reason {
    let name = Catalog::get().series_by_code(series).map_or(series.to_string(), |s| s.name_zh.clone());
    Reason::new(
        "series_not_covered",
        format!("该评委会无{name}系列评审权限"),
        format!("the committee holds no authorization for the series {series}"),
    )
}

/// Committee sanctions that void an evaluation held on `on`.
pub fn sanction_reasons(sanctions: &[Sanction], on: Date) -> Vec<Reason> {
    sanctions
        .iter()
        .filter(|s| s.voids_evaluation_on(on))
        .map(|s| match s.measure {
            Measure::SuspensionOfAuthority => Reason::new(
                "suspended",
                format!("评委会评审权限被暂停（{}，自{}起）", s.document_number, s.effective_from),
                format!("the committee's authority was suspended ({}, from {})", s.document_number, s.effective_from),
            ),
            _ if s.retroactive() && on < s.effective_from => Reason::new(
                "withdrawn",
                format!(
                    "评委会评审权限被收回，且自{}起的评审结果无效（{}）",
                    s.void_from.unwrap_or(s.effective_from),
                    s.document_number
                ),
                format!(
                    "the committee's authority was withdrawn and its evaluations from {} are void ({})",
                    s.void_from.unwrap_or(s.effective_from),
                    s.document_number
                ),
            ),
            _ => Reason::new(
                "withdrawn",
                format!("评委会评审权限已被收回（{}，自{}起）", s.document_number, s.effective_from),
                format!("the committee's authority was withdrawn ({}, from {})", s.document_number, s.effective_from),
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::authorization::tests::{d, jilin_graph as graph, record, terms};
    use crate::domain::authorization::{Action, Terms};
    use crate::domain::committee::{Committee, CommitteeKind, OrganizingUnit};
    use crate::domain::sanction::{Subject, SubjectKind};

    fn committee_record(
        granted_by: &str,
        history: Vec<crate::domain::authorization::HistoryRecord>,
        sanctions: Vec<Sanction>,
    ) -> CommitteeRecord {
        CommitteeRecord {
            committee: Committee {
                id: "c".into(),
                name: "长春市工程技术人员中级职称评审委员会".into(),
                kind: CommitteeKind::Intermediate,
                organizing_unit: OrganizingUnit { name: "长春市人社局".into(), credit_code: "x".into() },
                authority_id: granted_by.into(),
                region: "220100".into(),
                domains: vec![],
                contact: None,
            },
            authorizations: vec![Authorization {
                id: "a".into(),
                committee_id: "c".into(),
                granted_by: granted_by.into(),
                document_number: "x".into(),
                history,
            }],
            sanctions,
        }
    }

    fn query(level: Level, region: &str, on: &str) -> CoverageQuery<'static> {
        let region: &'static str = Box::leak(region.to_string().into_boxed_str());
        CoverageQuery {
            series: "ENGINEERING",
            specialty: None,
            level,
            region: Some(region),
            own_staff: false,
            on: d(on),
        }
    }

    fn codes(answer: &CoverageAnswer<'_>) -> Vec<String> {
        answer.reasons.iter().map(|r| r.code.clone()).collect()
    }

    fn granted(t: Terms) -> Vec<crate::domain::authorization::HistoryRecord> {
        vec![record(Action::Granted, "2022-01-01", Some(t))]
    }

    #[test]
    fn covered_inside_every_dimension() {
        let rec = committee_record("jilin", granted(terms(&[Level::Intermediate], "2022-01-01", "2024-12-31")), vec![]);
        let answer = coverage(&rec, &graph(), &query(Level::Intermediate, "220102", "2023-05-01"));
        assert!(answer.covered, "{:?}", answer.reasons);
        assert_eq!(answer.authorization.unwrap().id, "a");
    }

    #[test]
    fn each_dimension_fails_with_its_own_code() {
        let g = graph();
        let mut t = terms(&[Level::Intermediate], "2022-01-01", "2024-12-31");
        t.specialties = vec!["建筑工程".into()];
        let rec = committee_record("jilin", granted(t), vec![]);
        assert_eq!(codes(&coverage(&rec, &g, &query(Level::Senior, "220102", "2023-05-01"))), ["level_not_covered"]);
        assert_eq!(
            codes(&coverage(&rec, &g, &query(Level::Intermediate, "530102", "2023-05-01"))),
            ["region_not_covered"]
        );
        assert_eq!(codes(&coverage(&rec, &g, &query(Level::Intermediate, "220102", "2021-05-01"))), ["not_yet_valid"]);
        assert_eq!(codes(&coverage(&rec, &g, &query(Level::Intermediate, "220102", "2025-01-01"))), ["expired"]);
        let mut q = query(Level::Intermediate, "220102", "2023-05-01");
        q.specialty = Some("电子工程");
        assert_eq!(codes(&coverage(&rec, &g, &q)), ["specialty_not_covered"]);
        q.specialty = None;
        q.series = "HEALTH";
        let answer = coverage(&rec, &g, &q);
        assert_eq!(codes(&answer), ["series_not_covered"]);
        assert!(answer.authorization.is_none());
    }

    #[test]
    fn a_city_granting_beyond_its_delegation_is_caught() {
        let rec = committee_record(
            "changchun",
            granted(terms(&[Level::Senior, Level::Intermediate], "2022-01-01", "2024-12-31")),
            vec![],
        );
        let q = query(Level::Senior, "220102", "2023-05-01");
        assert_eq!(codes(&coverage(&rec, &graph(), &q)), ["grantor_lacked_competence"]);
        assert!(coverage(&rec, &graph(), &query(Level::Intermediate, "220102", "2023-05-01")).covered);
    }

    #[test]
    fn evaluations_before_a_withdrawal_stand_and_after_it_fail() {
        let mut history = granted(terms(&[Level::Intermediate], "2022-01-01", "2024-12-31"));
        history.push(record(Action::Withdrawn, "2023-06-01", None));
        let rec = committee_record("jilin", history, vec![]);
        assert!(coverage(&rec, &graph(), &query(Level::Intermediate, "220102", "2023-05-31")).covered);
        assert_eq!(
            codes(&coverage(&rec, &graph(), &query(Level::Intermediate, "220102", "2023-06-01"))),
            ["withdrawn"]
        );
    }

    #[test]
    fn committee_sanctions_suspend_and_retroactively_void() {
        let sanction = |measure, from: &str, void_from: Option<&str>| Sanction {
            id: "s".into(),
            subject: Subject { kind: SubjectKind::Committee, id: Some("c".into()), name: None },
            measure,
            region: "220100".into(),
            effective_from: d(from),
            effective_until: None,
            void_from: void_from.map(d),
            decided_by: "jilin".into(),
            document_number: "吉人社〔2023〕1号".into(),
            legal_basis: "".into(),
            summary: "".into(),
            logged_at: chrono::Utc::now(),
            lift: None,
        };
        let t = || granted(terms(&[Level::Intermediate], "2022-01-01", "2024-12-31"));
        let rec = committee_record("jilin", t(), vec![sanction(Measure::SuspensionOfAuthority, "2023-01-01", None)]);
        assert_eq!(
            codes(&coverage(&rec, &graph(), &query(Level::Intermediate, "220102", "2023-05-01"))),
            ["suspended"]
        );
        let rec = committee_record(
            "jilin",
            t(),
            vec![sanction(Measure::WithdrawalOfAuthority, "2023-06-01", Some("2022-06-01"))],
        );
        assert!(coverage(&rec, &graph(), &query(Level::Intermediate, "220102", "2022-05-31")).covered);
        assert_eq!(
            codes(&coverage(&rec, &graph(), &query(Level::Intermediate, "220102", "2022-07-01"))),
            ["withdrawn"]
        );
    }

    #[test]
    fn own_staff_scope_needs_an_own_staff_applicant() {
        let mut t = terms(&[Level::Intermediate], "2022-01-01", "2024-12-31");
        t.scope = Scope::OwnStaff { own_staff: true };
        let rec = committee_record("jilin", granted(t), vec![]);
        let mut q = query(Level::Intermediate, "220102", "2023-05-01");
        assert_eq!(codes(&coverage(&rec, &graph(), &q)), ["scope_own_staff_only"]);
        q.own_staff = true;
        assert!(coverage(&rec, &graph(), &q).covered);
    }

    #[test]
    fn no_authorization_at_all() {
        let mut rec = committee_record("jilin", vec![], vec![]);
        rec.authorizations.clear();
        assert_eq!(
            codes(&coverage(&rec, &graph(), &query(Level::Intermediate, "220102", "2023-05-01"))),
            ["no_authorization"]
        );
    }
}
