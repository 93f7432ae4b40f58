/**
 * Platform demo extension: bills a client through every platform interface of the world, on the SDK.
 *
 * - GET  /api/catalog?search=…   active clients (clients) and active services (services)
 * - POST /api/bill {clientId, serviceId, quantity, description?}
 *        1. the client and the service (clients.get, services.get; 404 when unknown)
 *        2. a draft manual invoice at the service's default rate (invoicing; 422 with field errors)
 *        3. the invoice kept as the install's last one (storage, namespace "billing")
 *        4. a webhook told: POST to the secret `webhook_url` (secrets, http.fetch), skipped without it
 *        5. an activity note posted through the UI proxy route `/api/activity` (ui-proxy)
 *        → 201 {invoice, stored, webhook, activity}
 * - GET  /api/last-invoice      the stored last invoice (storage), 404 before the first bill
 *
 * Every host failure becomes a JSON error with a fitting status, never a trap.
 */
import type { ExecuteRequest, ExecuteResponse } from 'alga:extension/types';
import { Router, clients, context, http, invoicing, json, log, secrets, services, storage, uiProxy, type RouteRequest } from '../../sdk/host-bindings';

interface BillRequest {
  clientId?: string;
  serviceId?: string;
  quantity?: number;
  description?: string;
}

const statusForRead = (e: string) => (e === 'not-allowed' ? 403 : e === 'invalid-input' ? 400 : 502);

function catalog(req: RouteRequest): ExecuteResponse {
  const search = req.query.get('search') ?? undefined;
  const c = clients.list({ search, pageSize: 100 });
  if (!c.ok) return json(statusForRead(c.error), { error: `clients: ${c.error}` });
  const s = services.list({ search, isActive: true, pageSize: 100 });
  if (!s.ok) return json(statusForRead(s.error), { error: `services: ${s.error}` });
  return json(200, {
    clients: c.value.items.map((x) => ({ id: x.clientId, name: x.clientName })),
    services: s.value.items.map((x) => ({ id: x.serviceId, name: x.serviceName, rate: x.defaultRate, unit: x.unitOfMeasure })),
    totals: { clients: c.value.totalCount, services: s.value.totalCount },
  });
}

function bill(req: RouteRequest): ExecuteResponse {
  const input = req.json<BillRequest>() ?? {};
  if (!input.clientId || !input.serviceId) return json(400, { error: 'clientId and serviceId are required' });
  const client = clients.get(input.clientId);
  if (!client.ok) return json(statusForRead(client.error), { error: `clients: ${client.error}` });
  if (!client.value) return json(404, { error: 'no such client' });
  const service = services.get(input.serviceId);
  if (!service.ok) return json(statusForRead(service.error), { error: `services: ${service.error}` });
  if (!service.value) return json(404, { error: 'no such service' });

  const invoice = invoicing.createManual({
    clientId: client.value.clientId,
    items: [{ serviceId: service.value.serviceId, quantity: input.quantity ?? 1, description: input.description ?? service.value.serviceName, rate: service.value.defaultRate }],
  });
  if (!invoice.ok) return json(422, { error: invoice.error.error, fieldErrors: invoice.error.fieldErrors ?? null });

  const record = { ...invoice.value, clientName: client.value.clientName, serviceName: service.value.serviceName };
  const stored = storage.putJson('billing', 'last-invoice', record);
  if (!stored.ok) return json(502, { error: `storage: ${stored.error}`, invoice: invoice.value });

  let webhook: { status: number } | { skipped: string } | { error: string };
  const url = secrets.get('webhook_url');
  if (!url.ok) webhook = { skipped: url.error };
  else {
    const sent = http.fetch(url.value, { method: 'POST', body: { event: 'invoice.drafted', tenant: context.get().tenantId, invoice: record } });
    webhook = sent.ok ? { status: sent.value.status } : { error: sent.error };
  }

  const note = uiProxy.callJson<unknown>('/api/activity', { kind: 'invoice', invoiceNumber: invoice.value.invoiceNumber });
  const activity = note.ok ? { answer: note.value } : { error: note.error };

  log.info(`billed ${client.value.clientName}: ${invoice.value.invoiceNumber}`);
  return json(201, { invoice: invoice.value, stored: { revision: stored.value.revision?.toString() ?? null }, webhook, activity });
}

function lastInvoice(): ExecuteResponse {
  const r = storage.getJson<unknown>('billing', 'last-invoice');
  if (!r.ok) return json(r.error === 'missing' ? 404 : 502, { error: `storage: ${r.error}` });
  return json(200, { invoice: r.value.value, revision: r.value.revision?.toString() ?? null });
}

const app = new Router().get('/api/catalog', catalog).post('/api/bill', bill).get('/api/last-invoice', lastInvoice);

export function handler(request: ExecuteRequest): ExecuteResponse {
  return app.handle(request);
}
