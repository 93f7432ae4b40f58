/**
 * Production's tables (docs/production-contract.md#tables), same names and columns, so queries written against an Alga
 * database read the same here. Global: registry, version, bundle, endpoint. Tenant-scoped on
 * tenant_id: install, install config/secrets, schedule. No cascades on the new tables (as production).
 */
export const up = /* sql */ `
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE extension_registry (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  publisher varchar(255) NOT NULL,
  name varchar(255) NOT NULL,
  display_name varchar(255),
  description text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT extension_registry_publisher_name_unique UNIQUE (publisher, name)
);
CREATE INDEX extension_registry_publisher_name_idx ON extension_registry (publisher, name);

CREATE TABLE extension_version (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  registry_id uuid NOT NULL REFERENCES extension_registry(id) ON DELETE CASCADE,
  version varchar(255) NOT NULL,
  runtime varchar(255) NOT NULL,
  main_entry varchar(255) NOT NULL,
  api jsonb NOT NULL DEFAULT '{}',
  ui jsonb DEFAULT NULL,
  capabilities jsonb NOT NULL DEFAULT '[]',
  api_endpoints jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT extension_version_registry_version_unique UNIQUE (registry_id, version)
);
CREATE INDEX extension_version_registry_version_idx ON extension_version (registry_id, version);

CREATE TABLE extension_bundle (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  version_id uuid NOT NULL REFERENCES extension_version(id) ON DELETE CASCADE,
  content_hash varchar(255) NOT NULL,
  signature text,
  precompiled jsonb,
  storage_url text,
  size_bytes bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT extension_bundle_version_hash_unique UNIQUE (version_id, content_hash)
);
CREATE INDEX extension_bundle_content_hash_idx ON extension_bundle (content_hash);

-- Ours: the component bytes, addressed by content hash (production keeps them in object storage).
CREATE TABLE extension_bundle_blob (
  content_hash varchar(255) PRIMARY KEY,
  bytes bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenant_extension_install (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id varchar(255) NOT NULL,
  registry_id uuid NOT NULL REFERENCES extension_registry(id) ON DELETE CASCADE,
  version_id uuid NOT NULL REFERENCES extension_version(id),
  granted_caps jsonb NOT NULL DEFAULT '[]',
  config jsonb NOT NULL DEFAULT '{}',
  is_enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  status text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled', 'pending')),
  runner_domain text UNIQUE NULL,
  runner_status jsonb NOT NULL DEFAULT '{"state":"pending"}',
  runner_ref jsonb NULL,
  -- Ours: when set, the install's capabilities are exactly these plus the defaults (an explicit
  -- grant, e.g. \`alga-runner exec --grant\`); when NULL, production's union rule applies.
  capabilities_override jsonb NULL,
  CONSTRAINT tenant_extension_install_tenant_registry_unique UNIQUE (tenant_id, registry_id)
);
CREATE INDEX tenant_extension_install_tenant_idx ON tenant_extension_install (tenant_id);
CREATE INDEX tenant_extension_install_tenant_registry_idx ON tenant_extension_install (tenant_id, registry_id);
CREATE INDEX tenant_extension_install_runner_domain_idx ON tenant_extension_install (runner_domain);

CREATE TABLE tenant_extension_install_config (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  install_id uuid NOT NULL UNIQUE REFERENCES tenant_extension_install(id) ON DELETE CASCADE,
  tenant_id varchar(255),
  config jsonb DEFAULT '{}',
  providers jsonb DEFAULT '[]',
  version varchar(255) DEFAULT gen_random_uuid()::text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenant_extension_install_secrets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  install_id uuid NOT NULL UNIQUE REFERENCES tenant_extension_install(id) ON DELETE CASCADE,
  tenant_id varchar(255),
  ciphertext text NOT NULL,
  algorithm varchar(255) DEFAULT 'inline/base64',
  transit_key varchar(255),
  transit_mount varchar(255),
  version varchar(255) DEFAULT gen_random_uuid()::text,
  expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE extension_api_endpoint (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  version_id uuid NOT NULL,
  method varchar(16) NOT NULL,
  path text NOT NULL,
  handler text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT extension_api_endpoint_version_method_path_uniq UNIQUE (version_id, method, path)
);
CREATE INDEX extension_api_endpoint_version_idx ON extension_api_endpoint (version_id);

CREATE TABLE tenant_extension_schedule (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  install_id uuid NOT NULL,
  tenant_id varchar(255) NOT NULL,
  endpoint_id uuid NOT NULL,
  name varchar(128) NULL,
  cron text NOT NULL,
  timezone varchar(64) NOT NULL DEFAULT 'UTC',
  enabled boolean NOT NULL DEFAULT true,
  payload_json jsonb NULL,
  job_id uuid NULL,
  runner_schedule_id varchar(255) NULL,
  last_run_at timestamptz NULL,
  last_run_status varchar(32) NULL,
  last_error text NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_extension_schedule_tenant_idx ON tenant_extension_schedule (tenant_id);
CREATE INDEX tenant_extension_schedule_tenant_install_idx ON tenant_extension_schedule (tenant_id, install_id);
CREATE INDEX tenant_extension_schedule_tenant_endpoint_idx ON tenant_extension_schedule (tenant_id, endpoint_id);
CREATE INDEX tenant_extension_schedule_runner_schedule_id_idx ON tenant_extension_schedule (runner_schedule_id);
CREATE INDEX tenant_extension_schedule_tenant_job_idx ON tenant_extension_schedule (tenant_id, job_id);
CREATE UNIQUE INDEX tenant_extension_schedule_install_name_uniq ON tenant_extension_schedule (install_id, name) WHERE name IS NOT NULL;
`;
