-- The least a PostgreSQL login needs to run the dashboard and manage.py's records work.
--
-- Run it as the schema's owner, after `manage.py init-db` (and again after each
-- upgrade that adds a table), in the database and schema the dashboard uses:
--
--   psql "$OWNER_URL" -v app_role=redflags_app -f scripts/postgresql-app-role.sql
--
-- The role must exist already:  CREATE ROLE redflags_app LOGIN PASSWORD '…';
-- Then point the dashboard's DATABASE_URL at redflags_app, and keep the owner's
-- login for init-db alone. The role can read and write the clinical records and
-- the accounts, and only read and append the audit trail: UPDATE, DELETE and
-- TRUNCATE on audit_event are refused by its privileges before the append-only
-- triggers are even asked, and as it owns nothing it cannot drop those triggers
-- or change the schema. (It cannot ANALYZE either: after a large import the
-- database's autovacuum brings the planner's statistics up to date instead.)
-- On PostgreSQL 14 and older, also REVOKE CREATE ON SCHEMA public FROM PUBLIC
-- (15 and newer do not grant it), or any login may add tables beside the records.
-- tests/models/test_app_role.py runs this file with psql and the services as the role.

\set ON_ERROR_STOP on

SELECT format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), :'app_role') \gexec

SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %I.%I TO %I',
              current_schema(), name, :'app_role')
  FROM unnest(ARRAY['patient', 'dosing_session', 'decision', 'app_user', 'app_setting']) AS name
\gexec

SELECT format('GRANT SELECT, INSERT ON TABLE %I.audit_event TO %I',
              current_schema(), :'app_role') \gexec

SELECT format('GRANT SELECT ON TABLE %I.alembic_version TO %I',
              current_schema(), :'app_role') \gexec

SELECT format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO %I', current_schema(), :'app_role')
\gexec
