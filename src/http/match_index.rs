//! The index the name matcher searches: every committee, organizing unit and sanctioned
//! organization or website, by name as written, by the bigrams of its folded name
//! (`domain::similarity`), by web domain and by credit code.

use std::collections::HashMap;

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
/// The most exact matches one answer lists (`exact_total` says how many there were): a unit
/// that organizes hundreds of committees would otherwise fill the answer with copies.
const MAX_EXACT: usize = 20;
/// Of the entries that pass the shared-gram bound, those sharing the most are scored, at most
/// this many: near-duplicate names (a thousand committees that differ by a number) cost a
/// query a bounded amount.
const MAX_SCORED: usize = 256;

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
        let mut index = MatchIndex::empty();
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

    fn empty() -> MatchIndex {
        MatchIndex {
            entries: Vec::new(),
            by_name: HashMap::new(),
            by_gram: HashMap::new(),
            by_sound: HashMap::new(),
            by_domain: HashMap::new(),
            by_credit_code: HashMap::new(),
        }
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
            return Matched { matched_as: "nothing", exact: vec![], exact_total: 0, look_alikes: vec![] };
        }
        let exact = self.by_name.get(&same_name_key(query));
        let alike = self.alike(&folded, exact.map(Vec::as_slice).unwrap_or_default());
        self.matched("name", exact, alike)
    }

    /// The entries sharing bigrams or pinyin trigrams with the query, best first; those on more
    /// than a tenth of all entries (技术, 人员, "eng" …) only count, they do not nominate.
    ///
    /// Only entries that share enough of the query's grams are scored: Dice `2s / (a + b)`
    /// reaches `d` only if `s ≥ d·a / (2 − d)` (as `b ≥ s`), and of those `s` shared grams at
    /// most the skipped common ones were not counted. So the count prunes without losing a
    /// look-alike that would score `d`.
    fn alike(&self, query: &Folded, exact: &[u32]) -> Vec<(u32, f64)> {
        let common = self.entries.len() / 10 + 1;
        let need = |total: usize, skipped: usize| {
            let shared = (LOOK_ALIKE_SCORE * total as f64 / (2.0 - LOOK_ALIKE_SCORE)).ceil() as usize;
            u16::try_from(shared.saturating_sub(skipped).max(1)).unwrap_or(u16::MAX)
        };
        SHARED.with(|cell| {
            let mut shared = cell.borrow_mut();
            if shared.len() < self.entries.len() {
                shared.resize(self.entries.len(), (0, 0));
            }
            let mut touched: Vec<u32> = Vec::new();
            let mut skipped = (0, 0);
            for g in &query.grams {
                match self.by_gram.get(g) {
                    Some(list) if list.len() <= common => count(&mut shared, &mut touched, list, |c| &mut c.0),
                    Some(_) => skipped.0 += 1,
                    None => {}
                }
            }
            for t in &query.sounds {
                match self.by_sound.get(t) {
                    Some(list) if list.len() <= common => count(&mut shared, &mut touched, list, |c| &mut c.1),
                    Some(_) => skipped.1 += 1,
                    None => {}
                }
            }
            let needed = (need(query.grams.len(), skipped.0), need(query.sounds.len(), skipped.1));
            let exact: std::collections::HashSet<u32> = exact.iter().copied().collect();
            let mut passing: Vec<(u32, u32)> = Vec::new();
            for i in touched {
                let (grams, sounds) = std::mem::take(&mut shared[i as usize]);
                if (grams >= needed.0 || sounds >= needed.1) && !exact.contains(&i) {
                    passing.push((i, u32::from(grams) + u32::from(sounds)));
                }
            }
            if passing.len() > MAX_SCORED {
                passing.select_nth_unstable_by(MAX_SCORED - 1, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                passing.truncate(MAX_SCORED);
            }
            let mut scored: Vec<(u32, f64)> = passing
                .into_iter()
                .map(|(i, _)| (i, query.score(&self.entries[i as usize].folded)))
                .filter(|(_, score)| *score >= LOOK_ALIKE_SCORE)
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            scored.truncate(LOOK_ALIKES);
            scored
        })
    }

    fn matched(&self, matched_as: &'static str, exact: Option<&Vec<u32>>, alike: Vec<(u32, f64)>) -> Matched {
        let candidate = |i: u32, score: f64| Candidate { score, ..self.entries[i as usize].candidate.clone() };
        Matched {
            matched_as,
            exact: exact
                .map(|list| list.iter().take(MAX_EXACT).map(|i| candidate(*i, 1.0)).collect())
                .unwrap_or_default(),
            exact_total: exact.map_or(0, Vec::len),
            look_alikes: alike.into_iter().map(|(i, score)| candidate(i, (score * 1000.0).round() / 1000.0)).collect(),
        }
    }
}

thread_local! {
    /// Per entry, the query's bigrams and trigrams it shares: kept between queries (and reset
    /// entry by entry) so a query does not allocate and clear one slot per name.
    static SHARED: std::cell::RefCell<Vec<(u16, u16)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Adds one to the count of every entry on `list`, remembering the entries first counted.
fn count(shared: &mut [(u16, u16)], touched: &mut Vec<u32>, list: &[u32], slot: fn(&mut (u16, u16)) -> &mut u16) {
    for &i in list {
        let counts = &mut shared[i as usize];
        if *counts == (0, 0) {
            touched.push(i);
        }
        let n = slot(counts);
        *n = n.saturating_add(1);
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
    /// At most 20; `exact_total` says how many there are.
    pub exact: Vec<Candidate>,
    pub exact_total: usize,
    /// Names alike but not the same: possible impostors (名称仿冒), best first.
    pub look_alikes: Vec<Candidate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(name: &str) -> Candidate {
        Candidate {
            kind: "committee".into(),
            committee_id: None,
            sanction_id: None,
            name: name.into(),
            status: None,
            sanctions: vec![],
            score: 0.0,
        }
    }

    /// Every nominated entry scored (one sharing a gram that is not common), without counting:
    /// what the pruned search must agree with.
    fn brute_force(index: &MatchIndex, query: &Folded) -> Vec<(u32, f64)> {
        let common = index.entries.len() / 10 + 1;
        let nominates = |list: Option<&Vec<u32>>, i: u32| list.is_some_and(|l| l.len() <= common && l.contains(&i));
        let mut scored: Vec<(u32, f64)> = (0..index.entries.len() as u32)
            .filter(|&i| {
                query.grams.iter().any(|g| nominates(index.by_gram.get(g), i))
                    || query.sounds.iter().any(|t| nominates(index.by_sound.get(t), i))
            })
            .map(|i| (i, query.score(&index.entries[i as usize].folded)))
            .filter(|(_, score)| *score >= LOOK_ALIKE_SCORE)
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(LOOK_ALIKES);
        scored
    }

    #[test]
    fn pruning_by_shared_grams_loses_no_look_alike() {
        let places = ["吉林", "长春", "四平", "延边", "昆明", "南宁", "武汉", "杭州"];
        let fields = ["工程技术", "卫生技术", "中小学教师", "档案", "农业技术", "经济", "会计", "新闻"];
        let kinds = ["人员高级职称评审委员会", "专业中级职称评审委员会", "职称评审中心"];
        let mut index = MatchIndex::empty();
        for p in places {
            for f in fields {
                for k in kinds {
                    index.add(candidate(&format!("{p}{f}{k}")));
                }
            }
        }
        let queries = [
            "吉林工城技术职称评审中心",
            "長春衛生技術人員職稱評審服務中心",
            "siping dangan zhicheng pingshen",
            "延边农业技术评审有限公司",
            "武汉会计",
            "杭州新闻出版职称评定中心",
            "北京烤鸭有限公司",
        ];
        for q in queries {
            let folded = Folded::new(q);
            assert_eq!(index.alike(&folded, &[]), brute_force(&index, &folded), "{q}");
        }
    }
}
