-- Publishing: the event log every write appends to (in the same transaction as the write),
-- API tokens (stored only as SHA-256 digests), and idempotency keys. Kept in step with the
-- other database's 0002.

CREATE TABLE events (
    -- 0, 1, 2 … without gaps: the event's index in the transparency log.
    seq          INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    authority_id TEXT NOT NULL,
    credential   TEXT NOT NULL,
    logged_at    TEXT NOT NULL,
    effective_on TEXT,
    back_dated   INTEGER NOT NULL DEFAULT 0,
    payload      TEXT NOT NULL
);
CREATE INDEX events_authority ON events (authority_id, seq);
CREATE INDEX events_entity ON events (entity_type, entity_id, seq);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only'); END;

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    authority_id  TEXT NOT NULL REFERENCES authorities (id),
    role          TEXT NOT NULL CHECK (role IN ('publisher', 'issuer', 'admin')),
    secret_sha256 TEXT NOT NULL UNIQUE,
    label         TEXT,
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    revoked_at    TEXT,
    last_used_at  TEXT
);
CREATE INDEX api_tokens_authority ON api_tokens (authority_id);

CREATE TABLE idempotency_keys (
    authority_id   TEXT NOT NULL,
    key            TEXT NOT NULL,
    request_sha256 TEXT NOT NULL,
    status         INTEGER NOT NULL,
    response       TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (authority_id, key)
);
