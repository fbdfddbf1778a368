//! Writes, shared by both databases like the reads in `sql.rs`: row inserts (used for one
//! record and for bulk loads alike), the operation executor with its per-operation
//! transaction logic, events, tokens and idempotency keys.

macro_rules! sql_writes {
    ($store:ty, $db:ty) => {
        type Conn = <$db as sqlx::Database>::Connection;

        /// One row of the event table, before it has a sequence number.
        struct NewEvent {
            kind: String,
            entity_type: &'static str,
            entity_id: String,
            authority_id: String,
            credential: String,
            logged_at: chrono::DateTime<Utc>,
            effective_on: Option<$crate::domain::Date>,
            back_dated: bool,
            payload: String,
        }

        const EVENT_INSERT: &str =
            "INSERT INTO events (kind, entity_type, entity_id, authority_id, credential, logged_at, effective_on, back_dated, payload) ";

        async fn insert_events(conn: &mut Conn, events: &[NewEvent]) -> Result<(), sqlx::Error> {
            for chunk in events.chunks(INSERT_CHUNK) {
                let mut qb = QueryBuilder::<$db>::new(EVENT_INSERT);
                qb.push_values(chunk, |mut b, e| {
                    b.push_bind(e.kind.clone())
                        .push_bind(e.entity_type)
                        .push_bind(e.entity_id.clone())
                        .push_bind(e.authority_id.clone())
                        .push_bind(e.credential.clone())
                        .push_bind(e.logged_at)
                        .push_bind(e.effective_on)
                        .push_bind(e.back_dated)
                        .push_bind(e.payload.clone());
                });
                qb.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        async fn insert_event(conn: &mut Conn, e: NewEvent) -> Result<i64, sqlx::Error> {
            let mut qb = QueryBuilder::<$db>::new(EVENT_INSERT);
            qb.push_values(std::iter::once(e), |mut b, e| {
                b.push_bind(e.kind)
                    .push_bind(e.entity_type)
                    .push_bind(e.entity_id)
                    .push_bind(e.authority_id)
                    .push_bind(e.credential)
                    .push_bind(e.logged_at)
                    .push_bind(e.effective_on)
                    .push_bind(e.back_dated)
                    .push_bind(e.payload);
            });
            qb.push(" RETURNING seq");
            qb.build_query_scalar::<i64>().fetch_one(&mut *conn).await
        }

        async fn insert_authorities(conn: &mut Conn, rows: &[Authority], now: chrono::DateTime<Utc>) -> Result<(), sqlx::Error> {
            for chunk in rows.chunks(INSERT_CHUNK) {
                let mut qb = QueryBuilder::<$db>::new("INSERT INTO authorities (id, name, level, region, parent_id, logged_at) ");
                qb.push_values(chunk, |mut b, a: &Authority| {
                    b.push_bind(&a.id).push_bind(&a.name).push_bind(a.level.code()).push_bind(&a.region).push_bind(&a.parent_id).push_bind(now);
                });
                qb.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        async fn insert_delegations(conn: &mut Conn, rows: &[Delegation], now: chrono::DateTime<Utc>) -> Result<(), sqlx::Error> {
            for chunk in rows.chunks(INSERT_CHUNK) {
                let mut qb = QueryBuilder::<$db>::new(
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

        async fn insert_committees(conn: &mut Conn, rows: &[Committee], now: chrono::DateTime<Utc>) -> Result<(), sqlx::Error> {
            for chunk in rows.chunks(INSERT_CHUNK) {
                let mut qb = QueryBuilder::<$db>::new(
                    "INSERT INTO committees (id, name, kind, unit_name, unit_credit_code, authority_id, region, domains, contact, logged_at) ",
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
                        .push_bind(now);
                });
                qb.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// Inserts authorizations and their records from `first_record` on (0 for new ones).
        async fn insert_authorizations(conn: &mut Conn, rows: &[Authorization], now: chrono::DateTime<Utc>) -> Result<(), sqlx::Error> {
            for chunk in rows.chunks(INSERT_CHUNK) {
                let mut qb = QueryBuilder::<$db>::new("INSERT INTO authorizations (id, committee_id, series, granted_by, document_number, logged_at) ");
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
            let records: Vec<_> =
                rows.iter().flat_map(|a| a.history.iter().enumerate().map(move |(seq, r)| (a.id.as_str(), seq as i64, r))).collect();
            insert_records(conn, &records).await
        }

        async fn insert_records(
            conn: &mut Conn,
            records: &[(&str, i64, &$crate::domain::authorization::HistoryRecord)],
        ) -> Result<(), sqlx::Error> {
            for chunk in records.chunks(INSERT_CHUNK) {
                let mut qb = QueryBuilder::<$db>::new(
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
                let mut qb = QueryBuilder::<$db>::new(
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
            for chunk in lifts.chunks(INSERT_CHUNK) {
                let mut qb = QueryBuilder::<$db>::new("INSERT INTO sanction_lifts (sanction_id, effective_on, document_number, reason, logged_at) ");
                qb.push_values(chunk, |mut b, (id, l)| {
                    b.push_bind(*id).push_bind(l.effective_on).push_bind(&l.document_number).push_bind(&l.reason).push_bind(l.logged_at);
                });
                qb.build().execute(&mut *conn).await?;
            }
            Ok(())
        }

        async fn load_graph(conn: &mut Conn) -> StoreResult<AuthorityGraph> {
            let authorities: Vec<AuthorityRow> =
                sqlx::query_as("SELECT id, name, level, region, parent_id FROM authorities").fetch_all(&mut *conn).await?;
            let delegations: Vec<DelegationRow> = sqlx::query_as(
                "SELECT id, authority_id, delegated_by, series, specialties, levels, valid_from, valid_until, document_number FROM delegations",
            )
            .fetch_all(&mut *conn)
            .await?;
            let authorities = authorities.into_iter().map(Authority::try_from).collect::<Result<_, _>>()?;
            Ok(AuthorityGraph::new(authorities, delegations.into_iter().map(Delegation::from).collect()))
        }

        async fn load_committee(conn: &mut Conn, id: &str) -> StoreResult<Option<Committee>> {
            let row: Option<CommitteeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {} WHERE id = $1", rows::COMMITTEE_COLUMNS)))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            row.map(Committee::try_from).transpose()
        }

        async fn load_authorization(conn: &mut Conn, id: &str) -> StoreResult<Option<Authorization>> {
            let rows: Vec<AuthorizationRecordRow> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {} WHERE a.id = $1 ORDER BY r.seq", rows::AUTHORIZATION_COLUMNS)))
                    .bind(id)
                    .fetch_all(&mut *conn)
                    .await?;
            Ok(rows::fold_authorizations(rows)?.into_values().flatten().next())
        }

        async fn load_sanction(conn: &mut Conn, id: &str) -> StoreResult<Option<Sanction>> {
            let row: Option<SanctionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {} WHERE s.id = $1", rows::SANCTION_COLUMNS)))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            row.map(Sanction::try_from).transpose()
        }

        async fn row_exists(conn: &mut Conn, sql: &'static str, binds: &[&str]) -> StoreResult<bool> {
            let mut query = sqlx::query_scalar::<_, i32>(sql);
            for b in binds {
                query = query.bind(b.to_string());
            }
            Ok(query.fetch_optional(&mut *conn).await?.is_some())
        }

        /// A broken rule is reported per operation; anything else aborts the whole write.
        enum OpError {
            Rule(Violation),
            Store(AppError),
        }
        impl From<Violation> for OpError {
            fn from(v: Violation) -> Self {
                OpError::Rule(v)
            }
        }
        impl From<AppError> for OpError {
            fn from(e: AppError) -> Self {
                OpError::Store(e)
            }
        }
        impl From<sqlx::Error> for OpError {
            fn from(e: sqlx::Error) -> Self {
                OpError::Store(e.into())
            }
        }

        struct OpContext<'a> {
            actor: &'a Actor,
            now: chrono::DateTime<Utc>,
            today: $crate::domain::Date,
        }

        impl OpContext<'_> {
            fn event(&self, op: &Operation, entity_type: &'static str, entity_id: &str, extra: Option<serde_json::Value>) -> NewEvent {
                let effective_on = publish::effective_on(op);
                let back_dated = publish::back_dating_matters(op) && effective_on.is_some_and(|d| publish::is_back_dated(d, self.today));
                let mut payload = serde_json::json!({ "id": entity_id, "operation": op });
                if let Some(extra) = extra {
                    payload["before"] = extra;
                }
                NewEvent {
                    kind: op.event_kind().to_string(),
                    entity_type,
                    entity_id: entity_id.to_string(),
                    authority_id: self.actor.authority_id.clone(),
                    credential: self.actor.credential.clone(),
                    logged_at: self.now,
                    effective_on,
                    back_dated,
                    payload: payload.to_string(),
                }
            }
        }

        async fn record(conn: &mut Conn, event: NewEvent) -> Result<Applied, OpError> {
            let (op, id, back_dated) = (event.kind.clone(), event.entity_id.clone(), event.back_dated);
            let event_seq = insert_event(conn, event).await?;
            Ok(Applied { op, id, event_seq, back_dated })
        }

        fn taken_id(field: &str, id: &str) -> Violation {
            Violation::conflict("duplicate_id", field, format!("编号“{id}”已被使用"), format!("the id {id:?} is already taken"))
        }

        async fn apply_one(conn: &mut Conn, graph: &mut AuthorityGraph, cx: &OpContext<'_>, op: &Operation) -> Result<Applied, OpError> {
            publish::check_role(cx.actor, op)?;
            match op {
                Operation::CreateAuthority(new) => {
                    publish::check_new_authority(graph, cx.actor, new)?;
                    let authority = Authority {
                        id: new.id.clone().unwrap_or_else(|| $crate::tokens::new_id("auth_")),
                        name: new.name.trim().to_string(),
                        level: new.level,
                        region: new.region.clone(),
                        parent_id: Some(new.parent_id.clone()),
                    };
                    insert_authorities(conn, std::slice::from_ref(&authority), cx.now).await?;
                    let event = cx.event(op, "authority", &authority.id, None);
                    graph.add_authority(authority);
                    record(conn, event).await
                }
                Operation::AmendAuthority(a) => {
                    publish::check_authority_amendment(graph, cx.actor, a)?;
                    let before = graph.get(&a.authority_id).map(|x| serde_json::json!(x));
                    sqlx::query("UPDATE authorities SET name = $1 WHERE id = $2").bind(a.name.trim()).bind(&a.authority_id).execute(&mut *conn).await?;
                    graph.rename(&a.authority_id, a.name.trim());
                    record(conn, cx.event(op, "authority", &a.authority_id, before)).await
                }
                Operation::Delegate(d) => {
                    let mut delegation = publish::check_delegation(graph, cx.actor, d)?;
                    if row_exists(conn, "SELECT 1 FROM delegations WHERE authority_id = $1 AND series = $2 AND document_number = $3", &[
                        &d.authority_id,
                        &d.series,
                        &d.document_number,
                    ])
                    .await?
                    {
                        return Err(Violation::duplicate_document("document_number", &d.document_number).into());
                    }
                    delegation.id = $crate::tokens::new_id("dl_");
                    insert_delegations(conn, std::slice::from_ref(&delegation), cx.now).await?;
                    let event = cx.event(op, "delegation", &delegation.id, None);
                    graph.add_delegation(delegation);
                    record(conn, event).await
                }
                Operation::CreateCommittee(c) => {
                    publish::check_new_committee(graph, cx.actor, c)?;
                    if let Some(id) = &c.id {
                        publish::non_empty("id", id)?;
                        if row_exists(conn, "SELECT 1 FROM committees WHERE id = $1", &[id]).await? {
                            return Err(taken_id("id", id).into());
                        }
                    }
                    if row_exists(conn, "SELECT 1 FROM committees WHERE name = $1 AND unit_credit_code = $2", &[&c.name, &c.organizing_unit.credit_code]).await? {
                        return Err(Violation::conflict(
                            "duplicate_committee",
                            "name",
                            "同一组建单位下已有同名评审委员会",
                            "a committee with this name and organizing unit already exists",
                        )
                        .into());
                    }
                    let committee = Committee {
                        id: c.id.clone().unwrap_or_else(|| $crate::tokens::new_id("cmt_")),
                        name: c.name.trim().to_string(),
                        kind: c.kind,
                        organizing_unit: c.organizing_unit.clone(),
                        authority_id: cx.actor.authority_id.clone(),
                        region: c.region.clone(),
                        domains: c.domains.clone(),
                        contact: c.contact.clone(),
                    };
                    insert_committees(conn, std::slice::from_ref(&committee), cx.now).await?;
                    record(conn, cx.event(op, "committee", &committee.id, None)).await
                }
                Operation::AmendCommittee(a) => {
                    let before = load_committee(conn, &a.committee_id)
                        .await?
                        .ok_or_else(|| Violation::unknown("committee_id", "评审委员会", "committee", &a.committee_id))?;
                    publish::check_committee_amendment(graph, cx.actor, &before, a)?;
                    let unit = a.organizing_unit.clone().unwrap_or_else(|| before.organizing_unit.clone());
                    sqlx::query("UPDATE committees SET name = $1, unit_name = $2, unit_credit_code = $3, domains = $4, contact = $5 WHERE id = $6")
                        .bind(a.name.clone().unwrap_or_else(|| before.name.clone()))
                        .bind(unit.name)
                        .bind(unit.credit_code)
                        .bind(Json(a.domains.clone().unwrap_or_else(|| before.domains.clone())))
                        .bind(a.contact.clone().or_else(|| before.contact.clone()))
                        .bind(&a.committee_id)
                        .execute(&mut *conn)
                        .await?;
                    record(conn, cx.event(op, "committee", &a.committee_id, Some(serde_json::json!(before)))).await
                }
                Operation::GrantAuthorization(g) => {
                    let committee = load_committee(conn, &g.committee_id)
                        .await?
                        .ok_or_else(|| Violation::unknown("committee_id", "评审委员会", "committee", &g.committee_id))?;
                    let terms = publish::check_grant(graph, cx.actor, &committee, g)?;
                    if row_exists(conn, "SELECT 1 FROM authorizations WHERE committee_id = $1 AND series = $2 AND document_number = $3", &[
                        &g.committee_id,
                        &g.series,
                        &g.document_number,
                    ])
                    .await?
                    {
                        return Err(Violation::duplicate_document("document_number", &g.document_number).into());
                    }
                    if let Some(id) = &g.id {
                        publish::non_empty("id", id)?;
                        if row_exists(conn, "SELECT 1 FROM authorizations WHERE id = $1", &[id]).await? {
                            return Err(taken_id("id", id).into());
                        }
                    }
                    let authorization = Authorization {
                        id: g.id.clone().unwrap_or_else(|| $crate::tokens::new_id("az_")),
                        committee_id: committee.id.clone(),
                        granted_by: cx.actor.authority_id.clone(),
                        document_number: g.document_number.clone(),
                        history: vec![$crate::domain::authorization::HistoryRecord {
                            action: $crate::domain::authorization::Action::Granted,
                            effective_on: g.valid_from,
                            document_number: g.document_number.clone(),
                            note: g.note.clone(),
                            logged_at: cx.now,
                            terms: Some(terms),
                        }],
                    };
                    insert_authorizations(conn, std::slice::from_ref(&authorization), cx.now).await?;
                    record(conn, cx.event(op, "authorization", &authorization.id, None)).await
                }
                Operation::AmendAuthorization(m) => {
                    let (authorization, committee) = authorization_and_committee(conn, &m.authorization_id).await?;
                    let terms = publish::check_amendment(graph, cx.actor, &committee, &authorization, m)?;
                    append_record(conn, cx, op, &authorization, $crate::domain::authorization::Action::Amended, m.effective_on, &m.document_number, &m.note, Some(terms))
                        .await
                }
                Operation::SuspendAuthorization(a) | Operation::ReinstateAuthorization(a) | Operation::WithdrawAuthorization(a) => {
                    use $crate::domain::authorization::Action;
                    let action = match op {
                        Operation::SuspendAuthorization(_) => Action::Suspended,
                        Operation::ReinstateAuthorization(_) => Action::Reinstated,
                        _ => Action::Withdrawn,
                    };
                    let (authorization, _) = authorization_and_committee(conn, &a.authorization_id).await?;
                    publish::check_act(graph, cx.actor, &authorization, action, a.effective_on, &a.document_number)?;
                    append_record(conn, cx, op, &authorization, action, a.effective_on, &a.document_number, &a.note, None).await
                }
                Operation::PublishSanction(s) => {
                    let committee = match (s.subject.kind, &s.subject.id) {
                        ($crate::domain::sanction::SubjectKind::Committee, Some(id)) => load_committee(conn, id).await?,
                        _ => None,
                    };
                    let region = publish::check_sanction(graph, cx.actor, committee.as_ref(), s)?;
                    let subject_key = s.subject.id.clone().or_else(|| s.subject.name.clone()).unwrap_or_default();
                    if row_exists(
                        conn,
                        "SELECT 1 FROM sanctions WHERE subject_kind = $1 AND COALESCE(subject_id, subject_name, '') = $2 AND measure = $3 AND document_number = $4",
                        &[s.subject.kind.code(), &subject_key, s.measure.code(), &s.document_number],
                    )
                    .await?
                    {
                        return Err(Violation::duplicate_document("document_number", &s.document_number).into());
                    }
                    if let Some(id) = &s.id {
                        publish::non_empty("id", id)?;
                        if row_exists(conn, "SELECT 1 FROM sanctions WHERE id = $1", &[id]).await? {
                            return Err(taken_id("id", id).into());
                        }
                    }
                    let sanction = Sanction {
                        id: s.id.clone().unwrap_or_else(|| $crate::tokens::new_id("sx_")),
                        subject: s.subject.clone(),
                        measure: s.measure,
                        region,
                        effective_from: s.effective_from,
                        effective_until: s.effective_until.or_else(|| publish::default_until(s.measure, s.effective_from)),
                        void_from: s.void_from,
                        decided_by: cx.actor.authority_id.clone(),
                        document_number: s.document_number.clone(),
                        legal_basis: s.legal_basis.clone(),
                        summary: s.summary.clone(),
                        logged_at: cx.now,
                        lift: None,
                    };
                    insert_sanctions(conn, std::slice::from_ref(&sanction)).await?;
                    record(conn, cx.event(op, "sanction", &sanction.id, None)).await
                }
                Operation::LiftSanction(l) => {
                    let sanction = load_sanction(conn, &l.sanction_id)
                        .await?
                        .ok_or_else(|| Violation::unknown("sanction_id", "惩戒记录", "sanction", &l.sanction_id))?;
                    publish::check_lift(graph, cx.actor, &sanction, l)?;
                    sqlx::query("INSERT INTO sanction_lifts (sanction_id, effective_on, document_number, reason, logged_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(&l.sanction_id)
                        .bind(l.effective_on)
                        .bind(&l.document_number)
                        .bind(&l.reason)
                        .bind(cx.now)
                        .execute(&mut *conn)
                        .await?;
                    record(conn, cx.event(op, "sanction", &l.sanction_id, None)).await
                }
            }
        }

        async fn authorization_and_committee(conn: &mut Conn, id: &str) -> Result<(Authorization, Committee), OpError> {
            let authorization =
                load_authorization(conn, id).await?.ok_or_else(|| Violation::unknown("authorization_id", "评审权限", "authorization", id))?;
            let committee = load_committee(conn, &authorization.committee_id)
                .await?
                .ok_or_else(|| AppError::Internal(format!("authorization {id} names a missing committee")))?;
            Ok((authorization, committee))
        }

        #[allow(clippy::too_many_arguments)]
        async fn append_record(
            conn: &mut Conn,
            cx: &OpContext<'_>,
            op: &Operation,
            authorization: &Authorization,
            action: $crate::domain::authorization::Action,
            effective_on: $crate::domain::Date,
            document_number: &str,
            note: &Option<String>,
            terms: Option<$crate::domain::authorization::Terms>,
        ) -> Result<Applied, OpError> {
            let record_row = $crate::domain::authorization::HistoryRecord {
                action,
                effective_on,
                document_number: document_number.to_string(),
                note: note.clone(),
                logged_at: cx.now,
                terms,
            };
            insert_records(conn, &[(authorization.id.as_str(), authorization.history.len() as i64, &record_row)]).await?;
            record(conn, cx.event(op, "authorization", &authorization.id, None)).await
        }

        /// Events for records loaded in bulk, attributed to the authority that decided each.
        fn dataset_events(ds: &Dataset, credential: &str, now: chrono::DateTime<Utc>) -> Vec<NewEvent> {
            let event = |kind: &str, entity_type: &'static str, id: &str, authority: &str, effective_on, payload: serde_json::Value| NewEvent {
                kind: kind.to_string(),
                entity_type,
                entity_id: id.to_string(),
                authority_id: authority.to_string(),
                credential: credential.to_string(),
                logged_at: now,
                effective_on,
                back_dated: false,
                payload: payload.to_string(),
            };
            let mut events = Vec::new();
            for a in &ds.authorities {
                events.push(event("authority.created", "authority", &a.id, a.parent_id.as_deref().unwrap_or(&a.id), None, serde_json::json!(a)));
            }
            for d in &ds.delegations {
                events.push(event("delegation.granted", "delegation", &d.id, &d.delegated_by, Some(d.valid_from), serde_json::json!(d)));
            }
            for c in &ds.committees {
                events.push(event("committee.created", "committee", &c.id, &c.authority_id, None, serde_json::json!(c)));
            }
            for a in &ds.authorizations {
                for r in &a.history {
                    let kind = format!("authorization.{}", r.action.code());
                    let payload = serde_json::json!({ "id": a.id, "committee_id": a.committee_id, "record": r });
                    events.push(event(&kind, "authorization", &a.id, &a.granted_by, Some(r.effective_on), payload));
                }
            }
            for s in &ds.sanctions {
                events.push(event("sanction.published", "sanction", &s.id, &s.decided_by, Some(s.effective_from), serde_json::json!(s)));
                if let Some(l) = &s.lift {
                    events.push(event("sanction.lifted", "sanction", &s.id, &s.decided_by, Some(l.effective_on), serde_json::json!(l)));
                }
            }
            events
        }

        #[derive(sqlx::FromRow)]
        struct TokenRow {
            id: String,
            authority_id: String,
            role: String,
            label: Option<String>,
            created_at: chrono::DateTime<Utc>,
            created_by: String,
            revoked_at: Option<chrono::DateTime<Utc>>,
            last_used_at: Option<chrono::DateTime<Utc>>,
        }

        impl TryFrom<TokenRow> for TokenInfo {
            type Error = AppError;
            fn try_from(r: TokenRow) -> Result<Self, AppError> {
                let role = Role::parse(&r.role).ok_or_else(|| AppError::Internal(format!("unknown role {:?} in the database", r.role)))?;
                Ok(TokenInfo {
                    id: r.id,
                    authority_id: r.authority_id,
                    role,
                    label: r.label,
                    created_at: r.created_at,
                    created_by: r.created_by,
                    revoked_at: r.revoked_at,
                    last_used_at: r.last_used_at,
                })
            }
        }

        const TOKEN_COLUMNS: &str = "id, authority_id, role, label, created_at, created_by, revoked_at, last_used_at FROM api_tokens";

        #[derive(sqlx::FromRow)]
        struct EventRow {
            seq: i64,
            kind: String,
            entity_type: String,
            entity_id: String,
            authority_id: String,
            credential: String,
            logged_at: chrono::DateTime<Utc>,
            effective_on: Option<$crate::domain::Date>,
            back_dated: bool,
            payload: String,
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
                return Err(AppError::Rule(Violation::conflict(
                    "idempotency_key_reused",
                    "Idempotency-Key",
                    "该 Idempotency-Key 已用于另一个请求",
                    "this Idempotency-Key was already used with a different request",
                )));
            }
            let applied = serde_json::from_str(&response).map_err(|e| AppError::Internal(format!("stored idempotent answer: {e}")))?;
            Ok(Some(WriteOutcome::Replayed(applied)))
        }

        impl $store {
            async fn execute_in_transaction(
                &self,
                actor: &Actor,
                ops: &[Operation],
                idempotency: Option<&Idempotency>,
                progress: Option<$crate::store::Progress<'_>>,
            ) -> StoreResult<WriteOutcome> {
                let mut tx = self.pool.begin().await?;
                if let Some(idem) = idempotency
                    && let Some(answer) = stored_answer(&mut tx, actor, idem).await?
                {
                    return Ok(answer);
                }
                let mut graph = load_graph(&mut tx).await?;
                let cx = OpContext { actor, now: Utc::now(), today: $crate::store::today() };
                let mut applied = Vec::with_capacity(ops.len());
                let mut rejected = Vec::new();
                for (i, op) in ops.iter().enumerate() {
                    match apply_one(&mut tx, &mut graph, &cx, op).await {
                        Ok(a) => applied.push(a),
                        Err(OpError::Rule(violation)) => {
                            rejected.push($crate::error::LineViolation { line: i + 1, violation });
                            if rejected.len() >= $crate::error::MAX_REPORTED_LINES {
                                break;
                            }
                        }
                        Err(OpError::Store(e)) => return Err(e),
                    }
                    if let Some(report) = progress
                        && ((i + 1) % 1000 == 0 || i + 1 == ops.len())
                    {
                        report(i + 1);
                    }
                }
                if !rejected.is_empty() {
                    tx.rollback().await?;
                    return Err(AppError::Rejected(rejected));
                }
                if let Some(idem) = idempotency {
                    let response = serde_json::to_string(&applied).map_err(|e| AppError::Internal(e.to_string()))?;
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
                Ok(WriteOutcome::Applied(applied))
            }
        }

        /// The write half of `Store`; the trait impl in `sql.rs` delegates here.
        impl $store {
            async fn import_dataset_impl(&self, ds: &Dataset, credential: &str) -> StoreResult<()> {
                let now = Utc::now();
                let mut tx = self.pool.begin().await?;
                insert_authorities(&mut tx, &ds.authorities, now).await?;
                insert_delegations(&mut tx, &ds.delegations, now).await?;
                insert_committees(&mut tx, &ds.committees, now).await?;
                insert_authorizations(&mut tx, &ds.authorizations, now).await?;
                insert_sanctions(&mut tx, &ds.sanctions).await?;
                insert_events(&mut tx, &dataset_events(ds, credential, now)).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn execute_impl(
                &self,
                actor: &Actor,
                ops: &[Operation],
                idempotency: Option<&Idempotency>,
                progress: Option<$crate::store::Progress<'_>>,
            ) -> StoreResult<WriteOutcome> {
                match self.execute_in_transaction(actor, ops, idempotency, progress).await {
                    // Two identical requests raced: the loser finds the winner's answer.
                    Err(AppError::Database(e)) if idempotency.is_some() && e.as_database_error().is_some_and(|d| d.is_unique_violation()) => {
                        let mut conn = self.pool.acquire().await?;
                        match stored_answer(&mut conn, actor, idempotency.expect("checked above")).await? {
                            Some(answer) => Ok(answer),
                            None => Err(AppError::Database(e)),
                        }
                    }
                    other => other,
                }
            }

            async fn events_after_impl(&self, filter: &EventFilter, after: Option<i64>, limit: u32) -> StoreResult<Vec<Event>> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT seq, kind, entity_type, entity_id, authority_id, credential, logged_at, effective_on, back_dated, payload FROM events WHERE 1 = 1",
                );
                if let Some(after) = after {
                    qb.push(" AND seq > ").push_bind(after);
                }
                if let Some(a) = &filter.authority_id {
                    qb.push(" AND authority_id = ").push_bind(a.clone());
                }
                if let Some(k) = &filter.kind {
                    qb.push(" AND kind = ").push_bind(k.clone());
                }
                if let Some(e) = &filter.entity_id {
                    qb.push(" AND entity_id = ").push_bind(e.clone());
                }
                qb.push(" ORDER BY seq LIMIT ").push_bind(i64::from(limit));
                let rows: Vec<EventRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows
                    .into_iter()
                    .map(|r| Event {
                        seq: r.seq,
                        kind: r.kind,
                        entity_type: r.entity_type,
                        entity_id: r.entity_id,
                        authority_id: r.authority_id,
                        credential: r.credential,
                        logged_at: r.logged_at,
                        effective_on: r.effective_on,
                        back_dated: r.back_dated,
                        payload: serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::String(r.payload)),
                    })
                    .collect())
            }

            async fn create_token_impl(&self, authority_id: &str, role: Role, label: Option<&str>, created_by: &str) -> StoreResult<(TokenInfo, String)> {
                let secret = $crate::tokens::generate_secret();
                let id = $crate::tokens::new_id("tok_");
                let exists = sqlx::query_scalar::<_, i32>("SELECT 1 FROM authorities WHERE id = $1").bind(authority_id).fetch_optional(&self.pool).await?;
                if exists.is_none() {
                    return Err(AppError::Rule(Violation::unknown("authority_id", "部门", "authority", authority_id)));
                }
                sqlx::query("INSERT INTO api_tokens (id, authority_id, role, secret_sha256, label, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(&id)
                    .bind(authority_id)
                    .bind(role.code())
                    .bind($crate::tokens::digest(&secret))
                    .bind(label)
                    .bind(Utc::now())
                    .bind(created_by)
                    .execute(&self.pool)
                    .await?;
                let row: TokenRow = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} WHERE id = $1"))).bind(&id).fetch_one(&self.pool).await?;
                Ok((TokenInfo::try_from(row)?, secret))
            }

            async fn authenticate_impl(&self, secret: &str) -> StoreResult<$crate::store::TokenCheck> {
                let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} WHERE secret_sha256 = $1")))
                    .bind($crate::tokens::digest(secret))
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Ok($crate::store::TokenCheck::Unknown) };
                if row.revoked_at.is_some() {
                    return Ok($crate::store::TokenCheck::Revoked);
                }
                sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(Utc::now()).bind(&row.id).execute(&self.pool).await?;
                let info = TokenInfo::try_from(row)?;
                Ok($crate::store::TokenCheck::Valid(Actor { authority_id: info.authority_id, credential: format!("token:{}", info.id), role: info.role }))
            }

            async fn tokens_impl(&self, authority_id: &str) -> StoreResult<Vec<TokenInfo>> {
                let rows: Vec<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} WHERE authority_id = $1 ORDER BY id")))
                    .bind(authority_id)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(TokenInfo::try_from).collect()
            }

            async fn revoke_token_impl(&self, authority_id: &str, token_id: &str) -> StoreResult<Option<TokenInfo>> {
                sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND authority_id = $3 AND revoked_at IS NULL")
                    .bind(Utc::now())
                    .bind(token_id)
                    .bind(authority_id)
                    .execute(&self.pool)
                    .await?;
                let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} WHERE id = $1 AND authority_id = $2")))
                    .bind(token_id)
                    .bind(authority_id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TokenInfo::try_from).transpose()
            }
        }
    };
}

pub(crate) use sql_writes;
