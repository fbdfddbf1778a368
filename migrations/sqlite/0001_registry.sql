-- The registry core: authorities, delegated competences, committees, authorizations with
-- their append-only history, sanctions and their lifting. Kept in step with
-- migrations/postgres/0001_registry.sql (a test checks both folders hold the same versions).

CREATE TABLE authorities (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('national', 'provincial', 'municipal', 'county')),
    region      TEXT NOT NULL,
    parent_id   TEXT REFERENCES authorities (id),
    logged_at   TEXT NOT NULL
);
CREATE INDEX authorities_parent ON authorities (parent_id);

CREATE TABLE delegations (
    id              TEXT PRIMARY KEY,
    authority_id    TEXT NOT NULL REFERENCES authorities (id),
    delegated_by    TEXT NOT NULL REFERENCES authorities (id),
    series          TEXT NOT NULL,
    specialties     TEXT NOT NULL,
    levels          TEXT NOT NULL,
    valid_from      TEXT NOT NULL,
    valid_until     TEXT,
    document_number TEXT NOT NULL,
    logged_at       TEXT NOT NULL
);
CREATE INDEX delegations_authority ON delegations (authority_id);
CREATE UNIQUE INDEX delegations_act ON delegations (authority_id, series, document_number);

CREATE TABLE committees (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    unit_name        TEXT NOT NULL,
    unit_credit_code TEXT NOT NULL,
    authority_id     TEXT NOT NULL REFERENCES authorities (id),
    region           TEXT NOT NULL,
    domains          TEXT NOT NULL,
    contact          TEXT,
    logged_at        TEXT NOT NULL
);
CREATE INDEX committees_region ON committees (region);
CREATE INDEX committees_credit_code ON committees (unit_credit_code);

CREATE TABLE authorizations (
    id              TEXT PRIMARY KEY,
    committee_id    TEXT NOT NULL REFERENCES committees (id),
    series          TEXT NOT NULL,
    granted_by      TEXT NOT NULL REFERENCES authorities (id),
    document_number TEXT NOT NULL,
    logged_at       TEXT NOT NULL
);
CREATE INDEX authorizations_committee ON authorizations (committee_id);
-- One document number grants a series to a committee once.
CREATE UNIQUE INDEX authorizations_act ON authorizations (committee_id, series, document_number);

-- One row per act on an authorization; never updated, never deleted.
CREATE TABLE authorization_records (
    authorization_id TEXT NOT NULL REFERENCES authorizations (id),
    seq              INTEGER NOT NULL,
    action           TEXT NOT NULL CHECK (action IN ('granted', 'amended', 'suspended', 'reinstated', 'withdrawn')),
    effective_on     TEXT NOT NULL,
    document_number  TEXT NOT NULL,
    note             TEXT,
    terms            TEXT,
    logged_at        TEXT NOT NULL,
    PRIMARY KEY (authorization_id, seq)
);
CREATE UNIQUE INDEX authorization_records_act ON authorization_records (authorization_id, action, document_number);

CREATE TABLE sanctions (
    id              TEXT PRIMARY KEY,
    subject_kind    TEXT NOT NULL,
    subject_id      TEXT,
    subject_name    TEXT,
    measure         TEXT NOT NULL,
    region          TEXT NOT NULL,
    effective_from  TEXT NOT NULL,
    effective_until TEXT,
    void_from       TEXT,
    decided_by      TEXT NOT NULL REFERENCES authorities (id),
    document_number TEXT NOT NULL,
    legal_basis     TEXT NOT NULL,
    summary         TEXT NOT NULL,
    logged_at       TEXT NOT NULL
);
CREATE INDEX sanctions_subject ON sanctions (subject_kind, subject_id);
CREATE UNIQUE INDEX sanctions_act ON sanctions (subject_kind, COALESCE(subject_id, ''), COALESCE(subject_name, ''), measure, document_number);
CREATE INDEX sanctions_region ON sanctions (region);

CREATE TABLE sanction_lifts (
    sanction_id     TEXT PRIMARY KEY REFERENCES sanctions (id),
    effective_on    TEXT NOT NULL,
    document_number TEXT NOT NULL,
    reason          TEXT,
    logged_at       TEXT NOT NULL
);

-- History is append-only: the database itself refuses to rewrite it.
CREATE TRIGGER authorization_records_no_update BEFORE UPDATE ON authorization_records
BEGIN SELECT RAISE(ABORT, 'authorization_records is append-only'); END;
CREATE TRIGGER authorization_records_no_delete BEFORE DELETE ON authorization_records
BEGIN SELECT RAISE(ABORT, 'authorization_records is append-only'); END;
CREATE TRIGGER sanctions_no_update BEFORE UPDATE ON sanctions
BEGIN SELECT RAISE(ABORT, 'sanctions is append-only'); END;
CREATE TRIGGER sanctions_no_delete BEFORE DELETE ON sanctions
BEGIN SELECT RAISE(ABORT, 'sanctions is append-only'); END;
CREATE TRIGGER sanction_lifts_no_update BEFORE UPDATE ON sanction_lifts
BEGIN SELECT RAISE(ABORT, 'sanction_lifts is append-only'); END;
CREATE TRIGGER sanction_lifts_no_delete BEFORE DELETE ON sanction_lifts
BEGIN SELECT RAISE(ABORT, 'sanction_lifts is append-only'); END;
