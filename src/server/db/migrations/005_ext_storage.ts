/**
 * The key-value store of `cap:storage.kv` (docs/production-contract.md#storage): production's tables
 * and columns, and one SQL function per operation so that each operation is one statement (a put is
 * `BEGIN; SELECT alga_storage_write(…)` then COMMIT: two round trips).
 * - Every writer of an install locks its `ext_storage_usage` row first, so the writes of one install
 *   queue there: the revision check, the quotas and the usage counters are exact under concurrency,
 *   and the lock order (usage → records) is the same everywhere.
 * - Expired rows of the install are removed at the start of every operation, against the caller's
 *   clock (`p_now`, a controllable clock in tests), as production removes them against its own.
 * - Columns as production's (`tenant` is text here, as every tenant id of this runner: local tenants
 *   such as `local` are no UUIDs). `ext_storage_schemas` is created; no route writes it yet.
 * - Refusals raise the SQLSTATEs read by src/server/storage/service.ts (AS404 install absent, AS401
 *   install not active, AS409 revision mismatch, AS429 quota), so nothing of a refused write stays.
 */
export const up = /* sql */ `
CREATE TABLE ext_storage_records (
  tenant varchar(255) NOT NULL,
  extension_install_id uuid NOT NULL,
  namespace varchar(128) NOT NULL,
  key varchar(256) NOT NULL,
  revision bigint NOT NULL DEFAULT 1,
  value jsonb NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  value_size_bytes bigint NOT NULL DEFAULT 0,
  metadata_size_bytes bigint NOT NULL DEFAULT 0,
  ttl_expires_at timestamptz NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, extension_install_id, namespace, key)
);
CREATE INDEX ext_storage_records_ttl_idx ON ext_storage_records (tenant, extension_install_id, ttl_expires_at)
  WHERE ttl_expires_at IS NOT NULL;

CREATE TABLE ext_storage_usage (
  tenant varchar(255) NOT NULL,
  extension_install_id uuid NOT NULL,
  bytes_used bigint NOT NULL DEFAULT 0,
  keys_count integer NOT NULL DEFAULT 0,
  namespaces_count integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, extension_install_id)
);

CREATE TABLE ext_storage_schemas (
  tenant varchar(255) NOT NULL,
  extension_install_id uuid NOT NULL,
  namespace varchar(128) NOT NULL,
  schema_version integer NOT NULL,
  schema_document jsonb NOT NULL,
  status varchar(16) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deprecated', 'draft')),
  created_by uuid NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, extension_install_id, namespace, schema_version)
);
CREATE UNIQUE INDEX ext_storage_schemas_namespace_active_uq ON ext_storage_schemas (tenant, extension_install_id, namespace)
  WHERE status = 'active';

-- The install's tenant; absent (or not a UUID) raises AS404, not active AS401 (production's factory).
CREATE FUNCTION alga_storage_install_tenant(p_install text) RETURNS varchar
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  v record;
BEGIN
  IF p_install !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
    RAISE EXCEPTION 'extension install not found' USING ERRCODE = 'AS404';
  END IF;
  SELECT i.tenant_id, i.is_enabled, i.status INTO v FROM tenant_extension_install i WHERE i.id = p_install::uuid;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'extension install not found' USING ERRCODE = 'AS404';
  END IF;
  IF v.is_enabled = false OR (v.status IS NOT NULL AND v.status <> 'enabled') THEN
    RAISE EXCEPTION 'extension install is disabled' USING ERRCODE = 'AS401';
  END IF;
  RETURN v.tenant_id;
END
$fn$;

-- Creates the install's usage row if needed and locks it until commit; returns it.
CREATE FUNCTION alga_storage_lock_usage(p_tenant varchar, p_install uuid) RETURNS ext_storage_usage
LANGUAGE sql VOLATILE AS $fn$
  INSERT INTO ext_storage_usage AS u (tenant, extension_install_id) VALUES (p_tenant, p_install)
  ON CONFLICT (tenant, extension_install_id) DO UPDATE SET updated_at = u.updated_at
  RETURNING u.*
$fn$;

-- Removes the install's expired rows and takes them off its usage (the lock is taken only when
-- there is something to remove, so a read of an install without expired rows writes nothing).
CREATE FUNCTION alga_storage_sweep(p_tenant varchar, p_install uuid, p_now timestamptz) RETURNS void
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_bytes bigint;
  v_keys integer;
  v_namespaces text[];
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ext_storage_records r WHERE r.tenant = p_tenant AND r.extension_install_id = p_install
                    AND r.ttl_expires_at IS NOT NULL AND r.ttl_expires_at <= p_now) THEN
    RETURN;
  END IF;
  PERFORM alga_storage_lock_usage(p_tenant, p_install);
  WITH gone AS (
    DELETE FROM ext_storage_records r
     WHERE r.tenant = p_tenant AND r.extension_install_id = p_install
       AND r.ttl_expires_at IS NOT NULL AND r.ttl_expires_at <= p_now
    RETURNING r.namespace, r.value_size_bytes + r.metadata_size_bytes AS bytes
  )
  SELECT coalesce(sum(g.bytes), 0), count(*), array_agg(DISTINCT g.namespace) INTO v_bytes, v_keys, v_namespaces FROM gone g;
  UPDATE ext_storage_usage u
     SET bytes_used = u.bytes_used - v_bytes,
         keys_count = u.keys_count - v_keys,
         namespaces_count = u.namespaces_count - (
           SELECT count(*) FROM unnest(v_namespaces) AS n(ns)
            WHERE NOT EXISTS (SELECT 1 FROM ext_storage_records r
                               WHERE r.tenant = p_tenant AND r.extension_install_id = p_install AND r.namespace = n.ns)),
         updated_at = p_now
   WHERE u.tenant = p_tenant AND u.extension_install_id = p_install;
END
$fn$;

-- Usage recomputed from the records (repair, and tests that insert rows directly).
CREATE FUNCTION alga_storage_refresh_usage(p_tenant varchar, p_install uuid) RETURNS void
LANGUAGE sql VOLATILE AS $fn$
  INSERT INTO ext_storage_usage AS u (tenant, extension_install_id, bytes_used, keys_count, namespaces_count)
  SELECT p_tenant, p_install, coalesce(sum(r.value_size_bytes + r.metadata_size_bytes), 0), count(*), count(DISTINCT r.namespace)
    FROM ext_storage_records r WHERE r.tenant = p_tenant AND r.extension_install_id = p_install
  ON CONFLICT (tenant, extension_install_id) DO UPDATE SET bytes_used = EXCLUDED.bytes_used,
    keys_count = EXCLUDED.keys_count, namespaces_count = EXCLUDED.namespaces_count, updated_at = now()
$fn$;

-- The items of a write beside the rows they replace (old_revision NULL: a new key). A JSON null
-- value reads as SQL NULL here (jsonb_to_recordset); the insert turns it back into jsonb null.
CREATE FUNCTION alga_storage_items(p_tenant varchar, p_install uuid, p_namespace text, p_items jsonb)
RETURNS TABLE (key text, value jsonb, metadata jsonb, value_size integer, metadata_size integer,
  ttl_expires_at timestamptz, if_revision bigint, old_revision bigint, old_bytes bigint)
LANGUAGE sql STABLE AS $fn$
  SELECT i.key, i.value, i.metadata, i.value_size, i.metadata_size, i.ttl_expires_at, i.if_revision,
         r.revision, r.value_size_bytes + r.metadata_size_bytes
    FROM jsonb_to_recordset(p_items) AS i(key text, value jsonb, metadata jsonb, value_size integer, metadata_size integer,
                                          ttl_expires_at timestamptz, if_revision bigint)
    LEFT JOIN ext_storage_records r
      ON r.tenant = p_tenant AND r.extension_install_id = p_install AND r.namespace = p_namespace AND r.key = i.key
$fn$;

-- put and bulkPut: p_items is [{key, value, metadata, value_size, metadata_size, ttl_expires_at,
-- if_revision}] with distinct keys, sizes and per-item limits already checked by the caller.
-- Production's order: revision checks, then key quota, namespace quota, total bytes.
CREATE FUNCTION alga_storage_write(p_install text, p_namespace text, p_items jsonb, p_now timestamptz,
  p_max_namespaces integer, p_max_keys integer, p_max_bytes bigint)
RETURNS TABLE (out_key text, out_revision bigint, out_ttl_expires_at timestamptz, out_created_at timestamptz, out_updated_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_tenant varchar;
  v_install uuid;
  v_usage ext_storage_usage;
  v_ns_keys integer;
  v_new integer;
  v_delta bigint;
BEGIN
  v_tenant := alga_storage_install_tenant(p_install);
  v_install := p_install::uuid;
  PERFORM alga_storage_lock_usage(v_tenant, v_install);
  PERFORM alga_storage_sweep(v_tenant, v_install, p_now);
  SELECT * INTO v_usage FROM ext_storage_usage u WHERE u.tenant = v_tenant AND u.extension_install_id = v_install;

  IF EXISTS (SELECT 1 FROM alga_storage_items(v_tenant, v_install, p_namespace, p_items) i WHERE i.if_revision IS NOT NULL AND i.old_revision IS DISTINCT FROM i.if_revision) THEN
    RAISE EXCEPTION 'ifRevision did not match stored revision' USING ERRCODE = 'AS409';
  END IF;

  SELECT count(*) INTO v_ns_keys FROM ext_storage_records r
   WHERE r.tenant = v_tenant AND r.extension_install_id = v_install AND r.namespace = p_namespace;
  SELECT count(*) FILTER (WHERE i.old_revision IS NULL), coalesce(sum(i.value_size + i.metadata_size - coalesce(i.old_bytes, 0)), 0)
    INTO v_new, v_delta FROM alga_storage_items(v_tenant, v_install, p_namespace, p_items) i;
  IF v_new > 0 AND v_ns_keys + v_new > p_max_keys THEN
    RAISE EXCEPTION 'namespace % exceeded key quota', p_namespace USING ERRCODE = 'AS429';
  END IF;
  IF v_new > 0 AND v_ns_keys = 0 AND v_usage.namespaces_count >= p_max_namespaces THEN
    RAISE EXCEPTION 'namespace quota exceeded' USING ERRCODE = 'AS429';
  END IF;
  IF v_usage.bytes_used + v_delta > p_max_bytes THEN
    RAISE EXCEPTION 'total storage quota exceeded' USING ERRCODE = 'AS429',
      DETAIL = json_build_object('limit', p_max_bytes, 'attempted', v_usage.bytes_used + v_delta)::text;
  END IF;

  UPDATE ext_storage_usage u
     SET bytes_used = u.bytes_used + v_delta, keys_count = u.keys_count + v_new,
         namespaces_count = u.namespaces_count + CASE WHEN v_ns_keys = 0 AND v_new > 0 THEN 1 ELSE 0 END,
         updated_at = p_now
   WHERE u.tenant = v_tenant AND u.extension_install_id = v_install;

  -- Revision 1 on insert, +1 on each put; a put without TTL clears the TTL.
  RETURN QUERY
  WITH written AS (
    INSERT INTO ext_storage_records AS r (tenant, extension_install_id, namespace, key, revision, value, metadata,
      value_size_bytes, metadata_size_bytes, ttl_expires_at, created_at, updated_at)
    SELECT v_tenant, v_install, p_namespace, i.key, 1, coalesce(i.value, 'null'::jsonb), coalesce(i.metadata, '{}'::jsonb), i.value_size, i.metadata_size, i.ttl_expires_at, p_now, p_now
      FROM alga_storage_items(v_tenant, v_install, p_namespace, p_items) i
    ON CONFLICT (tenant, extension_install_id, namespace, key) DO UPDATE SET
      revision = r.revision + 1, value = EXCLUDED.value, metadata = EXCLUDED.metadata,
      value_size_bytes = EXCLUDED.value_size_bytes, metadata_size_bytes = EXCLUDED.metadata_size_bytes,
      ttl_expires_at = EXCLUDED.ttl_expires_at, updated_at = EXCLUDED.updated_at
    RETURNING r.key, r.revision, r.ttl_expires_at, r.created_at, r.updated_at
  )
  SELECT w.key::text, w.revision, w.ttl_expires_at, w.created_at, w.updated_at FROM written w;
END
$fn$;

-- delete: false for a missing key (production), AS409 when ifRevision differs.
CREATE FUNCTION alga_storage_delete(p_install text, p_namespace text, p_key text, p_if_revision bigint, p_now timestamptz)
RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_tenant varchar;
  v_install uuid;
  v record;
BEGIN
  v_tenant := alga_storage_install_tenant(p_install);
  v_install := p_install::uuid;
  PERFORM alga_storage_lock_usage(v_tenant, v_install);
  PERFORM alga_storage_sweep(v_tenant, v_install, p_now);
  SELECT r.revision, r.value_size_bytes + r.metadata_size_bytes AS bytes INTO v FROM ext_storage_records r
   WHERE r.tenant = v_tenant AND r.extension_install_id = v_install AND r.namespace = p_namespace AND r.key = p_key;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  IF p_if_revision IS NOT NULL AND v.revision <> p_if_revision THEN
    RAISE EXCEPTION 'ifRevision did not match stored revision' USING ERRCODE = 'AS409';
  END IF;
  DELETE FROM ext_storage_records r
   WHERE r.tenant = v_tenant AND r.extension_install_id = v_install AND r.namespace = p_namespace AND r.key = p_key;
  UPDATE ext_storage_usage u
     SET bytes_used = u.bytes_used - v.bytes, keys_count = u.keys_count - 1,
         namespaces_count = u.namespaces_count - CASE WHEN EXISTS (SELECT 1 FROM ext_storage_records r
           WHERE r.tenant = v_tenant AND r.extension_install_id = v_install AND r.namespace = p_namespace) THEN 0 ELSE 1 END,
         updated_at = p_now
   WHERE u.tenant = v_tenant AND u.extension_install_id = v_install;
  RETURN true;
END
$fn$;

-- get (p_key) and list (p_key NULL: the rows after p_after, matching p_like, at most p_limit).
CREATE FUNCTION alga_storage_read(p_install text, p_namespace text, p_key text, p_after text, p_like text,
  p_limit integer, p_now timestamptz)
RETURNS TABLE (out_tenant varchar, out_key text, out_revision bigint, out_value jsonb, out_metadata jsonb,
  out_ttl_expires_at timestamptz, out_created_at timestamptz, out_updated_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  v_tenant varchar;
  v_install uuid;
BEGIN
  v_tenant := alga_storage_install_tenant(p_install);
  v_install := p_install::uuid;
  PERFORM alga_storage_sweep(v_tenant, v_install, p_now);
  IF p_key IS NOT NULL THEN
    RETURN QUERY SELECT r.tenant, r.key::text, r.revision, r.value, r.metadata, r.ttl_expires_at, r.created_at, r.updated_at
      FROM ext_storage_records r
     WHERE r.tenant = v_tenant AND r.extension_install_id = v_install AND r.namespace = p_namespace AND r.key = p_key;
    RETURN;
  END IF;
  RETURN QUERY SELECT r.tenant, r.key::text, r.revision, r.value, r.metadata, r.ttl_expires_at, r.created_at, r.updated_at
    FROM ext_storage_records r
   WHERE r.tenant = v_tenant AND r.extension_install_id = v_install AND r.namespace = p_namespace
     AND (p_after IS NULL OR r.key > p_after)
     AND (p_like IS NULL OR r.key LIKE p_like)
   ORDER BY r.key
   LIMIT p_limit;
END
$fn$;
`;
