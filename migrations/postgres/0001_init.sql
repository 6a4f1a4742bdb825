-- Spar's schema, PostgreSQL dialect. migrations/sqlite/0001_init.sql is the same schema in
-- SQLite's dialect; change both together. Moments are milliseconds since the Unix
-- epoch; drill ids are UUIDs as text.

CREATE TABLE people (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform         TEXT    NOT NULL,
    platform_user_id TEXT    NOT NULL,
    display_name     TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    UNIQUE (platform, platform_user_id)
);

CREATE TABLE workspaces (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform    TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    UNIQUE (platform, external_id)
);

CREATE TABLE drills (
    id           TEXT    PRIMARY KEY,
    workspace_id BIGINT  NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    scenario_id  TEXT    NOT NULL,
    mode         TEXT    NOT NULL CHECK (mode IN ('solo', 'peer')),
    difficulty   TEXT    NOT NULL CHECK (difficulty IN ('gentle', 'standard', 'hostile')),
    phase        TEXT    NOT NULL CHECK (phase IN ('briefing', 'live', 'wrap_up', 'debriefed', 'abandoned')),
    time_limit_s BIGINT  NOT NULL,
    max_turns    BIGINT  NOT NULL,
    seed         BIGINT,
    created_at   BIGINT  NOT NULL,
    started_at   BIGINT,
    ends_at      BIGINT,
    -- The moment of the last event applied; a drill resumed at it gives no warning twice.
    clock_at     BIGINT  NOT NULL,
    next_due_at  BIGINT,
    -- Which instance is firing the timer, until when; an expired lease may be taken over.
    lease_owner  TEXT,
    lease_until  BIGINT,
    version      BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX drills_next_due ON drills (next_due_at) WHERE next_due_at IS NOT NULL;
CREATE INDEX drills_phase ON drills (phase);

CREATE TABLE participants (
    drill_id  TEXT   NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
    person_id BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    role      TEXT   NOT NULL CHECK (role IN ('candidate', 'antagonist', 'observer')),
    PRIMARY KEY (drill_id, person_id)
);
CREATE INDEX participants_person ON participants (person_id);

-- Append-only: a turn's (drill_id, idx) never changes; forgetting a person blanks the
-- text of what they said in someone else's drill instead of leaving a gap.
CREATE TABLE turns (
    drill_id  TEXT    NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
    idx       BIGINT  NOT NULL,
    role      TEXT    NOT NULL CHECK (role IN ('candidate', 'antagonist', 'observer')),
    at_s      DOUBLE PRECISION NOT NULL,
    text      TEXT    NOT NULL,
    author_id BIGINT  REFERENCES people (id) ON DELETE SET NULL,
    redacted  BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (drill_id, idx)
);
CREATE INDEX turns_author ON turns (author_id);

CREATE TABLE scorecards (
    drill_id   TEXT   PRIMARY KEY REFERENCES drills (id) ON DELETE CASCADE,
    overall    BIGINT NOT NULL,
    card       JSONB  NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE scorecard_flags (
    drill_id TEXT   NOT NULL REFERENCES scorecards (drill_id) ON DELETE CASCADE,
    ordinal  BIGINT NOT NULL,
    kind     TEXT   NOT NULL,
    turn     BIGINT,
    at_s     DOUBLE PRECISION,
    PRIMARY KEY (drill_id, ordinal)
);

CREATE TABLE scorecard_dimensions (
    drill_id TEXT   NOT NULL REFERENCES scorecards (drill_id) ON DELETE CASCADE,
    ordinal  BIGINT NOT NULL,
    name     TEXT   NOT NULL,
    score    BIGINT NOT NULL,
    PRIMARY KEY (drill_id, ordinal)
);

CREATE TABLE peer_feedback (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    drill_id       TEXT   NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
    from_person_id BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    to_person_id   BIGINT REFERENCES people (id) ON DELETE CASCADE,
    text           TEXT   NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE rounds (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    scenario_id  TEXT,
    created_at   BIGINT NOT NULL,
    closed_at    BIGINT
);

CREATE TABLE queue_entries (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    person_id    BIGINT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    round_id     BIGINT REFERENCES rounds (id) ON DELETE SET NULL,
    scenario_id  TEXT,
    enqueued_at  BIGINT NOT NULL,
    UNIQUE (workspace_id, person_id)
);

CREATE TABLE processed_events (
    platform     TEXT   NOT NULL,
    event_id     TEXT   NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (platform, event_id)
);

CREATE TABLE llm_usage (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    drill_id          TEXT   NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
    model             TEXT   NOT NULL,
    prompt_tokens     BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    recorded_at       BIGINT NOT NULL
);
CREATE INDEX llm_usage_drill ON llm_usage (drill_id);
