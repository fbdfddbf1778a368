//! Demo certificates: issuer keys for the demo provinces and about N certificates, each one
//! generated only where the coverage rules really hold on its evaluation date, some revoked
//! or suspended; and example files of the frauds a real registry meets. The keys are derived
//! from public seeds: they are for the demo only.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use ed25519_dalek::SigningKey;
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::Value;

use crate::crypto::{data_integrity, multikey, sha256};
use crate::domain::Date;
use crate::domain::authority::AuthorityGraph;
use crate::domain::authorization::{AuthorizationStatus, Scope};
use crate::domain::catalog::{Catalog, Level};
use crate::domain::certificate::{IssuerKey, IssuerRef, ObtainedBy, StatusEntry, TitleSubject, unsigned_credential};
use crate::domain::committee::CommitteeRecord;
use crate::domain::coverage::{CoverageQuery, coverage};
use crate::domain::holder_id::HolderIdKey;
use crate::store::{Dataset, DatasetCertificate};

/// An example certificate file for newcomers.
pub struct Example {
    /// File stem, e.g. `valid` or `forged-signature`.
    pub name: &'static str,
    pub description: &'static str,
    pub credential: Value,
}

/// The URL the demo's status-list entries point at (the default `serve` address).
/// The registry the demo certificates belong to: where their status lists are, and the key of
/// their holder ID digests (the registry's own, so it can check them).
#[derive(Clone)]
pub struct DemoRegistry {
    pub url: String,
    pub holder_key: std::sync::Arc<HolderIdKey>,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "欧阳",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "华",
    "建国", "志强", "晓东", "海燕", "春梅",
];

fn title(series: &str, level: Level) -> String {
    let names: Option<[&str; 5]> = match series {
        "ENGINEERING" => Some(["技术员", "助理工程师", "工程师", "高级工程师", "正高级工程师"]),
        "HEALTH" => Some(["医士", "医师", "主治医师", "副主任医师", "主任医师"]),
        "SCHOOL_TEACHER" => Some(["三级教师", "二级教师", "一级教师", "高级教师", "正高级教师"]),
        "HIGHER_ED" => Some(["助教", "助教", "讲师", "副教授", "教授"]),
        "ACCOUNTING" => Some(["会计员", "助理会计师", "会计师", "高级会计师", "正高级会计师"]),
        "ECONOMICS" => Some(["经济员", "助理经济师", "经济师", "高级经济师", "正高级经济师"]),
        "AGRICULTURE" => Some(["农业技术员", "助理农艺师", "农艺师", "高级农艺师", "农业技术推广研究员"]),
        _ => None,
    };
    match names {
        Some(n) => n[level as usize].to_string(),
        None => format!(
            "{}{}职称",
            Catalog::get().series_by_code(series).map_or(series, |s| s.name_zh.as_str()),
            level.name_zh()
        ),
    }
}

fn demo_key(id: &str) -> SigningKey {
    SigningKey::from_bytes(&sha256(format!("zhicheng demo issuer key {id}").as_bytes()))
}

/// Signs `unsigned` as the province `authority` (`hr-220000`) does in the demo: its first key.
pub fn sign_as_province(authority: &str, unsigned: &Value, at: DateTime<Utc>) -> Value {
    let key = demo_key(&format!("key-{}-1", &authority[3..]));
    let method = format!("did:key:{0}#{0}", multikey::encode_public(&key.verifying_key()));
    data_integrity::sign(unsigned, &key, &method, &at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .expect("an object")
}

fn at_noon(d: Date) -> DateTime<Utc> {
    d.and_time(NaiveTime::from_hms_opt(4, 0, 0).expect("valid time")).and_utc()
}

struct Signer {
    key: SigningKey,
    key_id: String,
    public: String,
}

impl Signer {
    fn sign(
        &self,
        subject: &TitleSubject,
        authority: &str,
        name: &str,
        at: DateTime<Utc>,
        status: &[StatusEntry],
    ) -> Value {
        let unsigned = unsigned_credential(subject, &IssuerRef::Authority(authority.to_string()), name, at, status);
        let created = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        data_integrity::sign(&unsigned, &self.key, &format!("did:key:{0}#{0}", self.public), &created)
            .expect("an object")
    }
}

/// The first region an authorization's terms cover (the committee's own region for own-staff scopes).
fn first_region(terms: &crate::domain::authorization::Terms, record: &CommitteeRecord) -> String {
    match &terms.scope {
        Scope::Regions { regions } => regions[0].clone(),
        Scope::OwnStaff { .. } => record.committee.region.clone(),
    }
}

fn province_of(region: &str) -> String {
    format!("{}0000", &region[..2])
}

/// The example files: a valid and a revoked certificate from `issued`, and every fraud.
pub fn examples(factory: &mut CertificateFactory, rng: &mut StdRng, issued: &[DatasetCertificate]) -> Vec<Example> {
    let leaked = &factory.leaked.key_id;
    let mut examples = Vec::new();
    if let Some(c) = issued.iter().find(|c| c.changes.is_empty() && &c.key_id != leaked) {
        examples.push(Example {
            name: "valid",
            description: "一张有效证书 / a valid certificate",
            credential: c.credential.clone(),
        });
    }
    if let Some(c) = issued.iter().find(|c| c.changes.first().is_some_and(|ch| ch.0 == "revoked")) {
        examples.push(Example {
            name: "revoked",
            description: "已撤销的职称 / a revoked title",
            credential: c.credential.clone(),
        });
    }
    let f = factory;
    let today = f.today;
    examples.extend(frauds(
        &f.records,
        &f.graph,
        &f.signers,
        &f.leaked,
        &f.provinces,
        rng,
        today,
        &mut f.serial,
        &examples,
        &f.registry.holder_key,
    ));
    examples
}

/// Makes demo certificates in batches, round-robin over the committees, each one lawful on its
/// evaluation date; signing runs on every core. `zhicheng demo` at scale streams these batches
/// into the database instead of holding millions of credentials in memory.
pub struct CertificateFactory {
    registry: DemoRegistry,
    provinces: Vec<(String, String)>,
    signers: std::collections::HashMap<String, Signer>,
    leaked: Signer,
    compromised_at: DateTime<Utc>,
    today: Date,
    graph: AuthorityGraph,
    records: Vec<CommitteeRecord>,
    next_index: std::collections::HashMap<String, i64>,
    serial: usize,
    cursor: usize,
}

impl CertificateFactory {
    /// For the committees of `ds` (with its authorities and delegations), as of `today`.
    pub fn new(ds: &Dataset, today: Date, registry: DemoRegistry) -> CertificateFactory {
        let provinces: Vec<(String, String)> = ds
            .authorities
            .iter()
            .filter(|a| a.parent_id.as_deref() == Some("hr-000000"))
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect();
        let signers = provinces
            .iter()
            .map(|(id, _)| {
                let key_id = format!("key-{}-1", &id[3..]);
                let key = demo_key(&key_id);
                let public = multikey::encode_public(&key.verifying_key());
                (id.clone(), Signer { key, key_id, public })
            })
            .collect();
        // Guangxi's second key leaked thirty days ago: what it signed before stands, nothing after.
        let leaked_id = "key-450000-2".to_string();
        let key = demo_key(&leaked_id);
        let leaked = Signer { public: multikey::encode_public(&key.verifying_key()), key, key_id: leaked_id };
        CertificateFactory {
            registry,
            provinces,
            signers,
            leaked,
            compromised_at: at_noon(today - Duration::days(30)),
            today,
            graph: AuthorityGraph::new(ds.authorities.clone(), ds.delegations.clone()),
            records: ds.committee_records(),
            next_index: Default::default(),
            serial: 0,
            cursor: 0,
        }
    }

    /// The demo issuer keys the certificates are signed with.
    pub fn keys(&self) -> Vec<IssuerKey> {
        let mut keys: Vec<IssuerKey> = self
            .provinces
            .iter()
            .map(|(id, _)| {
                let s = &self.signers[id];
                IssuerKey {
                    id: s.key_id.clone(),
                    owner: IssuerRef::Authority(id.clone()),
                    public_key: s.public.clone(),
                    valid_from: at_noon(Date::from_ymd_opt(2020, 1, 1).expect("valid")),
                    valid_until: None,
                    retired_at: None,
                    compromised_at: None,
                    registered_by: id.clone(),
                }
            })
            .collect();
        keys.push(IssuerKey {
            id: self.leaked.key_id.clone(),
            owner: IssuerRef::Authority("hr-450000".into()),
            public_key: self.leaked.public.clone(),
            valid_from: at_noon(Date::from_ymd_opt(2021, 1, 1).expect("valid")),
            valid_until: None,
            retired_at: None,
            compromised_at: Some(self.compromised_at),
            registered_by: "hr-450000".into(),
        });
        keys
    }

    /// Up to `n` more certificates (fewer only when no committee can issue any).
    pub fn next_batch(&mut self, rng: &mut StdRng, n: usize) -> Vec<DatasetCertificate> {
        let mut planned = Vec::with_capacity(n);
        let mut misses = 0;
        while planned.len() < n && !self.records.is_empty() && misses < 10 * self.records.len() {
            let record = &self.records[self.cursor % self.records.len()];
            self.cursor += 1;
            let authority = format!("hr-{}", province_of(&record.committee.region));
            if !self.signers.contains_key(&authority) {
                misses += 1;
                continue;
            }
            let Some(subject) =
                candidate(record, &self.graph, rng, self.today, &mut self.serial, &self.registry.holder_key)
            else {
                misses += 1;
                continue;
            };
            misses = 0;
            let index = self.next_index.entry(authority.clone()).or_insert(0);
            *index += 1;
            let issued = at_noon(subject.evaluation_date + Duration::days(30)).min(Utc::now() - Duration::hours(2));
            let use_leaked = authority == "hr-450000" && self.serial.is_multiple_of(3) && issued < self.compromised_at;
            let changes = match rng.random_range(0..1000) {
                0..=9 => vec![("revoked", "弄虚作假取得职称，依法撤销".to_string(), issued + Duration::days(200))],
                10..=14 => vec![("suspended", "群众举报，核查期间暂停".to_string(), issued + Duration::days(100))],
                _ => vec![],
            };
            planned.push((subject, authority, *index - 1, issued, use_leaked, changes));
        }
        let sign = |(subject, authority, index, issued, use_leaked, changes): (
            TitleSubject,
            String,
            i64,
            DateTime<Utc>,
            bool,
            _,
        )| {
            let signer = if use_leaked { &self.leaked } else { &self.signers[&authority] };
            let name = self.provinces.iter().find(|p| p.0 == authority).map_or("", |p| p.1.as_str());
            let credential =
                signer.sign(&subject, &authority, name, issued, &status_entries(&self.registry.url, &authority, index));
            DatasetCertificate {
                credential,
                key_id: signer.key_id.clone(),
                status_authority: authority,
                revocation_index: index,
                suspension_index: index,
                logged_at: issued,
                changes,
            }
        };
        parallel_map(planned, sign)
    }
}

/// `f` over `items` on every core, in order.
fn parallel_map<T: Send, U: Send>(items: Vec<T>, f: impl Fn(T) -> U + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads == 1 || items.len() < 64 {
        return items.into_iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let mut parts: Vec<Vec<T>> = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        parts.push(items.by_ref().take(chunk).collect());
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            parts.into_iter().map(|part| scope.spawn(|| part.into_iter().map(&f).collect::<Vec<U>>())).collect();
        handles.into_iter().flat_map(|h| h.join().expect("signing thread")).collect()
    })
}

fn status_entries(registry_url: &str, authority: &str, index: i64) -> Vec<StatusEntry> {
    ["revocation", "suspension"]
        .into_iter()
        .map(|purpose| StatusEntry {
            purpose,
            list_url: format!("{registry_url}/api/v1/status-lists/{authority}.{purpose}"),
            index: index as u64,
        })
        .collect()
}

fn holder(rng: &mut StdRng) -> String {
    format!("{}{}", SURNAMES[rng.random_range(0..SURNAMES.len())], GIVEN[rng.random_range(0..GIVEN.len())])
}

fn id_number(rng: &mut StdRng, region: &str) -> String {
    format!(
        "{region}{}{:02}{:02}{:03}X",
        rng.random_range(1965..2000),
        rng.random_range(1..13),
        rng.random_range(1..29),
        rng.random_range(0..1000)
    )
}

/// A certificate the committee could lawfully have issued: an evaluation date inside one of its
/// authorizations, up to yesterday, that the full coverage rules accept.
fn candidate(
    record: &CommitteeRecord,
    graph: &AuthorityGraph,
    rng: &mut StdRng,
    today: Date,
    serial: &mut usize,
    holder_key: &HolderIdKey,
) -> Option<TitleSubject> {
    let authorization = &record.authorizations.get(rng.random_range(0..record.authorizations.len().max(1)))?;
    let terms = authorization.history[0].terms.as_ref()?;
    let last = terms.valid_until.min(today - Duration::days(1));
    let span = (last - terms.valid_from).num_days();
    if span < 0 {
        return None;
    }
    let evaluated = terms.valid_from + Duration::days(rng.random_range(0..=span));
    let terms = authorization.terms_on(evaluated);
    let level = terms.levels[rng.random_range(0..terms.levels.len())];
    let (region, own_staff) = match &terms.scope {
        Scope::Regions { regions } => (regions[rng.random_range(0..regions.len())].clone(), false),
        Scope::OwnStaff { .. } => (record.committee.region.clone(), true),
    };
    let specialty = (!terms.specialties.is_empty())
        .then(|| terms.specialties[rng.random_range(0..terms.specialties.len())].clone());
    let query = CoverageQuery {
        series: &terms.series,
        specialty: specialty.as_deref(),
        level,
        region: Some(&region),
        own_staff,
        on: evaluated,
    };
    if !coverage(record, graph, &query).covered {
        return None;
    }
    *serial += 1;
    Some(subject(
        record,
        &terms.series,
        specialty,
        level,
        evaluated,
        &region,
        own_staff,
        *serial,
        &authorization.document_number,
        rng,
        holder_key,
    ))
}

#[allow(clippy::too_many_arguments)]
fn subject(
    record: &CommitteeRecord,
    series: &str,
    specialty: Option<String>,
    level: Level,
    evaluated: Date,
    region: &str,
    own_staff: bool,
    serial: usize,
    approval: &str,
    rng: &mut StdRng,
    holder_key: &HolderIdKey,
) -> TitleSubject {
    let certificate_number = format!("{}-{}-{serial:06}", &record.committee.region[..2], evaluated.format("%Y"));
    TitleSubject {
        subject_type: "ProfessionalTitle".into(),
        format_version: 1,
        holder_name: holder(rng),
        holder_id_digest: Some(holder_key.digest(&certificate_number, &id_number(rng, region))),
        certificate_number,
        series: series.to_string(),
        specialty,
        level,
        title_name: title(series, level),
        obtained_by: ObtainedBy::Evaluation,
        committee_id: record.committee.id.clone(),
        committee_name: record.committee.name.clone(),
        evaluation_date: evaluated,
        evaluation_session: None,
        approval_document: approval.to_string(),
        applicant_region: region.to_string(),
        own_staff,
    }
}

/// The frauds a real registry meets, as files: none of them is registered.
#[allow(clippy::too_many_arguments)]
fn frauds(
    records: &[CommitteeRecord],
    graph: &AuthorityGraph,
    signers: &std::collections::HashMap<String, Signer>,
    leaked: &Signer,
    provinces: &[(String, String)],
    rng: &mut StdRng,
    today: Date,
    serial: &mut usize,
    so_far: &[Example],
    holder_key: &HolderIdKey,
) -> Vec<Example> {
    let mut out = Vec::new();
    let name_of = |a: &str| provinces.iter().find(|p| p.0 == a).map_or(String::new(), |p| p.1.clone());
    let issued = Utc::now() - Duration::hours(1);
    if let Some(valid) = so_far.iter().find(|e| e.name == "valid") {
        let mut forged = valid.credential.clone();
        let raised = match forged["credentialSubject"]["level"].as_str() {
            Some("senior") => "associate_senior",
            _ => "senior",
        };
        forged["credentialSubject"]["level"] = raised.into();
        out.push(Example { name: "forged-signature", description: "有效证书被改高级别，签名不再匹配 / a valid certificate with its level raised: the signature breaks", credential: forged });
    }
    // A title above what the committee may award, signed with a genuine key.
    let above = records.iter().find_map(|r| {
        let a = r.authorizations.iter().find(|a| {
            a.status_on(today) == AuthorizationStatus::Active && !a.terms_on(today).levels.contains(&Level::Senior)
        })?;
        let terms = a.terms_on(today);
        Some((r, terms.series.clone(), first_region(terms, r), a.document_number.clone()))
    });
    if let Some((record, series, region, doc)) = above {
        *serial += 1;
        let subject = subject(
            record,
            &series,
            None,
            Level::Senior,
            today - Duration::days(20),
            &region,
            false,
            *serial,
            &doc,
            rng,
            holder_key,
        );
        let authority = format!("hr-{}", province_of(&record.committee.region));
        if let Some(signer) = signers.get(&authority) {
            let credential = signer.sign(&subject, &authority, &name_of(&authority), issued, &[]);
            out.push(Example {
                name: "above-authorized-level",
                description: "评委会无权评审正高级 / a senior title from a committee not authorized for that level",
                credential,
            });
        }
    }
    // An evaluation held after the committee's approval expired.
    let expired = records.iter().find_map(|r| {
        let a = r.authorizations.iter().find(|a| a.status_on(today) == AuthorizationStatus::Expired)?;
        (!r.authorizations.iter().any(|x| x.status_on(today) == AuthorizationStatus::Active)).then_some((r, a))
    });
    if let Some((record, a)) = expired {
        let terms = a.terms_on(today);
        let region = first_region(terms, record);
        *serial += 1;
        let subject = subject(
            record,
            &terms.series,
            None,
            terms.levels[0],
            terms.valid_until + Duration::days(40),
            &region,
            false,
            *serial,
            &a.document_number,
            rng,
            holder_key,
        );
        let authority = format!("hr-{}", province_of(&record.committee.region));
        if let Some(signer) = signers.get(&authority) {
            let credential = signer.sign(&subject, &authority, &name_of(&authority), issued, &[]);
            out.push(Example {
                name: "expired-approval",
                description: "评审时评委会核准已过期 / evaluated after the committee's approval expired",
                credential,
            });
        }
    }
    // Signed with Guangxi's leaked key after it was reported compromised.
    if let Some(record) = records.iter().find(|r| r.committee.region.starts_with("45") && !r.authorizations.is_empty())
    {
        for _ in 0..50 {
            if let Some(subject) = candidate(record, graph, rng, today, serial, holder_key) {
                let credential = leaked.sign(&subject, "hr-450000", &name_of("hr-450000"), issued, &[]);
                out.push(Example {
                    name: "key-after-compromise",
                    description: "用已泄露的密钥签发 / signed with a key after its compromise",
                    credential,
                });
                break;
            }
        }
    }
    out
}
