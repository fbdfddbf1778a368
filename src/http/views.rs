//! Response shapes: domain records rendered as of a date, with derived status and
//! human-readable names beside the codes.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Date;
use crate::domain::authority::{Authority, AuthorityGraph, AuthorityLevel, Delegation};
use crate::domain::authorization::{Authorization, AuthorizationStatus, HistoryRecord, Scope};
use crate::domain::catalog::{Catalog, Level};
use crate::domain::committee::{CommitteeKind, CommitteeRecord, CommitteeStatus, OrganizingUnit};
use crate::domain::coverage::competence_reason;
use crate::domain::log::logged_late;
use crate::domain::reason::Reason;
use crate::domain::sanction::{Lift, Measure, Sanction, SanctionStatus, Subject};

/// List metadata: `next_cursor` is absent on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListMeta {
    /// How many items this page holds (not a total: counting every match would cost a scan
    /// of the whole table on every request).
    pub count: usize,
    /// Pass it as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// The page stopped at the scan budget before it filled: it may hold fewer than `limit`
    /// items, even none, and `next_cursor` resumes where it stopped. Keep following
    /// `next_cursor` until it is absent.
    pub partial: bool,
    /// The date statuses were derived for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<Date>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationView {
    pub id: String,
    pub committee_id: String,
    /// Series code.
    pub series: String,
    pub series_name: String,
    /// Empty means every specialty of the series.
    pub specialties: Vec<String>,
    pub levels: Vec<Level>,
    pub scope: Scope,
    pub valid_from: Date,
    pub valid_until: Date,
    pub status: AuthorizationStatus,
    /// Levels of these terms the granting authority could not lawfully grant on the as-of date
    /// (超越权限: outside its jurisdiction, or never delegated to it). The authorization covers
    /// none of them, whatever its status says. Empty when it is within the grantor's competence.
    pub levels_beyond_grantor_competence: Vec<Level>,
    /// Why, when `levels_beyond_grantor_competence` is not empty (code `grantor_lacked_competence`).
    pub grantor_competence: Option<Reason>,
    /// The granting authority's id.
    pub granted_by: String,
    pub document_number: String,
    /// Every record, oldest first; nothing is ever removed.
    pub history: Vec<HistoryRecordView>,
}

/// A history record, flagged when it was logged long after it took effect.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryRecordView {
    #[serde(flatten)]
    pub record: HistoryRecord,
    /// Logged more than 30 days after its effective date (back-dating: see docs/TRANSPARENCY.md).
    pub logged_late: bool,
}

impl AuthorizationView {
    /// The authorization as of a date, checked against what its grantor could grant (`graph`);
    /// `committee_region` is the scope of an own-staff authorization.
    pub fn new(a: &Authorization, as_of: Date, graph: &AuthorityGraph, committee_region: &str) -> Self {
        let t = a.terms_on(as_of);
        let beyond = a.beyond_grantor_competence(graph, committee_region, as_of);
        AuthorizationView {
            id: a.id.clone(),
            committee_id: a.committee_id.clone(),
            series: t.series.clone(),
            series_name: Catalog::get().series_by_code(&t.series).map(|s| s.name_zh.clone()).unwrap_or_default(),
            specialties: t.specialties.clone(),
            levels: t.levels.clone(),
            scope: t.scope.clone(),
            valid_from: t.valid_from,
            valid_until: t.valid_until,
            status: a.status_on(as_of),
            levels_beyond_grantor_competence: beyond.iter().map(|(level, _)| *level).collect(),
            grantor_competence: beyond.first().map(|(_, gap)| competence_reason(gap)),
            granted_by: a.granted_by.clone(),
            document_number: a.document_number.clone(),
            history: a
                .history
                .iter()
                .map(|r| HistoryRecordView { record: r.clone(), logged_late: logged_late(r.effective_on, r.logged_at) })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SanctionView {
    pub id: String,
    pub subject: Subject,
    pub measure: Measure,
    /// The measure in Chinese, e.g. 暂停评审权限.
    pub measure_name: String,
    pub region: String,
    pub effective_from: Date,
    pub effective_until: Option<Date>,
    /// Whether evaluations before `effective_from` are void too (from `void_from`).
    pub retroactive: bool,
    pub void_from: Option<Date>,
    /// The deciding authority's id.
    pub decided_by: String,
    pub document_number: String,
    pub legal_basis: String,
    pub summary: String,
    pub status: SanctionStatus,
    pub lifted: Option<Lift>,
    pub logged_at: chrono::DateTime<chrono::Utc>,
    /// Logged more than 30 days after `effective_from` (back-dating: see docs/TRANSPARENCY.md).
    pub logged_late: bool,
}

impl SanctionView {
    pub fn new(s: &Sanction, as_of: Date) -> Self {
        SanctionView {
            id: s.id.clone(),
            subject: s.subject.clone(),
            measure: s.measure,
            measure_name: s.measure.name_zh().to_string(),
            region: s.region.clone(),
            effective_from: s.effective_from,
            effective_until: s.effective_until,
            retroactive: s.retroactive(),
            void_from: s.void_from,
            decided_by: s.decided_by.clone(),
            document_number: s.document_number.clone(),
            legal_basis: s.legal_basis.clone(),
            summary: s.summary.clone(),
            status: s.status_on(as_of),
            lifted: s.lift.clone(),
            logged_at: s.logged_at,
            logged_late: logged_late(s.effective_from, s.logged_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommitteeView {
    pub id: String,
    pub name: String,
    pub kind: CommitteeKind,
    pub organizing_unit: OrganizingUnit,
    /// The approving, supervising authority.
    pub authority_id: String,
    /// 6-digit GB/T 2260 code.
    pub region: String,
    pub region_name: String,
    pub status: CommitteeStatus,
    /// Official web domains.
    pub domains: Vec<String>,
    pub contact: Option<String>,
    /// Current and past authorizations, with their history.
    pub authorizations: Vec<AuthorizationView>,
    /// Every sanction against the committee, in force or not.
    pub sanctions: Vec<SanctionView>,
}

impl CommitteeView {
    /// The committee as of a date; its status and each authorization by the lawful-coverage rule.
    pub fn new(r: &CommitteeRecord, as_of: Date, graph: &AuthorityGraph) -> Self {
        let c = &r.committee;
        CommitteeView {
            id: c.id.clone(),
            name: c.name.clone(),
            kind: c.kind,
            organizing_unit: c.organizing_unit.clone(),
            authority_id: c.authority_id.clone(),
            region: c.region.clone(),
            region_name: Catalog::get().region_name(&c.region),
            status: r.status_on(as_of, graph),
            domains: c.domains.clone(),
            contact: c.contact.clone(),
            authorizations: r
                .authorizations
                .iter()
                .map(|a| AuthorizationView::new(a, as_of, graph, &c.region))
                .collect(),
            sanctions: r.sanctions.iter().map(|s| SanctionView::new(s, as_of)).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorityView {
    pub id: String,
    pub name: String,
    pub level: AuthorityLevel,
    /// The jurisdiction, a 6-digit GB/T 2260 code (`000000`: nationwide).
    pub region: String,
    pub region_name: String,
    pub parent_id: Option<String>,
}

impl From<&Authority> for AuthorityView {
    fn from(a: &Authority) -> Self {
        AuthorityView {
            id: a.id.clone(),
            name: a.name.clone(),
            level: a.level,
            region: a.region.clone(),
            region_name: Catalog::get().region_name(&a.region),
            parent_id: a.parent_id.clone(),
        }
    }
}

/// What an authority may authorize.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompetenceView {
    /// `inherent`: anything inside the jurisdiction (national and provincial levels);
    /// `delegated`: only what `delegations` grant.
    pub basis: String,
    pub delegations: Vec<Delegation>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorityDetailView {
    #[serde(flatten)]
    pub authority: AuthorityView,
    pub competence: CompetenceView,
    pub children: Vec<AuthorityView>,
}
