-- The transparency log. Events are its leaves; this adds each event's link to the previous
-- event about the same entity, the tree's hashes as C2SP tlog-tiles, the signed checkpoints,
-- and the salts behind the commitments that keep personal data out of leaves. Kept in step
-- with the other database's 0004.

ALTER TABLE events ADD COLUMN prev_seq BIGINT;

-- Link the events logged before this migration; the append-only rule is lifted for this
-- one statement only.
ALTER TABLE events DISABLE TRIGGER events_append_only;
UPDATE events SET prev_seq = (
    SELECT MAX(e.seq) FROM events e
    WHERE e.entity_type = events.entity_type AND e.entity_id = events.entity_id AND e.seq < events.seq
);
ALTER TABLE events ENABLE TRIGGER events_append_only;

-- Hashes of tree level 8·level, from idx·256 on: up to 256 of them, 32 bytes each. Derived
-- from the events in the same transaction; `zhicheng log audit` recomputes and compares.
CREATE TABLE log_tiles (
    level  INTEGER NOT NULL,
    idx    BIGINT NOT NULL,
    hashes BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Signed tree heads (C2SP signed notes), at most one a second.
CREATE TABLE log_checkpoints (
    size      BIGINT PRIMARY KEY,
    root      BYTEA NOT NULL,
    note      TEXT NOT NULL,
    signed_at TIMESTAMPTZ NOT NULL
);
CREATE TRIGGER log_checkpoints_append_only BEFORE UPDATE OR DELETE ON log_checkpoints
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();

-- What a commitment in an event's payload stands for. Not append-only on purpose: erasing a
-- row erases the personal data and leaves every proof intact.
CREATE TABLE log_disclosures (
    seq   BIGINT NOT NULL REFERENCES events (seq),
    path  TEXT NOT NULL,
    salt  TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (seq, path)
);
