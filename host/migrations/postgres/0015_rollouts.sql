-- Rollouts (issue 16): an approved version released to a share of an app's
-- installations (a percentage, named groups first), widened step by step,
-- completed, or rolled back (by a person, or by the host when the new
-- version's fault rate crosses the rollout's threshold).
CREATE TABLE rollouts (
    id TEXT PRIMARY KEY,
    app_slug TEXT NOT NULL,
    version TEXT NOT NULL,
    -- active, completed, rolled_back, rolled_back_automatically
    status TEXT NOT NULL,
    percent BIGINT NOT NULL,
    -- JSON array of group ids released first.
    group_ids TEXT NOT NULL,
    -- Roll back automatically when faults * 100 > max_fault_percent *
    -- invocations of the new version, once it ran min_invocations times.
    max_fault_percent BIGINT NOT NULL,
    min_invocations BIGINT NOT NULL,
    -- Invocations, errors (any failure the app caused) and faults (traps,
    -- timeouts, memory) during the rollout: the new version's and the
    -- other versions' of the same app.
    new_invocations BIGINT NOT NULL DEFAULT 0,
    new_errors BIGINT NOT NULL DEFAULT 0,
    new_faults BIGINT NOT NULL DEFAULT 0,
    old_invocations BIGINT NOT NULL DEFAULT 0,
    old_errors BIGINT NOT NULL DEFAULT 0,
    old_faults BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    ended_at BIGINT,
    end_reason TEXT
);
CREATE INDEX rollouts_app ON rollouts (app_slug, created_at);
-- At most one active rollout per app.
CREATE UNIQUE INDEX rollouts_active ON rollouts (app_slug) WHERE status = 'active';

-- The installations a rollout chose, and what each ran before.
CREATE TABLE rollout_installations (
    rollout_id TEXT NOT NULL,
    installation_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    -- moved, pending_consent, command_conflict, already, newer
    status TEXT NOT NULL,
    previous_version TEXT NOT NULL,
    -- JSON array: the grants before the move (restored by a rollback).
    previous_grants TEXT NOT NULL,
    chosen_at BIGINT NOT NULL,
    PRIMARY KEY (rollout_id, installation_id)
);
