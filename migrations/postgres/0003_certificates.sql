-- Issuer keys, registered certificates, and their append-only status history. Kept in step
-- with the other database's 0003.

CREATE TABLE issuer_keys (
    id             TEXT PRIMARY KEY,
    owner_kind     TEXT NOT NULL CHECK (owner_kind IN ('authority', 'committee')),
    owner_id       TEXT NOT NULL,
    public_key     TEXT NOT NULL UNIQUE,
    valid_from     TIMESTAMPTZ NOT NULL,
    valid_until    TIMESTAMPTZ,
    retired_at     TIMESTAMPTZ,
    compromised_at TIMESTAMPTZ,
    registered_by  TEXT NOT NULL REFERENCES authorities (id),
    logged_at      TIMESTAMPTZ NOT NULL
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
    revocation_index  BIGINT,
    suspension_index  BIGINT,
    -- "<authority>.revocation#<index>": a status-list bit belongs to one certificate.
    revocation_slot   TEXT UNIQUE,
    suspension_slot   TEXT UNIQUE,
    logged_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX certificates_committee ON certificates (committee_id);

CREATE TABLE certificate_status_changes (
    number       TEXT NOT NULL REFERENCES certificates (number),
    seq          BIGINT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('revoked', 'suspended', 'unsuspended')),
    reason       TEXT NOT NULL,
    effective_at TIMESTAMPTZ NOT NULL,
    logged_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (number, seq)
);

CREATE TRIGGER certificates_append_only BEFORE UPDATE OR DELETE ON certificates
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER certificate_status_changes_append_only BEFORE UPDATE OR DELETE ON certificate_status_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
