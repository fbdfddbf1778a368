-- API keys and watch-lists (issue 15). A `reader` token is an API key for an outside user
-- (a regulator, an employer's HR system): it reads in bulk and keeps a watch-list, but
-- publishes nothing. Each token's watch-list: the certificates and committees it follows,
-- the URL it wants to be told at, and every notification owed to it with its attempts.

ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('publisher', 'issuer', 'admin', 'reader'));

CREATE TABLE watch_endpoints (
    token_id   TEXT PRIMARY KEY REFERENCES api_tokens (id),
    url        TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE watch_items (
    token_id   TEXT NOT NULL REFERENCES api_tokens (id),
    kind       TEXT NOT NULL CHECK (kind IN ('certificate', 'committee')),
    target     TEXT NOT NULL,
    -- Events from this log index on concern the item: nothing before it was enrolled.
    since_seq  BIGINT NOT NULL,
    PRIMARY KEY (token_id, kind, target)
);
CREATE INDEX watch_items_target ON watch_items (kind, target);

-- One row per (token, event): its id is the Standard Webhooks message id.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    token_id        TEXT NOT NULL REFERENCES api_tokens (id),
    event_seq       BIGINT NOT NULL,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    delivered_at    TIMESTAMPTZ,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_token ON webhook_deliveries (token_id, event_seq);

-- Events before this log index have been matched against the watch-lists.
CREATE TABLE webhook_cursor (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    after BIGINT NOT NULL
);
