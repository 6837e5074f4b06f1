/**
 * The step log's schema, one migration per version. Applied in order inside a transaction;
 * `schema_migrations` records what a file has. Never edit a released migration: add one.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'step log: executions, steps, channel events, commands, post-hangup effects',
    sql: `
      -- seq is the internal key rows hang off (append-only, so inserts stay sequential);
      -- id is the execution's public identifier. Row tables are rowid tables: appends are cheap,
      -- and one index per table gives an execution's rows in order.
      CREATE TABLE executions (
        seq               INTEGER PRIMARY KEY,
        id                TEXT NOT NULL UNIQUE,
        source            TEXT NOT NULL,
        scenario          TEXT,
        account_id        TEXT NOT NULL,
        call_id           TEXT NOT NULL,
        caller_number     TEXT NOT NULL,
        caller_name       TEXT NOT NULL,
        callee_number     TEXT NOT NULL,
        callflow_id       TEXT,
        callflow_name     TEXT,
        callflow_revision TEXT,
        route_by          TEXT,
        route_pattern     TEXT,
        capture_group     TEXT,
        started_at        INTEGER NOT NULL,
        ended_at          INTEGER,
        wall_started_at   INTEGER NOT NULL,
        wall_ended_at     INTEGER,
        status            TEXT NOT NULL CHECK (status IN ('running','completed','failed','incomplete')),
        end_reason        TEXT,
        hangup_by         TEXT,
        hangup_cause      TEXT,
        hangup_code       TEXT,
        disposition       TEXT,
        answered          INTEGER,
        call_bridged      INTEGER,
        message_left      INTEGER,
        duration_ms       INTEGER,
        error             TEXT
      );
      CREATE INDEX executions_by_wall_start ON executions (wall_started_at);
      CREATE INDEX executions_by_call ON executions (call_id);

      CREATE TABLE steps (
        execution_seq INTEGER NOT NULL REFERENCES executions (seq) ON DELETE CASCADE,
        seq           INTEGER NOT NULL,
        ord           INTEGER NOT NULL,
        parent_seq    INTEGER,
        callflow_id   TEXT NOT NULL,
        node_path     TEXT NOT NULL,
        module        TEXT NOT NULL,
        data          TEXT NOT NULL,
        outcome       TEXT,
        requested_key TEXT,
        child_key     TEXT,
        reason        TEXT,
        started_at    INTEGER NOT NULL,
        ended_at      INTEGER,
        duration_ms   INTEGER,
        error_kind    TEXT,
        error_message TEXT,
        notes         TEXT NOT NULL DEFAULT '[]'
      );
      CREATE UNIQUE INDEX steps_of_execution ON steps (execution_seq, seq);

      CREATE TABLE channel_events (
        execution_seq INTEGER NOT NULL REFERENCES executions (seq) ON DELETE CASCADE,
        ord          INTEGER NOT NULL,
        at           INTEGER NOT NULL,
        step_seq     INTEGER,
        uuid         TEXT NOT NULL,
        name         TEXT NOT NULL,
        headers      TEXT NOT NULL
      );
      CREATE UNIQUE INDEX channel_events_of_execution ON channel_events (execution_seq, ord);

      CREATE TABLE commands (
        execution_seq    INTEGER NOT NULL REFERENCES executions (seq) ON DELETE CASCADE,
        ord              INTEGER NOT NULL,
        at               INTEGER NOT NULL,
        step_seq         INTEGER,
        uuid             TEXT NOT NULL,
        app              TEXT NOT NULL,
        args             TEXT NOT NULL,
        application_uuid TEXT NOT NULL,
        ack              TEXT,
        completed_at     INTEGER,
        response         TEXT,
        error_kind       TEXT
      );
      CREATE UNIQUE INDEX commands_of_execution ON commands (execution_seq, ord);

      CREATE TABLE effects (
        execution_seq INTEGER NOT NULL REFERENCES executions (seq) ON DELETE CASCADE,
        ord           INTEGER NOT NULL,
        at            INTEGER NOT NULL,
        step_seq      INTEGER,
        handler_key   TEXT NOT NULL,
        module        TEXT NOT NULL,
        status        TEXT NOT NULL,
        detail        TEXT NOT NULL,
        error_kind    TEXT,
        error_message TEXT
      );
      CREATE UNIQUE INDEX effects_of_execution ON effects (execution_seq, ord);
    `,
  },
  {
    version: 2,
    name: 'durable outbox for notifications, with every delivery attempt',
    sql: `
      -- Times here are wall-clock ms (delivery happens in the real world); queued_call_at is the
      -- call's clock when the message was queued, to place it in the execution's timeline.
      CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        execution_id    TEXT NOT NULL,
        node_key        TEXT NOT NULL,
        medium          TEXT NOT NULL CHECK (medium IN ('email','sms')),
        recipient       TEXT NOT NULL,
        template_id     TEXT NOT NULL,
        message         TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('pending','sending','sent','failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        created_at      INTEGER NOT NULL,
        queued_call_at  INTEGER NOT NULL,
        sent_at         INTEGER,
        provider_id     TEXT,
        last_error      TEXT,
        error_code      TEXT
      );
      CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
      CREATE INDEX outbox_of_execution ON outbox (execution_id);

      CREATE TABLE outbox_attempts (
        outbox_id  INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
        attempt    INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at   INTEGER NOT NULL,
        outcome    TEXT NOT NULL CHECK (outcome IN ('sent','temporary_failure','permanent_failure')),
        code       TEXT,
        detail     TEXT,
        PRIMARY KEY (outbox_id, attempt)
      );
    `,
  },
  {
    version: 3,
    name: 'outbox claims: owner and lease, and the attempt budget restarted by a manual retry',
    sql: `
      -- claimed_by is "<pid>:<token>" of the dispatcher sending the message; until lease_until, or
      -- while that process lives, no other dispatcher takes the message back.
      ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
      ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
      ALTER TABLE outbox ADD COLUMN budget_from INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 4,
    name: 'voicemail messages, and work done once a group of outbox messages has settled',
    sql: `
      -- after_delivery: JSON {kind, args}; every message with the same value forms one group.
      ALTER TABLE outbox ADD COLUMN after_delivery TEXT;
      CREATE INDEX outbox_by_after_delivery ON outbox (after_delivery) WHERE after_delivery IS NOT NULL;

      -- created_at is on the call's clock (virtual in simulations), wall_created_at real time.
      CREATE TABLE voicemail_messages (
        id              INTEGER PRIMARY KEY,
        account_id      TEXT NOT NULL,
        box_id          TEXT NOT NULL,
        mailbox         TEXT NOT NULL,
        folder          TEXT NOT NULL CHECK (folder IN ('new','saved','deleted')),
        caller_number   TEXT NOT NULL,
        caller_name     TEXT NOT NULL,
        callee_number   TEXT NOT NULL,
        call_id         TEXT NOT NULL,
        execution_id    TEXT NOT NULL,
        length_ms       INTEGER NOT NULL,
        created_at      INTEGER NOT NULL,
        wall_created_at INTEGER NOT NULL,
        media_path      TEXT NOT NULL,
        media_bytes     INTEGER NOT NULL,
        notify_status   TEXT NOT NULL CHECK (notify_status IN ('pending','sent','failed','ignored')),
        folder_changed_at INTEGER
      );
      CREATE INDEX voicemail_by_box ON voicemail_messages (account_id, box_id, folder, id);
    `,
  },
  {
    version: 5,
    name: 'voicemail message counts per box and folder, kept by triggers',
    sql: `
      -- Every compose asks "how full is the box?": a count kept up to date, not a scan per call.
      CREATE TABLE voicemail_box_counts (
        account_id TEXT NOT NULL,
        box_id     TEXT NOT NULL,
        folder     TEXT NOT NULL,
        n          INTEGER NOT NULL,
        PRIMARY KEY (account_id, box_id, folder)
      ) WITHOUT ROWID;
      INSERT INTO voicemail_box_counts (account_id, box_id, folder, n)
        SELECT account_id, box_id, folder, COUNT(*) FROM voicemail_messages GROUP BY account_id, box_id, folder;
      CREATE TRIGGER voicemail_count_insert AFTER INSERT ON voicemail_messages BEGIN
        INSERT INTO voicemail_box_counts (account_id, box_id, folder, n) VALUES (NEW.account_id, NEW.box_id, NEW.folder, 1)
          ON CONFLICT (account_id, box_id, folder) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER voicemail_count_move AFTER UPDATE OF folder ON voicemail_messages WHEN OLD.folder != NEW.folder BEGIN
        UPDATE voicemail_box_counts SET n = n - 1 WHERE account_id = OLD.account_id AND box_id = OLD.box_id AND folder = OLD.folder;
        INSERT INTO voicemail_box_counts (account_id, box_id, folder, n) VALUES (NEW.account_id, NEW.box_id, NEW.folder, 1)
          ON CONFLICT (account_id, box_id, folder) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER voicemail_count_delete AFTER DELETE ON voicemail_messages BEGIN
        UPDATE voicemail_box_counts SET n = n - 1 WHERE account_id = OLD.account_id AND box_id = OLD.box_id AND folder = OLD.folder;
      END;
    `,
  },
  {
    version: 6,
    name: 'outbox groups are found through their execution',
    sql: `
      -- A group (same after_delivery) is one execution's messages: outbox_of_execution finds them.
      -- The index on the JSON text itself cost every voicemail save three WAL pages of its twelve.
      DROP INDEX outbox_by_after_delivery;
    `,
  },
  {
    version: 7,
    name: 'a running execution names the process writing it',
    sql: `
      -- A writer starting up marks running executions incomplete only when the process named
      -- here is gone: another live writer (serve, beside a simulate) keeps its own calls.
      ALTER TABLE executions ADD COLUMN writer TEXT;
    `,
  },
  {
    version: 8,
    name: 'executions held for a group commit whose voicemails or messages are already written',
    sql: `
      -- A batch writes an execution only with its group, but its voicemail and outbox rows commit
      -- at once: each such execution is noted here in their transaction (its start as JSON), and
      -- the note goes when the group is written. A writer opening the file turns the notes of a
      -- process that is gone into incomplete executions. One small append-only B-tree: putting the
      -- execution row itself there cost each voicemail commit four more WAL pages.
      CREATE TABLE executions_unrecorded (
        execution_id TEXT NOT NULL,
        writer       TEXT NOT NULL,
        start        TEXT NOT NULL
      );
    `,
  },
];
