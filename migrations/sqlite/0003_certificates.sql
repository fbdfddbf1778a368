-- Issuer keys, registered certificates, and their append-only status history. Kept in step
-- with the other database's 0003.

CREATE TABLE issuer_keys (
    id             TEXT PRIMARY KEY,
    owner_kind     TEXT NOT NULL CHECK (owner_kind IN ('authority', 'committee')),
    owner_id       TEXT NOT NULL,
    public_key     TEXT NOT NULL UNIQUE,
    valid_from     TEXT NOT NULL,
    valid_until    TEXT,
    retired_at     TEXT,
    compromised_at TEXT,
    registered_by  TEXT NOT NULL REFERENCES authorities (id),
    logged_at      TEXT NOT NULL
);
CREATE INDEX issuer_keys_owner ON issuer_keys (owner_kind, owner_id);

-- The credential as registered (JCS text, proof included); the columns beside it are copies
-- for lookup. Never updated: revocation and suspension are rows of certificate_status_changes.
CREATE TABLE certificates (
    number            TEXT PRIMARY KEY,
    credential        TEXT NOT NULL,
    credential_sha256 TEXT NOT NULL,
    holder_name       TEXT NOT NULL,
    issuer            TEXT NOT NULL,
    status_authority  TEXT NOT NULL,
    committee_id      TEXT NOT NULL,
    key_id            TEXT NOT NULL REFERENCES issuer_keys (id),
    revocation_index  INTEGER,
    suspension_index  INTEGER,
    -- "<authority>.revocation#<index>": a status-list bit belongs to one certificate.
    revocation_slot   TEXT UNIQUE,
    suspension_slot   TEXT UNIQUE,
    logged_at         TEXT NOT NULL
);
CREATE INDEX certificates_committee ON certificates (committee_id);

CREATE TABLE certificate_status_changes (
    number       TEXT NOT NULL REFERENCES certificates (number),
    seq          INTEGER NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('revoked', 'suspended', 'unsuspended')),
    reason       TEXT NOT NULL,
    effective_at TEXT NOT NULL,
    logged_at    TEXT NOT NULL,
    PRIMARY KEY (number, seq)
);

CREATE TRIGGER certificates_no_update BEFORE UPDATE ON certificates
BEGIN SELECT RAISE(ABORT, 'certificates is append-only'); END;
CREATE TRIGGER certificates_no_delete BEFORE DELETE ON certificates
BEGIN SELECT RAISE(ABORT, 'certificates is append-only'); END;
CREATE TRIGGER certificate_status_changes_no_update BEFORE UPDATE ON certificate_status_changes
BEGIN SELECT RAISE(ABORT, 'certificate_status_changes is append-only'); END;
CREATE TRIGGER certificate_status_changes_no_delete BEFORE DELETE ON certificate_status_changes
BEGIN SELECT RAISE(ABORT, 'certificate_status_changes is append-only'); END;
