-- Public notices (公示) of evaluation results (issue 17). Append-only.
CREATE TABLE notices (
    id           TEXT PRIMARY KEY,
    committee_id TEXT NOT NULL REFERENCES committees (id),
    session_id   TEXT REFERENCES evaluation_sessions (id),
    published_on TEXT NOT NULL,
    ends_on      TEXT NOT NULL,
    body         TEXT NOT NULL,
    logged_at    TEXT NOT NULL
);
CREATE INDEX notices_committee ON notices (committee_id);
CREATE INDEX notices_session ON notices (session_id);

CREATE TRIGGER notices_no_update BEFORE UPDATE ON notices
BEGIN SELECT RAISE(ABORT, 'notices is append-only'); END;
CREATE TRIGGER notices_no_delete BEFORE DELETE ON notices
BEGIN SELECT RAISE(ABORT, 'notices is append-only'); END;
