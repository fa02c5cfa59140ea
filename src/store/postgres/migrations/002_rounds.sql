-- 2: runs that share the sources without reading one twice; raw bodies stored as they come.
--
-- `sources.claimed_in`: the run that last claimed each source, so a run never claims one twice (the
-- claim compares one column instead of searching the names the run already claimed, which grew to
-- every source of a run and made each of its claims scan them all).
--
-- `workers.run_id`, `workers.round_clock`: the run a worker is in, and the clock of the round it
-- joined. Runs that overlap form one round: a run starting while others are running takes the
-- earliest clock among them, so a source another run of the round read (its `last_fetch` that run's
-- clock) is not read again, even when the workers' clocks straddle a second.

ALTER TABLE sources ADD COLUMN claimed_in TEXT;

-- What the workers' config offers of each source (`offered`, its URL and shaping digest), written at a
-- run's first claim when it differs (`offer.digest`, a digest of the whole offer; a table of its own,
-- as `meta` travels with `migrate-state` and these columns do not): the claims read them from the rows
-- instead of receiving every configured source at each claim.
ALTER TABLE sources ADD COLUMN offered BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE sources ADD COLUMN offered_url TEXT;
ALTER TABLE sources ADD COLUMN offered_digest TEXT;
CREATE TABLE offer (digest TEXT NOT NULL);

-- The claim's order (`lease.rs`, `CLAIM_ORDER`): a claim reads the head of it and stops.
CREATE INDEX sources_claim_order ON sources ((coalesce(next_fetch, 0)), (coalesce(last_fetch, -1)), rank, name)
    WHERE offered;
ALTER TABLE workers ADD COLUMN run_id TEXT;
ALTER TABLE workers ADD COLUMN round_clock BIGINT;

-- A raw body is stored deflated already: PostgreSQL's own compression of it only costs CPU.
ALTER TABLE raw_bodies ALTER COLUMN body SET STORAGE EXTERNAL;
