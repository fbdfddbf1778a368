//! The index the name matcher searches: every committee, organizing unit and sanctioned
//! organization or website, by name as written, by the bigrams of its folded name
//! (`domain::similarity`), by web domain and by credit code.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::committee::CommitteeStatus;
use crate::domain::sanction::SubjectKind;
use crate::domain::search::web_domain;
use crate::domain::similarity::Folded;
use crate::store::{CommitteeRowFilter, DynStore, SanctionRowFilter, StoreResult, today};

/// Look-alikes scoring below this are not reported.
const LOOK_ALIKE_SCORE: f64 = 0.6;
const LOOK_ALIKES: usize = 5;

/// A committee, organizing unit or sanctioned subject a query can match.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Candidate {
    /// committee, organizing_unit, or the sanctioned subject's kind (intermediary, website …).
    pub kind: String,
    /// The committee's id (for a committee or its organizing unit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committee_id: Option<String>,
    /// The sanction's id, for a subject known only from a sanction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sanction_id: Option<String>,
    pub name: String,
    /// The committee's status today.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<CommitteeStatus>,
    /// Measures in force against it (in Chinese).
    pub sanctions: Vec<String>,
    /// Similarity to the query, 0 to 1 (1 for an exact match).
    pub score: f64,
}

struct Entry {
    candidate: Candidate,
    folded: Folded,
}

/// Every name the registry knows, folded, with an inverted index of its bigrams.
pub struct MatchIndex {
    entries: Vec<Entry>,
    /// By the name as written (simplified, without spaces and punctuation): the same name.
    by_name: HashMap<String, Vec<u32>>,
    by_gram: HashMap<(char, char), Vec<u32>>,
    /// By the letter trigrams of the folded name's pinyin.
    by_sound: HashMap<[u8; 3], Vec<u32>>,
    by_domain: HashMap<String, Vec<u32>>,
    by_credit_code: HashMap<String, Vec<u32>>,
}

impl MatchIndex {
    /// Reads every committee and every sanction against a named organization or website.
    pub async fn build(store: &DynStore) -> StoreResult<MatchIndex> {
        let day = today();
        let graph = store.authority_graph().await?;
        let mut index = MatchIndex {
            entries: Vec::new(),
            by_name: HashMap::new(),
            by_gram: HashMap::new(),
            by_sound: HashMap::new(),
            by_domain: HashMap::new(),
            by_credit_code: HashMap::new(),
        };
        let mut after: Option<String> = None;
        loop {
            let page = store.committees_after(&CommitteeRowFilter::default(), after.as_deref(), 1000).await?;
            for r in &page {
                let c = &r.committee;
                let sanctions: Vec<String> = r
                    .sanctions
                    .iter()
                    .filter(|s| s.in_force_on(day))
                    .map(|s| s.measure.name_zh().to_string())
                    .collect();
                let candidate = |kind: &str, name: &str| Candidate {
                    kind: kind.into(),
                    committee_id: Some(c.id.clone()),
                    sanction_id: None,
                    name: name.into(),
                    status: Some(r.status_on(day, &graph)),
                    sanctions: sanctions.clone(),
                    score: 0.0,
                };
                let committee = index.add(candidate("committee", &c.name));
                let unit = index.add(candidate("organizing_unit", &c.organizing_unit.name));
                index.by_credit_code.entry(c.organizing_unit.credit_code.to_uppercase()).or_default().push(unit);
                for domain in &c.domains {
                    index.by_domain.entry(domain.to_lowercase()).or_default().push(committee);
                }
            }
            if page.len() < 1000 {
                break;
            }
            after = page.last().map(|r| r.committee.id.clone());
        }
        let mut after: Option<String> = None;
        loop {
            let page = store.sanctions_after(&SanctionRowFilter::default(), after.as_deref(), 1000).await?;
            for s in &page {
                let individual =
                    matches!(s.subject.kind, SubjectKind::Applicant | SubjectKind::Expert | SubjectKind::Staff);
                let Some(name) = s.subject.name.as_deref().filter(|_| !individual && s.subject.id.is_none()) else {
                    continue;
                };
                let kind = crate::domain::code::Code::code(s.subject.kind).to_string();
                let in_force = if s.in_force_on(day) { vec![s.measure.name_zh().to_string()] } else { vec![] };
                let at = index.add(Candidate {
                    kind,
                    committee_id: None,
                    sanction_id: Some(s.id.clone()),
                    name: name.into(),
                    status: None,
                    sanctions: in_force,
                    score: 0.0,
                });
                if let Some(domain) = web_domain(name) {
                    index.by_domain.entry(domain).or_default().push(at);
                }
            }
            if page.len() < 1000 {
                break;
            }
            after = page.last().map(|s| s.id.clone());
        }
        Ok(index)
    }

    fn add(&mut self, candidate: Candidate) -> u32 {
        let at = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        let folded = Folded::new(&candidate.name);
        for g in &folded.grams {
            self.by_gram.entry(*g).or_default().push(at);
        }
        for s in &folded.sounds {
            self.by_sound.entry(*s).or_default().push(at);
        }
        self.by_name.entry(same_name_key(&candidate.name)).or_default().push(at);
        self.entries.push(Entry { candidate, folded });
        at
    }

    /// What a query matches: exactly (same credit code, domain or name), and the most alike
    /// names besides (same once the words every such name shares are left out: 名称仿冒).
    pub fn find(&self, query: &str) -> Matched {
        let query = query.trim();
        let code = query.to_uppercase();
        if code.len() == 18 && crate::domain::credit_code::validate(&code).is_ok() {
            return self.matched("credit_code", self.by_credit_code.get(&code), vec![]);
        }
        if let Some(domain) = web_domain(query) {
            let exact = self.by_domain.get(&domain).or_else(|| self.by_domain.get(&format!("www.{domain}")));
            return self.matched("domain", exact, vec![]);
        }
        let folded = Folded::new(query);
        if folded.is_empty() {
            return Matched { matched_as: "nothing", exact: vec![], look_alikes: vec![] };
        }
        let exact = self.by_name.get(&same_name_key(query));
        let alike = self.alike(&folded, exact.map(Vec::as_slice).unwrap_or_default());
        self.matched("name", exact, alike)
    }

    /// The entries sharing bigrams or pinyin trigrams with the query, best first; those on more
    /// than a tenth of all entries (技术, 人员, "eng" …) only count, they do not nominate.
    fn alike(&self, query: &Folded, exact: &[u32]) -> Vec<(u32, f64)> {
        let common = self.entries.len() / 10 + 1;
        let mut nominated: BTreeSet<u32> = BTreeSet::new();
        let by_gram = query.grams.iter().filter_map(|g| self.by_gram.get(g));
        let by_sound = query.sounds.iter().filter_map(|s| self.by_sound.get(s));
        for list in by_gram.chain(by_sound).filter(|l| l.len() <= common) {
            nominated.extend(list.iter().copied());
        }
        let mut scored: Vec<(u32, f64)> = nominated
            .into_iter()
            .filter(|i| !exact.contains(i))
            .map(|i| (i, query.score(&self.entries[i as usize].folded)))
            .filter(|(_, score)| *score >= LOOK_ALIKE_SCORE)
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(LOOK_ALIKES);
        scored
    }

    fn matched(&self, matched_as: &'static str, exact: Option<&Vec<u32>>, alike: Vec<(u32, f64)>) -> Matched {
        let candidate = |i: u32, score: f64| Candidate { score, ..self.entries[i as usize].candidate.clone() };
        Matched {
            matched_as,
            exact: exact.map(|list| list.iter().map(|i| candidate(*i, 1.0)).collect()).unwrap_or_default(),
            look_alikes: alike.into_iter().map(|(i, score)| candidate(i, (score * 1000.0).round() / 1000.0)).collect(),
        }
    }
}

/// A name as written, for exact matches: simplified, without spaces and punctuation.
fn same_name_key(name: &str) -> String {
    crate::domain::search::simplified(name).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// What one query matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct Matched {
    /// How the query was read: name, domain, credit_code, or nothing (no letters left).
    pub matched_as: &'static str,
    pub exact: Vec<Candidate>,
    /// Names alike but not the same: possible impostors (名称仿冒), best first.
    pub look_alikes: Vec<Candidate>,
}
