//! Writes: row inserts (for one record and for bulk loads alike), the operation executor
//! with its transaction, events, tokens and idempotency keys.

use super::log::{insert_events, next_seq, read_events};
use super::reads::{load_committee_records, load_graph};
use super::*;
use crate::publish::batch::{Batch, Context, PendingEvent, Prefetch};
use crate::publish::event::{CertificateAction, EventPayload, Touched, trusted};
use crate::store::rows::changes_by_number;

async fn insert_authorities(
    conn: &mut Conn,
    rows: &[Authority],
    now: chrono::DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut qb =
            QueryBuilder::<DB>::new("INSERT INTO authorities (id, name, level, region, parent_id, logged_at) ");
        qb.push_values(chunk, |mut b, a: &Authority| {
            b.push_bind(&a.id)
                .push_bind(&a.name)
                .push_bind(a.level.code())
                .push_bind(&a.region)
                .push_bind(&a.parent_id)
                .push_bind(now);
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_delegations(
    conn: &mut Conn,
    rows: &[Delegation],
    now: chrono::DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO delegations (id, authority_id, delegated_by, series, specialties, levels, valid_from, valid_until, document_number, logged_at) ",
        );
        qb.push_values(chunk, |mut b, d: &Delegation| {
            b.push_bind(&d.id)
                .push_bind(&d.authority_id)
                .push_bind(&d.delegated_by)
                .push_bind(&d.series)
                .push_bind(Json(&d.specialties))
                .push_bind(Json(&d.levels))
                .push_bind(d.valid_from)
                .push_bind(d.valid_until)
                .push_bind(&d.document_number)
                .push_bind(now);
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

fn committee_pinyin(c: &Committee) -> String {
    crate::domain::search::pinyin_key(&[&c.name, &c.organizing_unit.name])
}

impl ThisStore {
    /// Fills the pinyin search key of committees written before it existed, a thousand rows
    /// per statement batch; a no-op once every row has one.
    pub(in crate::store) async fn fill_search_keys(&self) -> StoreResult<()> {
        loop {
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT id, name, unit_name FROM committees WHERE name_pinyin = '' ORDER BY id LIMIT 1000",
            )
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut tx = self.pool.begin().await?;
            for (id, name, unit) in &rows {
                sqlx::query("UPDATE committees SET name_pinyin = $1 WHERE id = $2")
                    .bind(crate::domain::search::pinyin_key(&[name, unit]))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
    }
}

async fn insert_committees(conn: &mut Conn, rows: &[Committee], now: chrono::DateTime<Utc>) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO committees (id, name, kind, unit_name, unit_credit_code, authority_id, region, domains, contact, logged_at, name_pinyin) ",
        );
        qb.push_values(chunk, |mut b, c: &Committee| {
            b.push_bind(&c.id)
                .push_bind(&c.name)
                .push_bind(c.kind.code())
                .push_bind(&c.organizing_unit.name)
                .push_bind(&c.organizing_unit.credit_code)
                .push_bind(&c.authority_id)
                .push_bind(&c.region)
                .push_bind(Json(&c.domains))
                .push_bind(&c.contact)
                .push_bind(now)
                .push_bind(committee_pinyin(c));
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts new authorizations with every record of their history.
async fn insert_authorizations(
    conn: &mut Conn,
    rows: &[Authorization],
    now: chrono::DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO authorizations (id, committee_id, series, granted_by, document_number, logged_at) ",
        );
        qb.push_values(chunk, |mut b, a: &Authorization| {
            b.push_bind(&a.id)
                .push_bind(&a.committee_id)
                .push_bind(a.history[0].terms.as_ref().map(|t| t.series.clone()).unwrap_or_default())
                .push_bind(&a.granted_by)
                .push_bind(&a.document_number)
                .push_bind(now);
        });
        qb.build().execute(&mut *conn).await?;
    }
    let records: Vec<_> = rows
        .iter()
        .flat_map(|a| a.history.iter().enumerate().map(move |(seq, r)| (a.id.as_str(), seq as i64, r)))
        .collect();
    insert_records(conn, &records).await
}

async fn insert_records(
    conn: &mut Conn,
    records: &[(&str, i64, &crate::domain::authorization::HistoryRecord)],
) -> Result<(), sqlx::Error> {
    for chunk in records.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO authorization_records (authorization_id, seq, action, effective_on, document_number, note, terms, logged_at) ",
        );
        qb.push_values(chunk, |mut b, (id, seq, r)| {
            b.push_bind(*id)
                .push_bind(*seq)
                .push_bind(r.action.code())
                .push_bind(r.effective_on)
                .push_bind(&r.document_number)
                .push_bind(&r.note)
                .push_bind(r.terms.as_ref().map(Json))
                .push_bind(r.logged_at);
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_sanctions(conn: &mut Conn, rows: &[Sanction]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO sanctions (id, subject_kind, subject_id, subject_name, measure, region, effective_from, effective_until, \
             void_from, decided_by, document_number, legal_basis, summary, logged_at) ",
        );
        qb.push_values(chunk, |mut b, s: &Sanction| {
            b.push_bind(&s.id)
                .push_bind(s.subject.kind.code())
                .push_bind(&s.subject.id)
                .push_bind(&s.subject.name)
                .push_bind(s.measure.code())
                .push_bind(&s.region)
                .push_bind(s.effective_from)
                .push_bind(s.effective_until)
                .push_bind(s.void_from)
                .push_bind(&s.decided_by)
                .push_bind(&s.document_number)
                .push_bind(&s.legal_basis)
                .push_bind(&s.summary)
                .push_bind(s.logged_at);
        });
        qb.build().execute(&mut *conn).await?;
    }
    let lifts: Vec<_> = rows.iter().filter_map(|s| s.lift.as_ref().map(|l| (s.id.as_str(), l))).collect();
    insert_lifts(conn, &lifts).await
}

async fn insert_lifts(conn: &mut Conn, lifts: &[(&str, &crate::domain::sanction::Lift)]) -> Result<(), sqlx::Error> {
    for chunk in lifts.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO sanction_lifts (sanction_id, effective_on, document_number, reason, logged_at) ",
        );
        qb.push_values(chunk, |mut b, (id, l)| {
            b.push_bind(*id)
                .push_bind(l.effective_on)
                .push_bind(&l.document_number)
                .push_bind(&l.reason)
                .push_bind(l.logged_at);
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Loads what `ops` will read into a fresh batch.
async fn load_batch(conn: &mut Conn, actor: &Actor, ops: &[Operation]) -> StoreResult<Batch> {
    let need = Prefetch::of(ops);
    let mut batch = Batch { graph: load_graph(conn).await?, ..Batch::default() };
    let committee_select = format!("SELECT {}", rows::COMMITTEE_COLUMNS);
    let authorization_rows: Vec<AuthorizationRecordRow> = fetch_in(
        conn,
        &format!("SELECT {}", rows::AUTHORIZATION_COLUMNS),
        "a.id",
        &need.authorization_ids,
        " ORDER BY a.committee_id, a.id, r.seq",
    )
    .await?;
    let mut committee_ids = need.committee_ids;
    for a in rows::fold_authorizations(authorization_rows)?.into_values().flatten() {
        committee_ids.insert(a.committee_id.clone());
        batch.add_loaded_authorization(a);
    }
    for row in fetch_in::<CommitteeRow>(conn, &committee_select, "id", &committee_ids, "").await? {
        let c = Committee::try_from(row)?;
        batch.committees.insert(c.id.clone(), c);
    }
    let keys: Vec<(String, String)> =
        fetch_in(conn, "SELECT name, unit_credit_code FROM committees", "unit_credit_code", &need.credit_codes, "")
            .await?;
    batch.committee_keys.extend(keys);
    let grants: Vec<(String, String, String)> = fetch_in(
        conn,
        "SELECT committee_id, series, document_number FROM authorizations",
        "committee_id",
        &need.grant_committee_ids,
        "",
    )
    .await?;
    batch.grant_keys.extend(grants);
    for row in
        fetch_in::<SanctionRow>(conn, &format!("SELECT {}", rows::SANCTION_COLUMNS), "s.id", &need.sanction_ids, "")
            .await?
    {
        let s = Sanction::try_from(row)?;
        batch.sanctions.insert(s.id.clone(), s);
    }
    let keys: Vec<(String, String, String, String)> = fetch_in(
        conn,
        "SELECT subject_kind, COALESCE(subject_id, subject_name, ''), measure, document_number FROM sanctions",
        "document_number",
        &need.sanction_documents,
        "",
    )
    .await?;
    batch.sanction_keys.extend(keys);

    let mut key_rows: Vec<IssuerKeyRow> =
        fetch_in(conn, &format!("SELECT {KEY_COLUMNS}"), "id", &need.key_ids, "").await?;
    key_rows.extend(
        fetch_in::<IssuerKeyRow>(conn, &format!("SELECT {KEY_COLUMNS}"), "public_key", &need.public_keys, "").await?,
    );
    for row in key_rows {
        let key = crate::domain::certificate::IssuerKey::try_from(row)?;
        batch.key_ids_by_public.insert(key.public_key.clone(), key.id.clone());
        batch.keys.insert(key.id.clone(), key);
    }
    for record in load_committee_records(conn, &need.committee_records).await? {
        batch.committee_records.insert(record.committee.id.clone(), record);
    }
    let sessions = super::sessions::load_sessions(conn, "s.id", &need.session_ids).await?;
    let of_committees = super::sessions::load_sessions(conn, "s.committee_id", &need.session_committees).await?;
    for session in sessions.into_iter().chain(of_committees) {
        batch.sessions.insert(session.id.clone(), session);
    }
    for (plan, seed) in super::draws::load_plans(conn, &need.plan_ids).await? {
        batch.plans.insert(plan.id.clone(), (plan, seed.map(|s| s.note)));
    }
    batch.inspection_ids.extend(super::draws::existing_inspections(conn, &need.inspection_ids).await?);
    batch.notice_ids.extend(super::notices::existing_notices(conn, &need.notice_ids).await?);
    for (number, issuer, standing) in super::supervisors::load_supervisors(conn, &need.supervisor_numbers).await? {
        batch.supervisors.insert(number, (issuer, standing));
    }
    let session_committees = batch.sessions.values().map(|s| s.committee_id.clone()).collect();
    batch.session_regions.extend(super::supervisors::committee_regions(conn, &session_committees).await?);
    batch.visit_ids.extend(super::supervisors::existing_visits(conn, &need.visit_ids).await?);
    for (number, entry) in load_certificates(conn, &need.certificate_numbers).await? {
        batch.certificates.insert(number, entry);
    }
    let slots: std::collections::HashSet<String> =
        need.slots.iter().map(|s| format!("{}.{s}", actor.authority_id)).collect();
    let taken: Vec<(Option<String>,)> =
        fetch_in(conn, "SELECT revocation_slot FROM certificates", "revocation_slot", &slots, "").await?;
    let taken2: Vec<(Option<String>,)> =
        fetch_in(conn, "SELECT suspension_slot FROM certificates", "suspension_slot", &slots, "").await?;
    batch.taken_slots.extend(taken.into_iter().chain(taken2).filter_map(|(s,)| s));
    Ok(batch)
}

#[derive(sqlx::FromRow)]
struct CertificateRow {
    number: String,
    credential_sha256: String,
    holder_name: String,
    status_authority: String,
    logged_at: chrono::DateTime<Utc>,
}

/// Registered certificates by number, with their current state.
pub(super) async fn load_certificates(
    conn: &mut Conn,
    numbers: &std::collections::HashSet<String>,
) -> StoreResult<Vec<(String, crate::publish::batch::CertificateEntry)>> {
    use crate::domain::verification::{CertificateState, RegisteredCertificate};
    let rows: Vec<CertificateRow> = fetch_in(
        conn,
        "SELECT number, credential_sha256, holder_name, status_authority, logged_at FROM certificates",
        "number",
        numbers,
        "",
    )
    .await?;
    let changes: Vec<(String, String, String, chrono::DateTime<Utc>)> = fetch_in(
        conn,
        "SELECT number, action, reason, effective_at FROM certificate_status_changes",
        "number",
        numbers,
        " ORDER BY number, seq",
    )
    .await?;
    let by_number = changes_by_number(&changes);
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = by_number.get(r.number.as_str()).map_or(&[][..], Vec::as_slice);
            let state = CertificateState::after(mine.iter().copied());
            let entry = crate::publish::batch::CertificateEntry {
                registered: RegisteredCertificate {
                    number: r.number.clone(),
                    credential_sha256: r.credential_sha256,
                    holder_name: r.holder_name,
                    state,
                    logged_at: r.logged_at,
                },
                status_authority: r.status_authority,
                changes: mine.len(),
            };
            (r.number, entry)
        })
        .collect())
}

/// Writes everything a batch changed, in multi-row statements, and its events.
async fn flush(conn: &mut Conn, batch: &Batch, first_seq: i64, now: chrono::DateTime<Utc>) -> StoreResult<()> {
    let authorities: Vec<Authority> =
        batch.new_authorities.iter().filter_map(|id| batch.graph.get(id).cloned()).collect();
    insert_authorities(conn, &authorities, now).await?;
    for id in &batch.renamed_authorities {
        let name = batch.graph.get(id).map(|a| a.name.clone()).unwrap_or_default();
        sqlx::query("UPDATE authorities SET name = $1 WHERE id = $2").bind(name).bind(id).execute(&mut *conn).await?;
    }
    insert_delegations(conn, &batch.new_delegations, now).await?;
    let committees: Vec<Committee> = batch.new_committees.iter().map(|id| batch.committees[id].clone()).collect();
    insert_committees(conn, &committees, now).await?;
    for id in &batch.amended_committees {
        let c = &batch.committees[id];
        sqlx::query("UPDATE committees SET name = $1, unit_name = $2, unit_credit_code = $3, domains = $4, contact = $5, name_pinyin = $6 WHERE id = $7")
            .bind(&c.name)
            .bind(&c.organizing_unit.name)
            .bind(&c.organizing_unit.credit_code)
            .bind(Json(&c.domains))
            .bind(&c.contact)
            .bind(committee_pinyin(c))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    let authorizations: Vec<Authorization> =
        batch.new_authorizations.iter().map(|id| batch.authorizations[id].clone()).collect();
    insert_authorizations(conn, &authorizations, now).await?;
    insert_records(conn, &batch.appended_records()).await?;
    let sanctions: Vec<Sanction> = batch.new_sanctions.iter().map(|id| batch.sanctions[id].clone()).collect();
    insert_sanctions(conn, &sanctions).await?;
    let lifts: Vec<_> = batch
        .lifted_sanctions
        .iter()
        .filter_map(|id| batch.sanctions[id].lift.as_ref().map(|l| (id.as_str(), l)))
        .collect();
    insert_lifts(conn, &lifts).await?;
    flush_certificates(conn, batch, now).await?;
    super::sessions::flush_sessions(conn, batch).await?;
    super::draws::flush_draws(conn, batch, first_seq).await?;
    super::notices::flush_notices(conn, batch).await?;
    super::supervisors::flush_supervisors(conn, batch).await?;
    insert_events(conn, first_seq, &batch.events).await?;
    Ok(())
}

async fn flush_certificates(conn: &mut Conn, batch: &Batch, now: chrono::DateTime<Utc>) -> StoreResult<()> {
    use crate::domain::certificate::IssuerRef;
    let keys: Vec<_> = batch.new_keys.iter().map(|id| &batch.keys[id]).collect();
    for chunk in keys.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO issuer_keys (id, owner_kind, owner_id, public_key, valid_from, valid_until, retired_at, compromised_at, registered_by, logged_at) ",
        );
        qb.push_values(chunk, |mut b, k| {
            let (kind, owner) = match &k.owner {
                IssuerRef::Authority(a) => ("authority", a.clone()),
                IssuerRef::Committee(c) => ("committee", c.clone()),
            };
            b.push_bind(&k.id)
                .push_bind(kind)
                .push_bind(owner)
                .push_bind(&k.public_key)
                .push_bind(k.valid_from)
                .push_bind(k.valid_until)
                .push_bind(k.retired_at)
                .push_bind(k.compromised_at)
                .push_bind(&k.registered_by)
                .push_bind(now);
        });
        qb.build().execute(&mut *conn).await?;
    }
    for id in &batch.changed_keys {
        let k = &batch.keys[id];
        sqlx::query("UPDATE issuer_keys SET retired_at = $1, compromised_at = $2 WHERE id = $3")
            .bind(k.retired_at)
            .bind(k.compromised_at)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    for chunk in batch.new_certificates.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO certificates (number, credential, credential_sha256, holder_name, issuer, status_authority, committee_id, key_id, \
             revocation_index, suspension_index, revocation_slot, suspension_slot, logged_at) ",
        );
        qb.push_values(chunk, |mut b, c| {
            b.push_bind(&c.number)
                .push_bind(&c.credential)
                .push_bind(&c.credential_sha256)
                .push_bind(&c.holder_name)
                .push_bind(&c.issuer)
                .push_bind(&c.status_authority)
                .push_bind(&c.committee_id)
                .push_bind(&c.key_id)
                .push_bind(c.revocation_index)
                .push_bind(c.suspension_index)
                .push_bind(c.revocation_index.map(|i| format!("{}.revocation#{i}", c.status_authority)))
                .push_bind(c.suspension_index.map(|i| format!("{}.suspension#{i}", c.status_authority)))
                .push_bind(c.logged_at);
        });
        qb.build().execute(&mut *conn).await?;
    }
    for chunk in batch.status_changes.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO certificate_status_changes (number, seq, action, reason, effective_at, logged_at) ",
        );
        qb.push_values(chunk, |mut b, c| {
            b.push_bind(&c.number)
                .push_bind(c.seq)
                .push_bind(c.action)
                .push_bind(&c.reason)
                .push_bind(c.effective_at)
                .push_bind(now);
        });
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Keys and certificates of a trusted bulk load, through the same row writers as the
/// checked path; returns their events.
async fn insert_dataset_certificates(
    conn: &mut Conn,
    ds: &Dataset,
    credential: &str,
    now: chrono::DateTime<Utc>,
) -> StoreResult<Vec<PendingEvent>> {
    let mut batch = Batch::default();
    let mut events = Vec::new();
    let event = trusted_events(credential, now);
    for k in &ds.keys {
        batch.keys.insert(k.id.clone(), k.clone());
        batch.new_keys.push(k.id.clone());
        events.extend(trusted::key(k).into_iter().map(|p| event(&k.registered_by, None, p)));
    }
    for c in &ds.certificates {
        let presented = crate::domain::verification::Presented::new(c.credential.clone());
        let parsed = presented
            .parsed
            .as_ref()
            .map_err(|e| StoreError::Internal(format!("dataset certificate: {}: {}", e.field, e.message)))?;
        let number = parsed.subject.certificate_number.clone();
        batch.new_certificates.push(crate::publish::batch::NewCertificate {
            number: number.clone(),
            credential: String::from_utf8(crate::crypto::jcs(&c.credential)).expect("JCS is UTF-8"),
            credential_sha256: presented.digest(),
            holder_name: parsed.subject.holder_name.clone(),
            issuer: parsed.issuer.urn(),
            status_authority: c.status_authority.clone(),
            committee_id: parsed.subject.committee_id.clone(),
            key_id: c.key_id.clone(),
            revocation_index: Some(c.revocation_index),
            suspension_index: Some(c.suspension_index),
            logged_at: c.logged_at,
        });
        events.push(event(&c.status_authority, None, trusted::certificate_issued(&number, &presented.digest())));
        for (seq, (action, reason, at)) in c.changes.iter().enumerate() {
            let action = CertificateAction::parse(action).ok_or_else(|| {
                StoreError::Internal(format!("dataset certificate {number}: unknown status change {action:?}"))
            })?;
            batch.status_changes.push(crate::publish::batch::StatusChange {
                number: number.clone(),
                seq: seq as i64,
                action: action.code(),
                reason: reason.clone(),
                effective_at: *at,
            });
            events.push(event(&c.status_authority, None, trusted::certificate_change(&number, action, reason, *at)));
        }
    }
    flush_certificates(conn, &batch, now).await?;
    Ok(events)
}

/// Makes the events of a trusted bulk load: attributed to `credential`, logged `now`,
/// never back-dated.
fn trusted_events(
    credential: &str,
    now: chrono::DateTime<Utc>,
) -> impl Fn(&str, Option<crate::domain::Date>, EventPayload) -> PendingEvent + '_ {
    move |authority, effective_on, payload| PendingEvent {
        kind: payload.operation.kind().to_string(),
        entity_type: payload.operation.entity_type(),
        entity_id: payload.id.clone(),
        authority_id: authority.to_string(),
        credential: credential.to_string(),
        logged_at: now,
        effective_on,
        back_dated: false,
        touched: Touched::Everything,
        payload: payload.to_json(),
    }
}

/// Events for records loaded in bulk, attributed to the authority that decided each.
fn dataset_events(ds: &Dataset, credential: &str, now: chrono::DateTime<Utc>) -> Vec<PendingEvent> {
    let event = trusted_events(credential, now);
    let mut events = Vec::new();
    for a in &ds.authorities {
        events.push(event(a.parent_id.as_deref().unwrap_or(&a.id), None, trusted::authority(a)));
    }
    for d in &ds.delegations {
        events.push(event(&d.delegated_by, Some(d.valid_from), trusted::delegation(d)));
    }
    for c in &ds.committees {
        events.push(event(&c.authority_id, None, trusted::committee(c)));
    }
    for a in &ds.authorizations {
        for r in &a.history {
            if let Some(payload) = trusted::authorization_record(a, r) {
                events.push(event(&a.granted_by, Some(r.effective_on), payload));
            }
        }
    }
    for s in &ds.sanctions {
        events.push(event(&s.decided_by, Some(s.effective_from), trusted::sanction(s)));
        if let Some(l) = &s.lift {
            events.push(event(&s.decided_by, Some(l.effective_on), trusted::sanction_lift(&s.id, l)));
        }
    }
    events
}

/// The answer stored for an idempotency key, if any.
async fn stored_answer(conn: &mut Conn, actor: &Actor, idem: &Idempotency) -> StoreResult<Option<WriteOutcome>> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT request_sha256, response FROM idempotency_keys WHERE authority_id = $1 AND key = $2")
            .bind(&actor.authority_id)
            .bind(&idem.key)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((request, response)) = row else { return Ok(None) };
    if request != idem.request_sha256 {
        return Err(StoreError::Refused(Violation::conflict(
            "idempotency_key_reused",
            "Idempotency-Key",
            "该 Idempotency-Key 已用于另一个请求",
            "this Idempotency-Key was already used with a different request",
        )));
    }
    let applied =
        serde_json::from_str(&response).map_err(|e| StoreError::Corrupt(format!("stored idempotent answer: {e}")))?;
    Ok(Some(WriteOutcome::Replayed(applied)))
}

#[async_trait::async_trait]
impl Publishing for ThisStore {
    async fn import_dataset(&self, ds: &Dataset, credential: &str) -> StoreResult<()> {
        let now = crate::domain::log::log_time(Utc::now());
        let mut tx = self.begin_write().await?;
        let first_seq = next_seq(&mut tx).await?;
        insert_authorities(&mut tx, &ds.authorities, now).await?;
        insert_delegations(&mut tx, &ds.delegations, now).await?;
        insert_committees(&mut tx, &ds.committees, now).await?;
        insert_authorizations(&mut tx, &ds.authorizations, now).await?;
        insert_sanctions(&mut tx, &ds.sanctions).await?;
        let mut events = dataset_events(ds, credential, now);
        events.extend(insert_dataset_certificates(&mut tx, ds, credential, now).await?);
        insert_events(&mut tx, first_seq, &events).await?;
        tx.commit().await?;
        self.wrote(first_seq + events.len() as i64);
        Ok(())
    }

    /// Runs under the write lock, which every writer on every node takes: an idempotency key
    /// is checked and stored by one writer at a time, so two requests with the same key
    /// cannot both get past `stored_answer`.
    async fn execute_from(
        &self,
        actor: &Actor,
        ops: &mut dyn OperationSource,
        idempotency: Option<&Idempotency>,
        progress: Option<crate::store::Progress<'_>>,
    ) -> StoreResult<WriteOutcome> {
        let mut tx = self.begin_write().await?;
        if let Some(idem) = idempotency
            && let Some(answer) = stored_answer(&mut tx, actor, idem).await?
        {
            return Ok(answer);
        }
        let cx = Context { actor, now: crate::domain::log::log_time(Utc::now()), today: crate::store::today() };
        let mut applied = Vec::new();
        let mut done = 0;
        // Each chunk is checked against the state the chunks before it wrote in this
        // transaction, then written; a chunk with broken rules ends the write.
        loop {
            let chunk = ops.next_chunk(EXECUTE_CHUNK);
            if chunk.is_empty() {
                break;
            }
            let (positions, chunk): (Vec<usize>, Vec<Operation>) = chunk.into_iter().unzip();
            let mut batch = load_batch(&mut tx, actor, &chunk).await?;
            let mut rejected = Vec::new();
            for (op, position) in chunk.iter().zip(&positions) {
                if let Err(violation) = batch.apply(&cx, op) {
                    rejected.push(crate::domain::publish::LineViolation { line: *position, violation });
                    if rejected.len() >= crate::domain::publish::MAX_REPORTED_LINES {
                        break;
                    }
                }
                done += 1;
                if let Some(report) = progress
                    && done % 1000 == 0
                {
                    report(done);
                }
            }
            if !rejected.is_empty() {
                tx.rollback().await?;
                return Err(StoreError::Rejected(rejected));
            }
            let first_seq = next_seq(&mut tx).await?;
            tracing::debug!(operations = chunk.len(), events.first = first_seq, "writing a chunk");
            flush(&mut tx, &batch, first_seq, cx.now).await?;
            applied.extend(batch.applied(first_seq));
        }
        if let Some(report) = progress {
            report(done);
        }
        if let Some(idem) = idempotency {
            let response = serde_json::to_string(&applied).map_err(|e| StoreError::Internal(e.to_string()))?;
            sqlx::query(
                "INSERT INTO idempotency_keys (authority_id, key, request_sha256, status, response, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&actor.authority_id)
            .bind(&idem.key)
            .bind(&idem.request_sha256)
            .bind(201_i32)
            .bind(response)
            .bind(cx.now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        if let Some(last) = applied.last() {
            self.wrote(last.event_seq + 1);
        }
        Ok(WriteOutcome::Applied(applied))
    }

    async fn events_after(&self, filter: &EventFilter, after: Option<i64>, limit: u32) -> StoreResult<Vec<Event>> {
        let mut conn = self.pool.acquire().await?;
        read_events(&mut conn, filter, after, limit).await
    }
}
