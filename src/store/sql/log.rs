//! The log's SQL: events appended as leaves with their tiles in the write's transaction,
//! disclosures (erasable salts), checkpoints signed under the sequencer lock.

use super::*;
use crate::publish::batch::PendingEvent;
use crate::tlog::merkle::{Hash as LogHash, leaf_hash};
use crate::tlog::tiles::{self, TileKey};

/// Appends events, numbered from `first_seq` (the log's size), as leaves of the log.
pub(super) async fn insert_events(conn: &mut Conn, first_seq: i64, pending: &[PendingEvent]) -> StoreResult<()> {
    let heads = if first_seq == 0 { Default::default() } else { entity_heads(conn, pending).await? };
    let (events, disclosures) = crate::store::log::to_log_events(first_seq, pending, heads);
    for chunk in events.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO events (seq, kind, entity_type, entity_id, prev_seq, authority_id, credential, logged_at, effective_on, back_dated, payload) ",
        );
        qb.push_values(chunk, |mut b, e| {
            b.push_bind(e.seq)
                .push_bind(&e.kind)
                .push_bind(&e.entity_type)
                .push_bind(&e.entity_id)
                .push_bind(e.prev)
                .push_bind(&e.authority_id)
                .push_bind(&e.credential)
                .push_bind(e.logged_at)
                .push_bind(e.effective_on)
                .push_bind(e.back_dated)
                .push_bind(e.payload.to_string());
        });
        qb.build().execute(&mut *conn).await?;
    }
    for chunk in disclosures.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO log_disclosures (seq, path, salt, value) ");
        qb.push_values(chunk, |mut b, (seq, d)| {
            b.push_bind(*seq).push_bind(&d.path).push_bind(&d.salt).push_bind(&d.value);
        });
        qb.build().execute(&mut *conn).await?;
    }
    let leaves: Vec<LogHash> = events.iter().map(|e| leaf_hash(&e.entry())).collect();
    append_tiles(conn, first_seq as u64, &leaves).await
}

/// The latest event about each entity `pending` touches.
async fn entity_heads(
    conn: &mut Conn,
    pending: &[PendingEvent],
) -> StoreResult<std::collections::HashMap<(String, String), i64>> {
    let mut by_type: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> = Default::default();
    for p in pending {
        by_type.entry(p.entity_type).or_default().insert(&p.entity_id);
    }
    let mut heads = std::collections::HashMap::new();
    for (entity_type, ids) in by_type {
        let ids: Vec<&str> = ids.into_iter().collect();
        for chunk in ids.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::<DB>::new("SELECT entity_id, MAX(seq) FROM events WHERE entity_type = ");
            qb.push_bind(entity_type).push(" AND entity_id IN (");
            let mut list = qb.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            qb.push(") GROUP BY entity_id");
            let rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut *conn).await?;
            heads.extend(rows.into_iter().map(|(id, seq)| ((entity_type.to_string(), id), seq)));
        }
    }
    Ok(heads)
}

/// Extends the stored tiles of a tree of `old_size` leaves by `leaves`.
async fn append_tiles(conn: &mut Conn, old_size: u64, leaves: &[LogHash]) -> StoreResult<()> {
    let mut edges = std::collections::HashMap::new();
    for (key, width) in tiles::edge_tiles(old_size) {
        let stored = read_tiles(conn, &[key]).await?.remove(&key).unwrap_or_default();
        if stored.len() as u64 != width {
            return Err(StoreError::Internal(format!(
                "log tile {}/{} holds {} hashes, the log needs {width}: run `zhicheng log audit`",
                key.0,
                key.1,
                stored.len()
            )));
        }
        edges.insert(key, stored);
    }
    let changed = tiles::append(old_size, &edges, leaves);
    for chunk in changed.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO log_tiles (level, idx, hashes) ");
        qb.push_values(chunk, |mut b, t| {
            b.push_bind(t.level as i32).push_bind(t.index as i64).push_bind(tiles::bytes_of(&t.hashes));
        });
        qb.push(" ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes");
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn read_tiles(
    conn: &mut Conn,
    keys: &[TileKey],
) -> StoreResult<std::collections::HashMap<TileKey, Vec<LogHash>>> {
    let mut out = std::collections::HashMap::new();
    for chunk in keys.chunks(INSERT_CHUNK / 2) {
        let mut qb = QueryBuilder::<DB>::new("SELECT level, idx, hashes FROM log_tiles WHERE ");
        for (i, (level, index)) in chunk.iter().enumerate() {
            if i > 0 {
                qb.push(" OR ");
            }
            qb.push("(level = ").push_bind(*level as i32).push(" AND idx = ").push_bind(*index as i64).push(")");
        }
        let rows: Vec<(i32, i64, Vec<u8>)> = qb.build_query_as().fetch_all(&mut *conn).await?;
        for (level, index, bytes) in rows {
            let hashes = tiles::hashes_of(&bytes)
                .ok_or_else(|| StoreError::Corrupt(format!("log tile {level}/{index} is not a list of hashes")))?;
            out.insert((level as u32, index as u64), hashes);
        }
    }
    Ok(out)
}

/// How many leaves the stored level-0 tiles hold.
async fn tiled_leaves(conn: &mut Conn) -> StoreResult<u64> {
    let last: Option<(i64, i64)> = sqlx::query_as(
        "SELECT idx, CAST(LENGTH(hashes) AS BIGINT) FROM log_tiles WHERE level = 0 ORDER BY idx DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(last.map_or(0, |(idx, bytes)| idx as u64 * tiles::WIDTH + bytes as u64 / 32))
}

/// The root of the first `size` leaves, from stored tiles.
async fn tree_root_at(conn: &mut Conn, size: u64) -> StoreResult<LogHash> {
    let needed = tiles::tiles_needed(|r| {
        crate::tlog::merkle::tree_root(size, r);
    });
    let fetched = read_tiles(conn, &needed).await?;
    let mut nodes = tiles::TileNodes::new(&fetched);
    let root = crate::tlog::merkle::tree_root(size, &mut nodes);
    match nodes.missing {
        None => Ok(root),
        Some((level, index)) => Err(StoreError::Corrupt(format!("log tile {level}/{index} is missing"))),
    }
}

impl ThisStore {
    /// Brings the tiles up to the event table (databases from before the log existed).
    pub(in crate::store) async fn catch_up_log(&self) -> StoreResult<()> {
        {
            // The usual case, checked without the write lock: nothing to catch up.
            let mut conn = self.pool.acquire().await?;
            if tiled_leaves(&mut conn).await? == next_seq(&mut conn).await? as u64 {
                return Ok(());
            }
        }
        let mut tx = self.begin_write().await?;
        let (mut tiled, size) = (tiled_leaves(&mut tx).await?, next_seq(&mut tx).await? as u64);
        while tiled < size {
            let events = read_events(&mut tx, &Default::default(), Some(tiled as i64 - 1), 10_000).await?;
            let leaves: Vec<LogHash> = events.iter().map(|e| leaf_hash(&e.entry())).collect();
            append_tiles(&mut tx, tiled, &leaves).await?;
            tiled += leaves.len() as u64;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl LogStore for ThisStore {
    async fn log_size(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(seq) + 1, 0) FROM events").fetch_one(&self.pool).await?)
    }

    async fn log_tiles(&self, keys: &[TileKey]) -> StoreResult<std::collections::HashMap<TileKey, Vec<LogHash>>> {
        let mut conn = self.pool.acquire().await?;
        read_tiles(&mut conn, keys).await
    }

    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>> {
        let row: Option<CheckpointRow> =
            sqlx::query_as("SELECT size, root, note FROM log_checkpoints ORDER BY size DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Into::into))
    }

    async fn checkpoint_at(&self, size: u64) -> StoreResult<Option<StoredCheckpoint>> {
        let row: Option<CheckpointRow> = sqlx::query_as("SELECT size, root, note FROM log_checkpoints WHERE size = $1")
            .bind(size as i64)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Into::into))
    }

    async fn sign_checkpoint(
        &self,
        sign: &crate::store::CheckpointSigner<'_>,
    ) -> StoreResult<Option<StoredCheckpoint>> {
        let Some(mut tx) = self.begin_sequencing().await? else { return Ok(None) };
        let size = next_seq(&mut tx).await? as u64;
        let latest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(size) FROM log_checkpoints").fetch_one(&mut *tx).await?;
        if latest.is_some_and(|l| l as u64 >= size) {
            return Ok(None);
        }
        let root = tree_root_at(&mut tx, size).await?;
        let note = sign(size, &root);
        sqlx::query("INSERT INTO log_checkpoints (size, root, note, signed_at) VALUES ($1, $2, $3, $4)")
            .bind(size as i64)
            .bind(root.to_vec())
            .bind(&note)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(StoredCheckpoint { size, root, note }))
    }

    async fn disclosures(&self, start: i64, end: i64) -> StoreResult<Vec<(i64, Disclosure)>> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT seq, path, salt, value FROM log_disclosures WHERE seq >= $1 AND seq < $2 ORDER BY seq, path",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(seq, path, salt, value)| (seq, Disclosure { path, salt, value })).collect())
    }

    async fn erase_disclosures(&self, seq: i64) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM log_disclosures WHERE seq = $1")
            .bind(seq)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

/// The sequence number the next event gets: events are numbered from 0 without gaps
/// (the number is the event's index in the transparency log), under the write lock.
pub(super) async fn next_seq(conn: &mut Conn) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(seq) + 1, 0) FROM events").fetch_one(&mut *conn).await
}

pub(super) async fn read_events(
    conn: &mut Conn,
    filter: &EventFilter,
    after: Option<i64>,
    limit: u32,
) -> StoreResult<Vec<Event>> {
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT seq, kind, entity_type, entity_id, authority_id, credential, logged_at, effective_on, back_dated, payload, prev_seq FROM events WHERE 1 = 1",
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
    if let Some(t) = &filter.entity_type {
        qb.push(" AND entity_type = ").push_bind(t.clone());
    }
    if let Some(e) = &filter.entity_id {
        qb.push(" AND entity_id = ").push_bind(e.clone());
    }
    qb.push(" ORDER BY seq LIMIT ").push_bind(i64::from(limit));
    let rows: Vec<EventRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| Event {
            seq: r.seq,
            kind: r.kind,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            prev: r.prev_seq,
            authority_id: r.authority_id,
            credential: r.credential,
            logged_at: r.logged_at,
            effective_on: r.effective_on,
            back_dated: r.back_dated,
            payload: serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::String(r.payload)),
        })
        .collect())
}
