/**
 * What the kit's platform serves beside production's internal API so that the success paths of
 * every interface can be observed from inside the component: a fixed platform-data file (clients,
 * services; the invoices the cases write go to its tables), a loopback stand-in for the UI proxy the
 * runner's `UI_PROXY_BASE_URL` points at (it echoes the request it got, or answers the status its
 * route names), a Vault that speaks transit decrypt for `vault-transit` secret envelopes, and an echo
 * and a redirect for http.fetch. Our runner is started pointing at them (`kitPlatformOptions`); a
 * `--target` runner must be configured so (docs/conformance.md).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { freePort } from '../server/db/embedded.js';
import type { PlatformData } from '../server/platform-data/platform-data.js';
import type { Route } from '../shared/http-server.js';
import { readBody } from '../shared/read-body.js';

/** The UI-proxy stand-in, under the platform's URL: `UI_PROXY_BASE_URL=<platform>${UI_PROXY_PATH}`. */
export const UI_PROXY_PATH = '/conformance/ui-proxy';
/** http.fetch's echo (answers what it received) and redirect (302 to the echo). */
export const ECHO_PATH = '/conformance/echo';
export const REDIRECT_PATH = '/conformance/redirect';
/** The Vault stand-in: `VAULT_ADDR=<platform>${VAULT_PATH}`, the token file holding `KIT_VAULT_TOKEN`. */
export const VAULT_PATH = '/conformance/vault';
export const KIT_VAULT_TOKEN = 'conformance-vault-token';
/** The transit key and mounts the Vault stand-in decrypts with; any other key or mount is refused. */
export const KIT_VAULT_KEY = 'conformance-key';
export const KIT_VAULT_MOUNTS = ['transit', 'kit-transit'];
/** A key whose decrypt answers 200 without `data.plaintext`. */
export const KIT_VAULT_KEY_NO_PLAINTEXT = 'conformance-no-plaintext';
/** The stand-in's ciphertext for a secret map: `vault:v1:` and base64 of its JSON (the plaintext Vault answers). */
export const vaultCiphertext = (secrets: Record<string, string>) => `vault:v1:${Buffer.from(JSON.stringify(secrets)).toString('base64')}`;

const nul = { clientType: null, defaultCurrencyCode: null, accountManagerId: null, accountManagerName: null, billingEmail: null };
const noType = { serviceTypeId: null, serviceTypeName: null, unitCode: null, sku: null, description: null };

/** The kit's platform data (every tenant sees it). Ids are RFC 4122 version-4 UUIDs, as production's invoice validation wants. */
export const KIT_PLATFORM_DATA: PlatformData = {
  clients: [
    {
      ...nul, clientId: '3c1f7a52-8d6e-4b0a-9f21-5e7d8c9b0a01', clientName: 'Acme Corporation', clientType: 'company', isInactive: false,
      defaultCurrencyCode: 'USD', accountManagerId: '3c1f7a52-8d6e-4b0a-9f21-5e7d8c9b0aff', accountManagerName: 'Dana Scully', billingEmail: 'billing@acme.example',
    },
    { ...nul, clientId: '3c1f7a52-8d6e-4b0a-9f21-5e7d8c9b0a02', clientName: 'Globex', clientType: 'company', isInactive: false, billingEmail: 'ap@globex.example' },
    { ...nul, clientId: '3c1f7a52-8d6e-4b0a-9f21-5e7d8c9b0a03', clientName: 'Initech (closed)', isInactive: true },
    { ...nul, clientId: '3c1f7a52-8d6e-4b0a-9f21-5e7d8c9b0a04', clientName: 'jane doe', clientType: 'individual', isInactive: false },
  ],
  services: [
    {
      ...noType, serviceId: '7e2d9b41-6c5a-4f38-8b17-2a3c4d5e6f01', serviceName: 'Managed Workstation', itemKind: 'service', billingMethod: 'fixed',
      serviceTypeId: '7e2d9b41-6c5a-4f38-8b17-2a3c4d5e6fff', serviceTypeName: 'Managed Services', defaultRate: 4500, unitOfMeasure: 'device', unitCode: 'EA',
      isActive: true, sku: 'MW-001', description: 'Patching and monitoring of one workstation',
    },
    { ...noType, serviceId: '7e2d9b41-6c5a-4f38-8b17-2a3c4d5e6f02', serviceName: 'Remote Support', itemKind: 'service', billingMethod: 'hourly', defaultRate: 12000.5, unitOfMeasure: 'hour', isActive: true, sku: 'RS-HOUR' },
    { ...noType, serviceId: '7e2d9b41-6c5a-4f38-8b17-2a3c4d5e6f03', serviceName: 'Backup Storage', itemKind: 'service', billingMethod: 'usage', defaultRate: 25, unitOfMeasure: 'GB', isActive: false },
    { ...noType, serviceId: '7e2d9b41-6c5a-4f38-8b17-2a3c4d5e6f04', serviceName: 'USB-C Dock', itemKind: 'product', billingMethod: 'fixed', defaultRate: 18900, unitOfMeasure: 'each', isActive: true, sku: 'HW-DOCK' },
  ],
};

/** The request as the stand-in saw it: method, the path's segments after its prefix (still percent-encoded), the query, every header, the body as text. */
async function echoed(req: Parameters<Route['handle']>[0], url: URL, prefix: string) {
  const body = await readBody(req, 1 << 20);
  return {
    method: req.method,
    segments: url.pathname.slice(prefix.length).split('/').filter(Boolean),
    query: url.search,
    headers: req.headers,
    body: body.length || req.headers['content-length'] !== undefined ? body.toString('utf8') : null,
  };
}

const sendJson = (res: Parameters<Route['handle']>[1], status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** The stand-in routes (the platform serves them beside its own). */
export function standInRoutes(): Route[] {
  return [
    {
      path: `${UI_PROXY_PATH}/`,
      // A route whose last segment is `status-NNN` answers NNN; any other is answered 200 with the echo.
      handle: async (req, res, url) => {
        const seen = await echoed(req, url, UI_PROXY_PATH);
        const status = /^status-(\d{3})$/.exec(seen.segments.at(-1) ?? '')?.[1];
        if (!status) return sendJson(res, 200, seen);
        const code = Number(status);
        sendJson(res, code, { error: `stand-in status ${code}` }, code >= 300 && code < 400 ? { location: `${UI_PROXY_PATH}/redirected` } : {});
      },
    },
    {
      method: 'POST',
      path: `${VAULT_PATH}/v1/`,
      // Vault's transit decrypt: POST /v1/{mount}/decrypt/{key} with X-Vault-Token, {"ciphertext"} →
      // {"data": {"plaintext": <base64>}}; errors as Vault answers them ({"errors": [...]}).
      handle: async (req, res, url) => {
        const [mount, op, ...key] = url.pathname.slice(`${VAULT_PATH}/v1/`.length).split('/');
        const raw = await readBody(req, 1 << 20);
        if (req.headers['x-vault-token'] !== KIT_VAULT_TOKEN) return sendJson(res, 403, { errors: ['permission denied'] });
        if (op !== 'decrypt' || !KIT_VAULT_MOUNTS.includes(mount ?? '')) return sendJson(res, 404, { errors: [`no handler for route "${mount}/${op}"`] });
        const name = key.join('/');
        if (name === KIT_VAULT_KEY_NO_PLAINTEXT) return sendJson(res, 200, { data: {} });
        if (name !== KIT_VAULT_KEY) return sendJson(res, 400, { errors: ['encryption key not found'] });
        let ciphertext: unknown;
        try {
          ciphertext = (JSON.parse(raw.toString('utf8')) as { ciphertext?: unknown }).ciphertext;
        } catch {
          return sendJson(res, 400, { errors: ['failed to parse JSON input'] });
        }
        if (typeof ciphertext !== 'string' || !ciphertext.startsWith('vault:v1:')) return sendJson(res, 400, { errors: ['invalid ciphertext: no prefix'] });
        sendJson(res, 200, { data: { plaintext: ciphertext.slice('vault:v1:'.length) } });
      },
    },
    { path: ECHO_PATH, handle: async (req, res, url) => sendJson(res, 200, await echoed(req, url, ECHO_PATH)) },
    { path: REDIRECT_PATH, handle: async (_req, res) => sendJson(res, 302, { redirected: true }, { location: ECHO_PATH }) },
  ];
}

/**
 * The platform options the kit needs from whoever starts our runner for it: the platform data, the
 * stand-in routes, and the runner's UI proxy and Vault pointing at the stand-ins — which needs the
 * platform's port before it listens (`port`, default a free one); the Vault token file goes in `dir`.
 */
export async function kitPlatformOptions(config: Config, o: { dir: string; port?: number }): Promise<{ config: Config; platformData: PlatformData; routes: Route[]; port: number }> {
  const p = o.port || (await freePort());
  const tokenFile = join(o.dir, 'conformance-vault-token');
  writeFileSync(tokenFile, KIT_VAULT_TOKEN);
  const base = `http://127.0.0.1:${p}`;
  return {
    config: {
      ...config,
      uiProxy: { ...config.uiProxy, baseUrl: `${base}${UI_PROXY_PATH}` },
      vault: { addr: `${base}${VAULT_PATH}`, tokenFile },
    },
    platformData: KIT_PLATFORM_DATA,
    routes: standInRoutes(),
    port: p,
  };
}
