/**
 * Draft manual invoices written by `invoicing.create-manual-invoice` (docs/production-contract.md#invoicing):
 * production's `invoices` columns for a manual draft, its charges, and a per-tenant number sequence
 * (production's NumberingService `INVOICE`). One invoice is written by one statement.
 */
export const up = /* sql */ `
CREATE TABLE next_number (
  tenant varchar(255) NOT NULL,
  entity_type text NOT NULL,
  last_number bigint NOT NULL,
  PRIMARY KEY (tenant, entity_type)
);

CREATE TABLE invoices (
  invoice_id uuid PRIMARY KEY,
  tenant varchar(255) NOT NULL,
  client_id uuid NOT NULL,
  invoice_number text NOT NULL,
  invoice_date date NOT NULL,
  due_date date NOT NULL,
  po_number text NULL,
  status text NOT NULL DEFAULT 'draft',
  subtotal bigint NOT NULL DEFAULT 0,
  tax bigint NOT NULL DEFAULT 0,
  total_amount bigint NOT NULL DEFAULT 0,
  credit_applied bigint NOT NULL DEFAULT 0,
  is_manual boolean NOT NULL DEFAULT true,
  is_prepayment boolean NOT NULL DEFAULT false,
  -- Ours: which install created it (production writes it into the transaction's description).
  created_by_install_id uuid NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT invoices_tenant_number_unique UNIQUE (tenant, invoice_number)
);
CREATE INDEX invoices_tenant_created_idx ON invoices (tenant, created_at);

CREATE TABLE invoice_charges (
  item_id uuid PRIMARY KEY,
  invoice_id uuid NOT NULL REFERENCES invoices (invoice_id) ON DELETE CASCADE,
  tenant varchar(255) NOT NULL,
  position int NOT NULL,
  service_id uuid NOT NULL,
  description text NOT NULL,
  quantity numeric NOT NULL,
  unit_price bigint NOT NULL,
  net_amount bigint NOT NULL,
  is_discount boolean NOT NULL DEFAULT false,
  discount_type text NULL,
  applies_to_item_id uuid NULL,
  applies_to_service_id uuid NULL
);
CREATE INDEX invoice_charges_invoice_idx ON invoice_charges (invoice_id, position);
`;
