-- Decision log and outcome feedback (issue: close the loop).
-- Applied by wrangler's D1 tooling: `wrangler d1 migrations apply preflight --local`.
-- No prompt text unless the API key opted in; prompt_hmac is HMAC-SHA256 with a secret.
CREATE TABLE IF NOT EXISTS decisions (
  decision_id   TEXT PRIMARY KEY,
  ts            INTEGER NOT NULL,
  key_id        TEXT NOT NULL,
  experiment    TEXT,
  variant       TEXT,
  bundle_id     TEXT NOT NULL,
  policy        TEXT NOT NULL,      -- JSON Policy
  candidates    TEXT NOT NULL,      -- JSON [{model, p, cost, utility}]
  chosen        TEXT,               -- NULL = abstain
  propensity    REAL NOT NULL,
  explored      INTEGER NOT NULL DEFAULT 0,
  prompt_hmac   TEXT NOT NULL,
  input_tokens  INTEGER NOT NULL,
  prompt_text   TEXT
);
CREATE INDEX IF NOT EXISTS decisions_experiment ON decisions (experiment, variant);

CREATE TABLE IF NOT EXISTS feedback (
  decision_id   TEXT NOT NULL REFERENCES decisions (decision_id),
  model         TEXT NOT NULL,
  reward        REAL NOT NULL,      -- success as 0/1, or score in [0,1]
  success       INTEGER,            -- NULL when a score was given
  score         REAL,
  output_tokens INTEGER,
  cost_usd      REAL,
  latency_ms    REAL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (decision_id, model)
);
