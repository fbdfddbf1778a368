-- The transparency log. Events are its leaves; this adds each event's link to the previous
-- event about the same entity, the tree's hashes as C2SP tlog-tiles, the signed checkpoints,
-- and the salts behind the commitments that keep personal data out of leaves. Kept in step
-- with the other database's 0004.

ALTER TABLE events ADD COLUMN prev_seq INTEGER;

-- Link the events logged before this migration; the append-only rule is lifted for this
-- one statement only.
DROP TRIGGER events_no_update;
UPDATE events SET prev_seq = (
    SELECT MAX(e.seq) FROM events e
    WHERE e.entity_type = events.entity_type AND e.entity_id = events.entity_id AND e.seq < events.seq
);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only'); END;

-- Hashes of tree level 8·level, from idx·256 on: up to 256 of them, 32 bytes each. Derived
-- from the events in the same transaction; `zhicheng log audit` recomputes and compares.
CREATE TABLE log_tiles (
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hashes BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Signed tree heads (C2SP signed notes), at most one a second.
CREATE TABLE log_checkpoints (
    size      INTEGER PRIMARY KEY,
    root      BLOB NOT NULL,
    note      TEXT NOT NULL,
    signed_at TEXT NOT NULL
);
CREATE TRIGGER log_checkpoints_no_update BEFORE UPDATE ON log_checkpoints
BEGIN SELECT RAISE(ABORT, 'log_checkpoints is append-only'); END;
CREATE TRIGGER log_checkpoints_no_delete BEFORE DELETE ON log_checkpoints
BEGIN SELECT RAISE(ABORT, 'log_checkpoints is append-only'); END;

-- What a commitment in an event's payload stands for. Not append-only on purpose: erasing a
-- row erases the personal data and leaves every proof intact.
CREATE TABLE log_disclosures (
    seq   INTEGER NOT NULL REFERENCES events (seq),
    path  TEXT NOT NULL,
    salt  TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (seq, path)
);
