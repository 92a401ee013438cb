-- App lifecycle and trust: review decisions, suspension, upgrades awaiting
-- consent, health, and the tamper-evident audit chain.

-- Who reviewed a version, when, and why it was rejected.
ALTER TABLE app_versions ADD COLUMN review_reason TEXT;
ALTER TABLE app_versions ADD COLUMN reviewed_by TEXT;
ALTER TABLE app_versions ADD COLUMN reviewed_at INTEGER;

-- A suspended app runs nowhere until a platform admin resumes it.
ALTER TABLE apps ADD COLUMN suspended_at INTEGER;
ALTER TABLE apps ADD COLUMN suspend_reason TEXT;

-- An upgrade that asks for capabilities not yet granted waits here for the
-- owner's consent while the installation keeps running `version`.
ALTER TABLE installations ADD COLUMN pending_version TEXT;
-- Why the installation is disabled, and by whom ('health' or a user id).
ALTER TABLE installations ADD COLUMN disabled_reason TEXT;
ALTER TABLE installations ADD COLUMN disabled_by TEXT;

-- Invocations that failed in the sandbox (trap, timeout, memory, stack):
-- what the health check counts within its window.
CREATE TABLE invocation_faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    installation_id TEXT NOT NULL REFERENCES installations(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX invocation_faults_installation ON invocation_faults (installation_id, at);

-- Each audit row's hash covers its own fields and the previous row's hash.
ALTER TABLE audit ADD COLUMN hash TEXT;
CREATE INDEX audit_app ON audit (app_slug, id);
CREATE INDEX audit_group ON audit (group_id, id);
