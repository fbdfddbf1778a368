-- Public notices (公示) of evaluation results (issue 17). Append-only.
CREATE TABLE notices (
    id           TEXT PRIMARY KEY,
    committee_id TEXT NOT NULL REFERENCES committees (id),
    session_id   TEXT REFERENCES evaluation_sessions (id),
    published_on DATE NOT NULL,
    ends_on      DATE NOT NULL,
    body         TEXT NOT NULL,
    logged_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX notices_committee ON notices (committee_id);
CREATE INDEX notices_session ON notices (session_id);

CREATE TRIGGER notices_append_only BEFORE UPDATE OR DELETE ON notices
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
