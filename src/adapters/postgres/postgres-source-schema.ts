/**
 * The Postgres source's SQL: an outbox table and triggers on the sink's own tables that turn an
 * application's direct writes into events. A write made by the sink itself runs with
 * `gkm.origin = 'sink'` (set_config, local to its transaction) and is not recorded, so what the
 * node sends to the database never comes back as a push.
 *
 *   <p>outbox (id bigserial PK, event_id uuid DEFAULT gen_random_uuid(), event_type, target_id,
 *              payload jsonb, error text)
 *
 * The event id is fixed when the row is written: a row pushed again after a crash (pushed, not yet
 * deleted) is the same local write, which the node answers as a duplicate.
 */
import { tableNames } from './postgres-schema.ts'

export function sourceTableNames(prefix: string) {
  return { ...tableNames(prefix), outbox: `${prefix}outbox`, fn: `${prefix}outbox_capture` }
}

export function sourceInstallStatements(prefix: string): string[] {
  const t = sourceTableNames(prefix)
  const skip = `IF current_setting('gkm.origin', true) = 'sink' THEN RETURN NULL; END IF;`
  const add = (type: string, target: string, payload: string) =>
    `INSERT INTO ${t.outbox} (event_type, target_id, payload) VALUES ('${type}', ${target}, ${payload});`
  return [
    `CREATE TABLE IF NOT EXISTS ${t.outbox} (id bigserial PRIMARY KEY, event_id uuid NOT NULL DEFAULT gen_random_uuid(), event_type text NOT NULL, target_id text NOT NULL, payload jsonb NOT NULL, error text)`,
    `CREATE OR REPLACE FUNCTION ${t.fn}_personas() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE changed jsonb; removed jsonb;
BEGIN
  ${skip}
  IF TG_OP = 'DELETE' THEN
    SELECT coalesce(jsonb_agg(k), '[]') INTO removed FROM jsonb_object_keys(OLD.fields) k;
    IF jsonb_array_length(removed) > 0 THEN ${add('persona_update', 'OLD.id', `jsonb_build_object('op', 'unset', 'fields', removed)`)} END IF;
    RETURN NULL;
  END IF;
  SELECT coalesce(jsonb_object_agg(n.key, n.value), '{}') INTO changed FROM jsonb_each(NEW.fields) n
    WHERE TG_OP = 'INSERT' OR NOT (OLD.fields ? n.key) OR OLD.fields -> n.key IS DISTINCT FROM n.value;
  IF changed <> '{}' THEN ${add('persona_update', 'NEW.id', `jsonb_build_object('op', 'set', 'fields', changed)`)} END IF;
  IF TG_OP = 'UPDATE' THEN
    SELECT coalesce(jsonb_agg(k), '[]') INTO removed FROM jsonb_object_keys(OLD.fields) k WHERE NOT (NEW.fields ? k);
    IF jsonb_array_length(removed) > 0 THEN ${add('persona_update', 'NEW.id', `jsonb_build_object('op', 'unset', 'fields', removed)`)} END IF;
  END IF;
  RETURN NULL;
END $$`,
    `CREATE OR REPLACE FUNCTION ${t.fn}_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${skip}
  IF TG_OP = 'DELETE' THEN ${add('vector_update', 'OLD.id', `'{"op":"delete"}'::jsonb`)} RETURN NULL; END IF;
  ${add('vector_update', 'NEW.id', `jsonb_build_object('op', 'upsert', 'values', NEW.embedding::text::jsonb, 'metadata', NEW.metadata)`)}
  RETURN NULL;
END $$`,
    `CREATE OR REPLACE FUNCTION ${t.fn}_documents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${skip}
  IF TG_OP = 'DELETE' OR NEW.content IS NULL THEN
    ${add('document_update', "CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END", `'{"op":"delete"}'::jsonb`)}
    RETURN NULL;
  END IF;
  ${add('document_update', 'NEW.id', `jsonb_build_object('op', 'put', 'content', NEW.content, 'content_type', coalesce(NEW.content_type, 'text/plain'))`)}
  RETURN NULL;
END $$`,
    `CREATE OR REPLACE FUNCTION ${t.fn}_edges() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${skip}
  IF TG_OP = 'DELETE' THEN
    ${add('graph_update', 'OLD.graph', `jsonb_build_object('op', 'remove_edge', 'from', OLD.from_id, 'label', OLD.label, 'to', OLD.to_id)`)}
  ELSIF TG_OP = 'INSERT' THEN
    ${add('graph_update', 'NEW.graph', `jsonb_build_object('op', 'add_edge', 'from', NEW.from_id, 'label', NEW.label, 'to', NEW.to_id)`)}
  END IF;
  RETURN NULL;
END $$`,
    `CREATE OR REPLACE FUNCTION ${t.fn}_edge_properties() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  ${skip}
  IF TG_OP = 'DELETE' THEN
    ${add('graph_update', 'OLD.graph', `jsonb_build_object('op', 'set_edge_properties', 'from', OLD.from_id, 'label', OLD.label, 'to', OLD.to_id, 'unset', jsonb_build_array(OLD.key))`)}
  ELSE
    ${add('graph_update', 'NEW.graph', `jsonb_build_object('op', 'set_edge_properties', 'from', NEW.from_id, 'label', NEW.label, 'to', NEW.to_id, 'properties', jsonb_build_object(NEW.key, NEW.value))`)}
  END IF;
  RETURN NULL;
END $$`,
    ...(['personas', 'vectors', 'documents', 'edges', 'edge_properties'] as const).flatMap((name) => {
      const table = `${prefix}${name}`
      return [
        `DROP TRIGGER IF EXISTS ${table}_gkm_source ON ${table}`,
        `CREATE TRIGGER ${table}_gkm_source AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${t.fn}_${name}()`,
      ]
    }),
  ]
}
