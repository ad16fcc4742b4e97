"""Telling people: a durable outbox and its worker's job queue, e-mail addresses and what each
subscribed to, units' notification addresses and digests, webhooks, and the delivery log.

The job queue is procrastinate's own schema (its tables and functions, ``procrastinate_*``),
applied from the installed package: a write path defers a job with its SQL function
``procrastinate_defer_jobs_v1`` (through our ``gs_defer``) in the same transaction as the
change, so a rollback tells nobody and a commit loses nothing. ``messages`` is the outbox
proper and the delivery log: one row per mail or webhook call, unique per recipient and
cause, so a retried job never sends twice what was already sent.

Revision ID: 0170
Revises: 0190
Create Date: 2027-01-10 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0170"
down_revision: str | None = "0190"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = """
CREATE TABLE mail_addresses (
  id bigserial PRIMARY KEY,
  email text NOT NULL,
  lang text NOT NULL DEFAULT 'vi',
  refused_at timestamptz,
  refused_reason text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX mail_addresses_email ON mail_addresses (lower(email));

CREATE TABLE subscriptions (
  id bigserial PRIMARY KEY,
  address_id bigint NOT NULL REFERENCES mail_addresses (id) ON DELETE CASCADE,
  kind text NOT NULL CONSTRAINT subscriptions_kind CHECK (kind IN ('report', 'area')),
  report_id bigint REFERENCES reports (id) ON DELETE CASCADE,
  follower_id bigint REFERENCES followers (id) ON DELETE CASCADE,
  ward_code text,
  center geometry(Point, 4326),
  radius_m double precision,
  group_code text,
  confirm_token text NOT NULL UNIQUE DEFAULT gs_new_token(),
  confirmed_at timestamptz,
  ended_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT subscriptions_report CHECK ((kind = 'report') = (report_id IS NOT NULL)),
  CONSTRAINT subscriptions_area CHECK (
    kind <> 'area' OR ((ward_code IS NULL) <> (center IS NULL AND radius_m IS NULL)))
);
CREATE INDEX subscriptions_report_live ON subscriptions (report_id) WHERE ended_at IS NULL;
CREATE INDEX subscriptions_address ON subscriptions (address_id);
CREATE INDEX subscriptions_area_live ON subscriptions (kind)
  WHERE kind = 'area' AND ended_at IS NULL AND confirmed_at IS NOT NULL;

CREATE TABLE unit_contacts (
  id serial PRIMARY KEY,
  unit_id integer NOT NULL REFERENCES units (id) ON DELETE CASCADE,
  email text NOT NULL,
  lang text NOT NULL DEFAULT 'vi',
  user_id integer REFERENCES users (id) ON DELETE CASCADE,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (unit_id, email)
);

CREATE TABLE unit_notify_settings (
  unit_id integer PRIMARY KEY REFERENCES units (id) ON DELETE CASCADE,
  digest_hours integer CONSTRAINT unit_notify_settings_digest_hours
    CHECK (digest_hours BETWEEN 1 AND 168),
  last_digest_at timestamptz
);

CREATE TABLE webhooks (
  id serial PRIMARY KEY,
  unit_id integer REFERENCES units (id) ON DELETE CASCADE,
  url text NOT NULL,
  secret text NOT NULL,
  events text[] NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE messages (
  id bigserial PRIMARY KEY,
  channel text NOT NULL CONSTRAINT messages_channel CHECK (channel IN ('mail', 'webhook')),
  kind text NOT NULL,
  dedupe_key text NOT NULL UNIQUE,
  report_id bigint REFERENCES reports (id) ON DELETE CASCADE,
  address_id bigint REFERENCES mail_addresses (id) ON DELETE CASCADE,
  unit_contact_id integer REFERENCES unit_contacts (id) ON DELETE SET NULL,
  webhook_id integer REFERENCES webhooks (id) ON DELETE CASCADE,
  recipient text NOT NULL,
  subject text,
  body_text text NOT NULL,
  body_html text,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'pending' CONSTRAINT messages_status CHECK (status IN (
    'pending', 'held', 'sent', 'failed', 'discarded', 'digested', 'skipped')),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  next_at timestamptz,
  sent_at timestamptz
);
CREATE INDEX messages_attention ON messages (status, id)
  WHERE status IN ('failed', 'held', 'pending');
CREATE INDEX messages_webhook ON messages (webhook_id, id) WHERE webhook_id IS NOT NULL;

CREATE TABLE message_attempts (
  id bigserial PRIMARY KEY,
  message_id bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  at timestamptz NOT NULL DEFAULT now(),
  ok boolean NOT NULL,
  detail text NOT NULL,
  duration_ms double precision NOT NULL
);
CREATE INDEX message_attempts_message ON message_attempts (message_id);

CREATE TABLE report_alarms (
  report_id bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
  kind text NOT NULL CONSTRAINT report_alarms_kind
    CHECK (kind IN ('deadline_soon', 'deadline_missed')),
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (report_id, kind)
);

CREATE TABLE notify_keys (
  name text PRIMARY KEY,
  secret text NOT NULL DEFAULT gs_new_token() || gs_new_token()
);
INSERT INTO notify_keys (name) VALUES ('links');
"""


def upgrade() -> None:
    from procrastinate.schema import SchemaManager

    # A raw cursor: no parameters, so a '%' or ':name' in a function body stays as it is.
    cursor = op.get_bind().connection.cursor()
    cursor.execute(SchemaManager.get_schema())
    cursor.execute(TABLES)


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE notify_keys, report_alarms, message_attempts, messages, webhooks,
                   unit_notify_settings, unit_contacts, subscriptions, mail_addresses;
        DROP FUNCTION IF EXISTS gs_defer(text, jsonb[], timestamptz);
        DROP TABLE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
                   procrastinate_workers CASCADE;
        DO $$
        DECLARE f regprocedure;
        BEGIN
          FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'
          LOOP
            EXECUTE 'DROP FUNCTION ' || f || ' CASCADE';
          END LOOP;
        END $$;
        DROP TYPE procrastinate_job_to_defer_v1, procrastinate_job_event_type,
                  procrastinate_job_status CASCADE;
        """
    )
