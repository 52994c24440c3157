-- Report columns (issue 15: reports in bounded memory). The report reads
-- one covering index instead of parsing every row's candidates JSON and
-- joining feedback row by row:
--   chosen_p, chosen_cost  the chosen model's logged p and expected cost,
--                          written with the decision (NULL for abstains and
--                          for a chosen model missing from the candidates);
--   fb_reward, fb_cost     the reward and cost_usd of the feedback on the
--                          chosen model, copied by every feedback write in
--                          the same transaction (NULL = no feedback yet).
-- Rows logged before this migration are backfilled here. A decision a worker
-- older than this migration writes afterwards has chosen_p/chosen_cost NULL;
-- the report then falls back to the JSON for that row (report-store.ts).
ALTER TABLE decisions ADD COLUMN chosen_p REAL;
ALTER TABLE decisions ADD COLUMN chosen_cost REAL;
ALTER TABLE decisions ADD COLUMN fb_reward REAL;
ALTER TABLE decisions ADD COLUMN fb_cost REAL;
UPDATE decisions SET
  chosen_p = (SELECT json_extract(j.value, '$.p') FROM json_each(decisions.candidates) AS j WHERE json_extract(j.value, '$.model') = decisions.chosen LIMIT 1),
  chosen_cost = (SELECT json_extract(j.value, '$.cost') FROM json_each(decisions.candidates) AS j WHERE json_extract(j.value, '$.model') = decisions.chosen LIMIT 1),
  fb_reward = (SELECT f.reward FROM feedback AS f WHERE f.decision_id = decisions.decision_id AND f.model = decisions.chosen),
  fb_cost = (SELECT f.cost_usd FROM feedback AS f WHERE f.decision_id = decisions.decision_id AND f.model = decisions.chosen)
  WHERE chosen IS NOT NULL;
-- The per-variant aggregate scan reads only this index (the report's GROUPS
-- query). Its (experiment, variant) prefix replaces decisions_experiment.
CREATE INDEX IF NOT EXISTS decisions_report ON decisions (experiment, variant, chosen, bundle_id, explored, propensity, chosen_cost, fb_cost);
DROP INDEX IF EXISTS decisions_experiment;
-- Rows with feedback only (partial indexes: a decision enters them when its
-- feedback arrives). The calibration/success aggregate reads the first alone;
-- the OPE pages walk the second in rowid order (keyset on rowid).
-- The third key is the calibration bin of chosen_p (report-store.ts, BIN).
CREATE INDEX IF NOT EXISTS decisions_feedback ON decisions (experiment, variant, chosen, MIN(9, MAX(0, CAST(chosen_p * 10 AS INTEGER))), chosen_p, fb_reward, fb_cost, chosen_cost, propensity) WHERE fb_reward IS NOT NULL;
CREATE INDEX IF NOT EXISTS decisions_ope ON decisions (experiment, variant) WHERE fb_reward IS NOT NULL;
-- Each variant's first row (its logged policy) and the bootstrap's row order.
CREATE INDEX IF NOT EXISTS decisions_order ON decisions (experiment, variant, ts, decision_id);
