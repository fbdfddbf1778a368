//! Evaluation committees (评审委员会) and their organizing units (组建单位).

use super::code::Code;
use serde::{Deserialize, Serialize};

use super::Date;
use super::authority::AuthorityGraph;
use super::authorization::{Authorization, AuthorizationStatus};
use super::sanction::{Measure, Sanction};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CommitteeKind {
    /// 高级评委会
    Senior,
    /// 中级评委会
    Intermediate,
    /// 初级评委会
    Junior,
    /// 自主评审单位: evaluates only its own staff
    SelfEvaluating,
    /// 评聘结合单位
    CombinedAppointment,
    /// 社会化评委会 / 行业协会
    SocialAssociation,
    /// 委托评审: evaluates on behalf of another unit
    Entrusted,
}

impl Code for CommitteeKind {}

impl CommitteeKind {
    pub const ALL: [CommitteeKind; 7] = [
        Self::Senior,
        Self::Intermediate,
        Self::Junior,
        Self::SelfEvaluating,
        Self::CombinedAppointment,
        Self::SocialAssociation,
        Self::Entrusted,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrganizingUnit {
    pub name: String,
    /// Unified social credit code (统一社会信用代码), validated with its GB 32100 check character.
    pub credit_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committee {
    pub id: String,
    pub name: String,
    pub kind: CommitteeKind,
    pub organizing_unit: OrganizingUnit,
    /// The authority that approved (核准备案) the committee and supervises it.
    pub authority_id: String,
    /// Where the committee sits: a 6-digit GB/T 2260 code.
    pub region: String,
    /// Official web domains: anything else claiming to be this committee is not.
    pub domains: Vec<String>,
    pub contact: Option<String>,
}

/// A committee's derived status on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CommitteeStatus {
    /// Holds at least one active authorization within its grantor's competence, and no
    /// suspension or withdrawal is in force.
    Authorized,
    /// Its current authorizations exceed what their grantors could lawfully grant (超越权限
    ///授权): it may not evaluate under them.
    GrantorLackedCompetence,
    /// Its only authorizations start later.
    Pending,
    /// Its authorizations have all lapsed.
    Expired,
    Suspended,
    Withdrawn,
    /// Never held an authorization.
    Unauthorized,
}

impl Code for CommitteeStatus {}

/// A committee with everything needed to answer questions about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitteeRecord {
    pub committee: Committee,
    pub authorizations: Vec<Authorization>,
    /// Sanctions whose subject is this committee.
    pub sanctions: Vec<Sanction>,
}

impl CommitteeRecord {
    /// A committee-level sanction of `measure` that is in force on `on`.
    pub fn sanction_in_force(&self, measure: Measure, on: Date) -> Option<&Sanction> {
        self.sanctions.iter().find(|s| s.measure == measure && s.in_force_on(on))
    }

    /// The committee's status on `on`, by the same lawful-coverage rule as a coverage answer: an
    /// authorization counts only for what its grantor could grant (`graph`).
    pub fn status_on(&self, on: Date, graph: &AuthorityGraph) -> CommitteeStatus {
        if self.sanction_in_force(Measure::WithdrawalOfAuthority, on).is_some() {
            return CommitteeStatus::Withdrawn;
        }
        if self.sanction_in_force(Measure::SuspensionOfAuthority, on).is_some() {
            return CommitteeStatus::Suspended;
        }
        let region = self.committee.region.as_str();
        if self.authorizations.iter().any(|a| a.lawfully_active(graph, region, on)) {
            return CommitteeStatus::Authorized;
        }
        let statuses: Vec<AuthorizationStatus> = self.authorizations.iter().map(|a| a.status_on(on)).collect();
        let any = |s| statuses.contains(&s);
        if any(AuthorizationStatus::Active) {
            CommitteeStatus::GrantorLackedCompetence
        } else if any(AuthorizationStatus::Suspended) {
            CommitteeStatus::Suspended
        } else if any(AuthorizationStatus::Pending) {
            CommitteeStatus::Pending
        } else if any(AuthorizationStatus::Expired) {
            CommitteeStatus::Expired
        } else if any(AuthorizationStatus::Withdrawn) {
            CommitteeStatus::Withdrawn
        } else {
            CommitteeStatus::Unauthorized
        }
    }

    /// Whether the committee holds an authorization (current or past: the list filters) of
    /// `series` including `level`, counting a level only where its grantor could lawfully grant
    /// it on `on`; `None` means "any".
    pub fn authorized_for(
        &self,
        series: Option<&str>,
        level: Option<super::catalog::Level>,
        on: Date,
        graph: &AuthorityGraph,
    ) -> bool {
        let region = self.committee.region.as_str();
        self.authorizations.iter().any(|a| {
            let terms = a.terms_on(on);
            let beyond = a.beyond_grantor_competence(graph, region, on);
            let lawful = |l: &super::catalog::Level| !beyond.iter().any(|(b, _)| b == l);
            series.is_none_or(|s| terms.series == s)
                && match level {
                    Some(l) => terms.levels.contains(&l) && lawful(&l),
                    None => terms.levels.iter().any(lawful),
                }
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::authorization::tests::{d, jilin_graph as graph, record, terms};
    use crate::domain::authorization::{Action, HistoryRecord};
    use crate::domain::catalog::Level;
    use crate::domain::sanction::{Lift, Subject, SubjectKind};

    pub(crate) fn committee() -> Committee {
        Committee {
            id: "c".into(),
            name: "吉林省工程技术人员中级职称评审委员会".into(),
            kind: CommitteeKind::Intermediate,
            organizing_unit: OrganizingUnit { name: "吉林省人社厅".into(), credit_code: "x".into() },
            authority_id: "jilin".into(),
            region: "220000".into(),
            domains: vec![],
            contact: None,
        }
    }

    fn authorization(id: &str, history: Vec<HistoryRecord>) -> Authorization {
        granted_by("jilin", id, history)
    }

    /// Changchun's grant of `levels`, scoped to its own city.
    fn city_grant(id: &str, levels: &[Level]) -> Authorization {
        let mut history = grant_of(levels, &[]);
        if let Some(t) = history[0].terms.as_mut() {
            t.scope = crate::domain::authorization::Scope::Regions { regions: vec!["220100".into()] };
        }
        granted_by("changchun", id, history)
    }

    fn granted_by(authority: &str, id: &str, history: Vec<HistoryRecord>) -> Authorization {
        Authorization {
            id: id.into(),
            committee_id: "c".into(),
            granted_by: authority.into(),
            document_number: "x".into(),
            history,
        }
    }

    fn sanction(measure: Measure, from: &str, until: Option<&str>, lifted_on: Option<&str>) -> Sanction {
        Sanction {
            id: "s".into(),
            subject: Subject { kind: SubjectKind::Committee, id: Some("c".into()), name: None },
            measure,
            region: "220000".into(),
            effective_from: d(from),
            effective_until: until.map(d),
            void_from: None,
            decided_by: "jilin".into(),
            document_number: "吉人社〔2024〕1号".into(),
            legal_basis: "".into(),
            summary: "".into(),
            logged_at: chrono::Utc::now(),
            lift: lifted_on.map(|on| Lift {
                effective_on: d(on),
                document_number: "吉人社〔2024〕2号".into(),
                reason: None,
                logged_at: chrono::Utc::now(),
            }),
        }
    }

    /// A grant valid 2022-01-01..2024-12-31, then `more` records.
    fn grant_then(more: &[(Action, &str)]) -> Vec<HistoryRecord> {
        grant_of(&[Level::Intermediate], more)
    }

    fn grant_of(levels: &[Level], more: &[(Action, &str)]) -> Vec<HistoryRecord> {
        let mut history = vec![record(Action::Granted, "2022-01-01", Some(terms(levels, "2022-01-01", "2024-12-31")))];
        history.extend(more.iter().map(|(action, on)| record(*action, on, None)));
        history
    }

    #[test]
    fn status_on_a_date_follows_authorizations_then_sanctions() {
        use CommitteeStatus::*;
        let suspension = || sanction(Measure::SuspensionOfAuthority, "2023-03-01", Some("2023-09-01"), None);
        let withdrawal = || sanction(Measure::WithdrawalOfAuthority, "2023-06-01", None, None);
        /// (what, authorizations, sanctions, on, status)
        type Case<'a> = (&'a str, Vec<Authorization>, Vec<Sanction>, &'a str, CommitteeStatus);
        let cases: Vec<Case> = vec![
            ("never authorized", vec![], vec![], "2023-01-01", Unauthorized),
            ("before the grant takes effect", vec![authorization("a", grant_then(&[]))], vec![], "2021-12-31", Pending),
            ("inside the validity window", vec![authorization("a", grant_then(&[]))], vec![], "2023-01-01", Authorized),
            ("on its last day", vec![authorization("a", grant_then(&[]))], vec![], "2024-12-31", Authorized),
            ("after it lapsed", vec![authorization("a", grant_then(&[]))], vec![], "2025-01-01", Expired),
            (
                "authorization suspended",
                vec![authorization("a", grant_then(&[(Action::Suspended, "2023-02-01")]))],
                vec![],
                "2023-03-01",
                Suspended,
            ),
            (
                "suspended, then reinstated",
                vec![authorization(
                    "a",
                    grant_then(&[(Action::Suspended, "2023-02-01"), (Action::Reinstated, "2023-04-01")]),
                )],
                vec![],
                "2023-05-01",
                Authorized,
            ),
            (
                "authorization withdrawn",
                vec![authorization("a", grant_then(&[(Action::Withdrawn, "2023-02-01")]))],
                vec![],
                "2023-03-01",
                Withdrawn,
            ),
            (
                "one of two withdrawn, the other active",
                vec![
                    authorization("a", grant_then(&[(Action::Withdrawn, "2023-02-01")])),
                    authorization("b", grant_then(&[])),
                ],
                vec![],
                "2023-03-01",
                Authorized,
            ),
            (
                "a suspension sanction in force",
                vec![authorization("a", grant_then(&[]))],
                vec![suspension()],
                "2023-04-01",
                Suspended,
            ),
            (
                "after the suspension ends",
                vec![authorization("a", grant_then(&[]))],
                vec![suspension()],
                "2023-10-01",
                Authorized,
            ),
            (
                "before the suspension starts",
                vec![authorization("a", grant_then(&[]))],
                vec![suspension()],
                "2023-02-28",
                Authorized,
            ),
            (
                "a withdrawal sanction in force",
                vec![authorization("a", grant_then(&[]))],
                vec![withdrawal()],
                "2023-07-01",
                Withdrawn,
            ),
            (
                "a withdrawal outranks a suspension",
                vec![authorization("a", grant_then(&[]))],
                vec![suspension(), withdrawal()],
                "2023-07-01",
                Withdrawn,
            ),
            (
                "a lifted suspension",
                vec![authorization("a", grant_then(&[]))],
                vec![sanction(Measure::SuspensionOfAuthority, "2023-03-01", None, Some("2023-05-01"))],
                "2023-06-01",
                Authorized,
            ),
            (
                "a city granting what it was delegated",
                vec![city_grant("a", &[Level::Intermediate])],
                vec![],
                "2023-01-01",
                Authorized,
            ),
            (
                "a city granting for the whole province, beyond its jurisdiction",
                vec![granted_by("changchun", "a", grant_then(&[]))],
                vec![],
                "2023-01-01",
                GrantorLackedCompetence,
            ),
            (
                "a city granting senior titles it was never delegated",
                vec![city_grant("a", &[Level::Senior])],
                vec![],
                "2023-01-01",
                GrantorLackedCompetence,
            ),
            (
                "partly beyond competence: the lawful level still authorizes",
                vec![city_grant("a", &[Level::Senior, Level::Intermediate])],
                vec![],
                "2023-01-01",
                Authorized,
            ),
            (
                "an unlawful grant beside a lawful one",
                vec![city_grant("a", &[Level::Senior]), authorization("b", grant_then(&[]))],
                vec![],
                "2023-01-01",
                Authorized,
            ),
            (
                "a warning changes nothing",
                vec![authorization("a", grant_then(&[]))],
                vec![sanction(Measure::Warning, "2023-03-01", None, None)],
                "2023-06-01",
                Authorized,
            ),
        ];
        for (name, authorizations, sanctions, on, expected) in cases {
            let record = CommitteeRecord { committee: committee(), authorizations, sanctions };
            assert_eq!(record.status_on(d(on), &graph()), expected, "{name}");
        }
    }

    #[test]
    fn list_filters_count_a_level_only_where_its_grantor_could_grant_it() {
        let lawful = authorization("a", grant_then(&[]));
        let beyond = city_grant("b", &[Level::Senior, Level::Intermediate]);
        let record = |a: &Authorization| CommitteeRecord {
            committee: committee(),
            authorizations: vec![a.clone()],
            sanctions: vec![],
        };
        let engineering = Some("ENGINEERING");
        let cases = [
            ("any", &lawful, None, None, "2023-01-01", true),
            ("the series", &lawful, engineering, None, "2023-01-01", true),
            ("series and level", &lawful, engineering, Some(Level::Intermediate), "2023-01-01", true),
            ("a level not granted", &lawful, engineering, Some(Level::Senior), "2023-01-01", false),
            ("another series", &lawful, Some("HEALTH"), None, "2023-01-01", false),
            ("a past authorization counts too", &lawful, engineering, None, "2025-06-01", true),
            ("a level beyond the grantor", &beyond, engineering, Some(Level::Senior), "2023-01-01", false),
            ("the lawful level of it", &beyond, engineering, Some(Level::Intermediate), "2023-01-01", true),
        ];
        for (name, a, series, level, on, expected) in cases {
            assert_eq!(record(a).authorized_for(series, level, d(on), &graph()), expected, "{name}");
        }
    }
}
