/**
 * The conformance suite as data: for each function of the world, the conditions that matter
 * (capability granted or not, install present or absent, user present or absent, valid or invalid
 * input) and the observation production's contract gives under each (docs/production-contract.md). Where we fix a
 * production defect (docs/differences.md), a step carries `production`: what a production runner (or a
 * production server behind it) observes instead, so a run against production reports "differs as
 * documented" rather than failing.
 *
 * Observations (what a step's `expect` is matched against, see match.ts):
 * - a WIT call: `{ ok: <value> }` or `{ err: <payload> }`, as the conformance component reported it
 * - the runner refused or the guest trapped: `{ envelope: { status, error } }` (production's envelope)
 * - a component route answered (route steps, or a bad probe call): `{ response: { status, body } }`
 *
 * Arguments and expectations may hold `{ $env: name }` (run-time values: tenantId, extensionId,
 * installId, versionId, requestId, worldId, fetchUrl, echoUrl, redirectUrl, notFoundUrl, errorUrl, expectedUser,
 * expectedUserV2) and
 * `{ $step: i, path: 'ok.scheduleId' }` (a value observed by an earlier step of the same case).
 */
import type { Match } from './match.js';
import { KIT_PLATFORM_DATA, KIT_VAULT_KEY, KIT_VAULT_KEY_NO_PLAINTEXT, vaultCiphertext } from './stand-ins.js';
import type { InterfaceId } from './worlds.js';

/** Which install the case's requests name. */
export type InstallMode =
  /** one install per world, shared by cases that do not change scheduler state */
  | 'shared'
  /** a new install (and tenant) for this case alone: scheduler mutations, rate limits */
  | 'fresh'
  /** `install_id` absent from the request */
  | 'none'
  /** an `install_id` no platform knows */
  | 'unknown';

export interface CaseEnv {
  /** Capabilities sent as `providers` (the runner adds the defaults context.read, log.emit, user.read). */
  grant?: string[];
  install?: InstallMode;
  /** Send a `user` with the request: with `client_name`, or with production's alias `company_name`. */
  user?: 'client_name' | 'company_name';
  /** Send an inline secret envelope holding these values. */
  secrets?: Record<string, string>;
  /** Or send this `secret_envelope` as it is (bad envelopes). */
  secretEnvelope?: { ciphertext_b64: string; algorithm?: string; key_path?: string; mount?: string };
  /** Leave out `x-alga-tenant` / `x-alga-extension`. */
  noRoutingHeaders?: boolean;
}

export interface Step {
  /** A WIT call `<interface>.<function>` the component performs (POST /probe). */
  call?: string;
  args?: unknown[];
  /** Or one request to a route of the component, e.g. `POST /trap`. */
  route?: string;
  /** The JSON body of a route step (may hold `$env`). */
  body?: unknown;
  /** What must be observed; absent: not checked (a setup step whose outcome does not matter). */
  expect?: Match;
  /** What production observes instead, where we deliberately differ (needs the case's `decision`). */
  production?: Match;
  /** This step's requests use the case's install but these capabilities (e.g. setup with the grant). */
  grant?: string[];
  /** Or observe the draft invoices of the case's tenant on the kit's platform: `{ invoices: [...] }`, newest first. */
  invoices?: true;
}

export interface ConformanceCase {
  /** The function the case is about (`<interface>.<function>`), or `/v1/execute` for envelope cases. */
  fn: string;
  /** The condition, in words; with `fn` it names the case in reports. */
  condition: string;
  env?: CaseEnv;
  steps: Step[];
  /** The docs/differences.md section behind a `production` alternative, and what the difference means. */
  decision?: string;
}

// ---------------------------------------------------------------------------------------------

const SCHED = 'cap:scheduler.manage';
const NOT_GRANTED = 'Permission denied: cap:scheduler.manage not granted';
const PAYLOAD_NOT_JSON = 'Payload must be valid JSON object or array';
const ZERO_UUID = '00000000-0000-4000-8000-000000000000';

/** Production's runner renders a scheduler error enum with Rust's Debug for the record-returning
 * operations (docs/production-contract.md#scheduler-callback); the exact text is inferred, so only the case name is required. */
const debugOf = (enumCase: string) => {
  const pascal = enumCase.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
  return { success: false, error: { $regex: `${enumCase}|${pascal}` }, fieldErrors: null };
};

const bytes = (text: string) => ({ $bytes: Buffer.from(text).toString('base64') });
const ok = (value: Match) => ({ ok: value });
const err = (payload: Match) => ({ err: payload });
const call = (fn: string, args: unknown[] = [], expect?: Match, production?: Match): Step => ({ call: fn, args, expect, production });
const ref = (step: number, path: string) => ({ $step: step, path });
const env = (name: string) => ({ $env: name });

const record = (success: boolean, fields: Record<string, Match> = {}) => ({ success, ...fields });
const failure = (error: Match, fieldErrors: Match = null) => ({ success: false, error, fieldErrors });
const fieldFailure = (field: string, message: string) => failure(message, { $json: { [field]: message } });

/** A `schedule-info` record, every field listed. */
const scheduleInfo = (o: Record<string, Match>) => ({
  id: { $type: 'uuid' },
  endpointPath: '/probe',
  endpointMethod: 'POST',
  name: null,
  cron: { $type: 'string' },
  timezone: 'UTC',
  enabled: true,
  payload: null,
  lastRunAt: null,
  lastRunStatus: null,
  lastError: null,
  createdAt: { $type: 'string' },
  ...o,
});

const CREATE_OK = ok(record(true, { scheduleId: { $type: 'uuid' }, error: null, fieldErrors: null }));
const UPDATE_OK = ok(record(true, { error: null }));
/** A disabled schedule (no job) on POST /probe; cases that need one start with it. */
const createStep = (extra: Record<string, unknown> = {}) =>
  call('scheduler.create-schedule', [{ endpoint: 'POST /probe', cron: '0 3 * * *', enabled: false, ...extra }], CREATE_OK);

const ENDPOINTS = [
  { id: { $type: 'uuid' }, method: 'POST', path: '/probe', handler: 'dist/main', schedulable: true },
  { id: { $type: 'uuid' }, method: 'PUT', path: '/probe/:tag', handler: 'dist/main', schedulable: false },
  { id: { $type: 'uuid' }, method: 'POST', path: '/trap', handler: 'dist/main', schedulable: true },
  { id: { $type: 'uuid' }, method: 'GET', path: '/world', handler: 'dist/main', schedulable: true },
];

// ---------------------------------------------------------------------------------------------

const contextCases: ConformanceCase[] = [
  {
    fn: 'context.get-context',
    condition: 'default capability, install present',
    steps: [call('context.get-context', [], ok({
      $exact: { requestId: env('requestId'), tenantId: env('tenantId'), extensionId: env('extensionId'), installId: env('installId'), versionId: env('versionId') },
    }))],
  },
  {
    fn: 'context.get-context',
    condition: 'install absent (install_id missing)',
    env: { install: 'none' },
    steps: [call('context.get-context', [], ok({ tenantId: env('tenantId'), extensionId: env('extensionId'), installId: null }))],
  },
];

const SECRETS = { alpha: 'one', beta: 'two' };
const secretsCases: ConformanceCase[] = [
  { fn: 'secrets.get', condition: 'capability not granted', env: { secrets: SECRETS }, steps: [call('secrets.get', ['alpha'], err('denied'))] },
  { fn: 'secrets.get', condition: 'granted, no secret envelope', env: { grant: ['cap:secrets.get'] }, steps: [call('secrets.get', ['alpha'], err('missing'))] },
  { fn: 'secrets.get', condition: 'granted, key present', env: { grant: ['cap:secrets.get'], secrets: SECRETS }, steps: [call('secrets.get', ['alpha'], ok('one'))] },
  { fn: 'secrets.get', condition: 'granted, key absent', env: { grant: ['cap:secrets.get'], secrets: SECRETS }, steps: [call('secrets.get', ['gamma'], err('missing'))] },
  { fn: 'secrets.list-keys', condition: 'capability not granted', env: { secrets: SECRETS }, steps: [call('secrets.list-keys', [], ok([]))] },
  { fn: 'secrets.list-keys', condition: 'granted, no secret envelope', env: { grant: ['cap:secrets.get'] }, steps: [call('secrets.list-keys', [], ok([]))] },
  { fn: 'secrets.list-keys', condition: 'granted, envelope with two keys', env: { grant: ['cap:secrets.get'], secrets: SECRETS }, steps: [call('secrets.list-keys', [], ok({ $unordered: ['alpha', 'beta'] }))] },
  {
    fn: 'secrets.get', condition: 'granted, envelope with an empty ciphertext: no secrets', env: { grant: ['cap:secrets.get'], secretEnvelope: { ciphertext_b64: '' } },
    steps: [call('secrets.get', ['alpha'], err('missing')), call('secrets.list-keys', [], ok([]))],
  },
  {
    fn: 'secrets.get', condition: 'granted, vault-transit envelope: decrypted by Vault (the kit\'s stand-in), default mount', env: { grant: ['cap:secrets.get'], secretEnvelope: { ciphertext_b64: vaultCiphertext(SECRETS), algorithm: 'vault-transit', key_path: KIT_VAULT_KEY } },
    steps: [call('secrets.get', ['alpha'], ok('one')), call('secrets.list-keys', [], ok({ $unordered: ['alpha', 'beta'] })), call('secrets.get', ['gamma'], err('missing'))],
  },
  {
    fn: 'secrets.get', condition: 'granted, vault-transit envelope naming its mount', env: { grant: ['cap:secrets.get'], secretEnvelope: { ciphertext_b64: vaultCiphertext({ gamma: 'three' }), algorithm: 'vault-transit', key_path: KIT_VAULT_KEY, mount: 'kit-transit' } },
    steps: [call('secrets.get', ['gamma'], ok('three'))],
  },
  ...(
    [
      ['inline envelope that is not base64', { ciphertext_b64: '%%not base64%%', algorithm: 'inline/base64' }],
      ['inline envelope whose map holds a number', { ciphertext_b64: Buffer.from('{"alpha":1}').toString('base64') }],
      ['inline envelope that is a JSON array', { ciphertext_b64: Buffer.from('["alpha"]').toString('base64') }],
      ['vault-transit envelope Vault cannot decrypt', { ciphertext_b64: 'vault:v1:bm90LXJlYWw=', algorithm: 'vault-transit', key_path: 'conformance-missing-key' }],
      // Each its own ciphertext: the runner caches decrypted envelopes by their ciphertext.
      ['vault-transit envelope naming a mount Vault does not have', { ciphertext_b64: vaultCiphertext({ mount: 'nowhere' }), algorithm: 'vault-transit', key_path: KIT_VAULT_KEY, mount: 'nowhere' }],
      ['vault-transit envelope Vault answers without data.plaintext', { ciphertext_b64: vaultCiphertext({ plaintext: 'none' }), algorithm: 'vault-transit', key_path: KIT_VAULT_KEY_NO_PLAINTEXT }],
      ['vault-transit envelope without key_path', { ciphertext_b64: vaultCiphertext({ keyPath: 'none' }), algorithm: 'vault-transit' }],
      ['vault-transit envelope whose plaintext is not a string map', { ciphertext_b64: `vault:v1:${Buffer.from('{"alpha":1}').toString('base64')}`, algorithm: 'vault-transit', key_path: KIT_VAULT_KEY }],
    ] as const
  ).map(([condition, envelope]): ConformanceCase => ({
    fn: 'secrets.get', condition: `granted, ${condition}: secret_decrypt_failed`, env: { grant: ['cap:secrets.get'], secretEnvelope: envelope },
    steps: [{ call: 'secrets.get', args: ['alpha'], expect: { envelope: { status: 500, error: 'secret_decrypt_failed' } } }],
  })),
];

const req = (method: string, url: Match) => ({ method, url, headers: [], body: null });
const D_EGRESS = 'docs/differences.md#egress: link-local and cloud-metadata addresses are refused unless allowlisted; production connects (metadata answers in a cloud, else a transport error)';
const HTTP = ['cap:http.fetch'];
const httpCases: ConformanceCase[] = [
  { fn: 'http.fetch', condition: 'capability not granted', steps: [call('http.fetch', [req('GET', env('fetchUrl'))], err('not-allowed'))] },
  { fn: 'http.fetch', condition: 'granted, malformed URL', env: { grant: HTTP }, steps: [call('http.fetch', [req('GET', 'not a url')], err('invalid-url'))] },
  { fn: 'http.fetch', condition: 'granted, invalid method', env: { grant: HTTP }, steps: [call('http.fetch', [req('NOT A METHOD', env('fetchUrl'))], err('invalid-url'))] },
  { fn: 'http.fetch', condition: 'granted, connection refused', env: { grant: HTTP }, steps: [call('http.fetch', [req('GET', 'http://127.0.0.1:1/')], err('transport'))] },
  {
    fn: 'http.fetch',
    condition: 'granted, reachable URL (the kit\'s own /healthz)',
    env: { grant: HTTP },
    steps: [call('http.fetch', [req('GET', env('fetchUrl'))], ok({ status: 200, headers: { $type: 'array' }, body: { $bytesJson: { ok: true } } }))],
  },
  {
    fn: 'http.fetch', condition: 'granted: method, headers and body reach the server as given', env: { grant: HTTP },
    steps: [call('http.fetch', [{ method: 'PUT', url: env('echoUrl'), headers: [{ name: 'x-conformance', value: 'one' }, { name: 'content-type', value: 'text/plain' }], body: bytes('hello') }],
      ok({ status: 200, body: { $bytesJson: { method: 'PUT', headers: { 'x-conformance': 'one', 'content-type': 'text/plain' }, body: 'hello' } } }))],
  },
  {
    fn: 'http.fetch', condition: 'granted: 4xx and 5xx answers are ok with their status', env: { grant: HTTP },
    steps: [
      call('http.fetch', [req('GET', env('notFoundUrl'))], ok({ status: 404, body: { $bytesJson: { error: 'not_found' } } })),
      call('http.fetch', [req('GET', env('errorUrl'))], ok({ status: 503, body: { $bytesJson: { error: 'stand-in status 503' } } })),
    ],
  },
  {
    fn: 'http.fetch', condition: 'granted: a redirect is not followed (302 with its Location)', env: { grant: HTTP },
    steps: [call('http.fetch', [req('GET', env('redirectUrl'))], ok({ status: 302, headers: { $type: 'array' }, body: { $bytesJson: { redirected: true } } }))],
  },
  ...(['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:a9fe:a9fe]/', 'http://[fd00:ec2::254]/'] as const).map((url): ConformanceCase => ({
    fn: 'http.fetch', condition: `granted, cloud-metadata address ${url}`, env: { grant: HTTP }, decision: D_EGRESS,
    steps: [call('http.fetch', [req('GET', url)], err('not-allowed'), { $any: true })],
  })),
];

/** The guest's own fetch() (componentize-js builds it on wasi:http), through the component's POST /fetch. */
const D_WASI_HTTP = "docs/differences.md#egress: the guest's fetch() (wasi:http) is held to http.fetch's capability, allowlist and address rules; production sends it with no check";
const GUEST_FETCH = "wasi:http fetch()";
const guestFetch = (spec: Record<string, Match>, expect: Match, production?: Match): Step => ({ route: 'POST /fetch', body: spec, expect, production });
/** fetch() resolved with this status (and body text), or rejected (the guest caught a TypeError). */
const fetched = (status: number, body?: Match) => ({ response: { status: 200, body: { status, ...(body === undefined ? {} : { body }) } } });
const fetchRejected = { response: { status: 200, body: { error: { name: 'TypeError' } } } };
const wasiHttpCases: ConformanceCase[] = [
  { fn: GUEST_FETCH, condition: 'capability not granted', decision: D_WASI_HTTP, steps: [guestFetch({ url: env('fetchUrl') }, fetchRejected, fetched(200))] },
  { fn: GUEST_FETCH, condition: "granted, reachable URL (the kit's own /healthz)", env: { grant: HTTP }, steps: [guestFetch({ url: env('fetchUrl') }, fetched(200, { $json: { ok: true } }))] },
  {
    fn: GUEST_FETCH, condition: 'granted: method, headers and body reach the server as given', env: { grant: HTTP },
    steps: [guestFetch({ url: env('echoUrl'), method: 'PUT', headers: { 'x-conformance': 'one', 'content-type': 'text/plain' }, body: 'hello' },
      fetched(200, { $json: { method: 'PUT', headers: { 'x-conformance': 'one', 'content-type': 'text/plain' }, body: 'hello' } }))],
  },
  { fn: GUEST_FETCH, condition: 'granted: a redirect is not followed (302)', env: { grant: HTTP }, steps: [guestFetch({ url: env('redirectUrl') }, fetched(302))] },
  { fn: GUEST_FETCH, condition: 'granted, connection refused', env: { grant: HTTP }, steps: [guestFetch({ url: 'http://127.0.0.1:1/' }, fetchRejected)] },
  ...(['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:a9fe:a9fe]/'] as const).map((url): ConformanceCase => ({
    fn: GUEST_FETCH, condition: `granted, cloud-metadata address ${url}`, env: { grant: HTTP }, decision: D_EGRESS,
    steps: [guestFetch({ url }, fetchRejected, { $any: true })],
  })),
];

const STORAGE = ['cap:storage.kv'];
const storageCalls: [string, unknown[]][] = [
  ['storage.get', ['conformance', 'k']],
  ['storage.put', [{ namespace: 'conformance', key: 'k', value: { $bytes: 'aGk=' }, revision: null }]],
  ['storage.delete', ['conformance', 'k']],
  ['storage.list-entries', ['conformance', null]],
];
const putEntry = (key: string, value: string, revision: unknown = null, namespace = 'conformance') => ({ namespace, key, value: bytes(value), revision });
const storedEntry = (key: string, value: string, revision: number, namespace = 'conformance') => ({ namespace, key, value: bytes(value), revision: { $u64: String(revision) } });
const FRESH_STORAGE = { grant: STORAGE, install: 'fresh' as const };
const D_PAGING = 'docs/differences.md#storage-paging: a cursor that is not production\'s base64url form is the last key received; production\'s server refuses it (400 → internal)';
const PAGE_KEYS = Array.from({ length: 26 }, (_, i) => `page-${String(i).padStart(2, '0')}`);
const storageCases: ConformanceCase[] = [
  ...storageCalls.flatMap(([fn, args]) => [
    { fn, condition: 'capability not granted', steps: [call(fn, args, err('denied'))] },
    { fn, condition: 'granted, install absent', env: { grant: STORAGE, install: 'none' as const }, steps: [call(fn, args, err('denied'))] },
    { fn, condition: 'granted, install unknown to the platform', env: { grant: STORAGE, install: 'unknown' as const }, steps: [call(fn, args, err('missing'))] },
  ]),
  {
    fn: 'storage.put', condition: 'granted: revision 1 for a new key, +1 for each put; get answers the last value', env: FRESH_STORAGE,
    steps: [
      call('storage.put', [putEntry('k', 'one')], ok(storedEntry('k', 'one', 1))),
      call('storage.put', [putEntry('k', 'two')], ok(storedEntry('k', 'two', 2))),
      call('storage.get', ['conformance', 'k'], ok(storedEntry('k', 'two', 2))),
    ],
  },
  {
    fn: 'storage.put', condition: 'with the stored revision → written; with a stale one → conflict, value kept', env: FRESH_STORAGE,
    steps: [
      call('storage.put', [putEntry('k', 'one')], ok(storedEntry('k', 'one', 1))),
      call('storage.put', [putEntry('k', 'two', { $u64: '1' })], ok(storedEntry('k', 'two', 2))),
      call('storage.put', [putEntry('k', 'three', { $u64: '1' })], err('conflict')),
      call('storage.get', ['conformance', 'k'], ok(storedEntry('k', 'two', 2))),
    ],
  },
  { fn: 'storage.put', condition: 'with a revision for a key not stored → conflict', env: FRESH_STORAGE, steps: [call('storage.put', [putEntry('absent', 'x', { $u64: '1' })], err('conflict'))] },
  {
    fn: 'storage.put', condition: 'value of 49 149 bytes (64 KiB after base64) → written; 49 150 → internal', env: FRESH_STORAGE,
    steps: [
      call('storage.put', [{ namespace: 'conformance', key: 'big', value: { $bytes: Buffer.alloc(49_149, 1).toString('base64') }, revision: null }], ok({ key: 'big', revision: { $u64: '1' } })),
      call('storage.put', [{ namespace: 'conformance', key: 'big', value: { $bytes: Buffer.alloc(49_150, 1).toString('base64') }, revision: null }], err('internal')),
    ],
  },
  {
    fn: 'storage.put', condition: 'namespace of 128 characters → written; 129 → internal (the server\'s 400)', env: FRESH_STORAGE,
    steps: [
      call('storage.put', [putEntry('k', 'x', null, 'n'.repeat(128))], ok(storedEntry('k', 'x', 1, 'n'.repeat(128)))),
      call('storage.put', [putEntry('k', 'x', null, 'n'.repeat(129))], err('internal')),
    ],
  },
  {
    fn: 'storage.put', condition: 'key of 256 characters → written; 257 → internal (the server\'s 400)', env: FRESH_STORAGE,
    steps: [
      call('storage.put', [putEntry('k'.repeat(256), 'x')], ok(storedEntry('k'.repeat(256), 'x', 1))),
      call('storage.put', [putEntry('k'.repeat(257), 'x')], err('internal')),
      call('storage.get', ['conformance', 'k'.repeat(257)], err('internal')),
    ],
  },
  {
    fn: 'storage.put', condition: 'the 33rd namespace of an install → denied (the server\'s 429); the 32 are kept', env: FRESH_STORAGE,
    steps: [
      ...Array.from({ length: 32 }, (_, i) => call('storage.put', [putEntry('k', 'x', null, `ns-${i}`)], ok({ namespace: `ns-${i}`, revision: { $u64: '1' } }))),
      call('storage.put', [putEntry('k', 'x', null, 'ns-32')], err('denied')),
      call('storage.get', ['ns-31', 'k'], ok(storedEntry('k', 'x', 1, 'ns-31'))),
      call('storage.get', ['ns-32', 'k'], err('missing')),
    ],
  },
  { fn: 'storage.put', condition: 'key containing "/" → internal (the server\'s 400)', env: FRESH_STORAGE, steps: [call('storage.put', [putEntry('a/b', 'x')], err('internal'))] },
  { fn: 'storage.put', condition: 'empty namespace → internal (the server\'s 400)', env: FRESH_STORAGE, steps: [call('storage.put', [putEntry('k', 'x', null, '')], err('internal'))] },
  { fn: 'storage.get', condition: 'granted, key not stored → missing', env: FRESH_STORAGE, steps: [call('storage.get', ['conformance', 'nope'], err('missing'))] },
  {
    fn: 'storage.delete', condition: 'granted: a stored key is deleted; deleting it again → conflict (production: the server answers success:false)', env: FRESH_STORAGE,
    steps: [
      call('storage.put', [putEntry('k', 'x')], ok(storedEntry('k', 'x', 1))),
      call('storage.delete', ['conformance', 'k'], ok(null)),
      call('storage.get', ['conformance', 'k'], err('missing')),
      call('storage.delete', ['conformance', 'k'], err('conflict')),
    ],
  },
  { fn: 'storage.list-entries', condition: 'granted, empty namespace → []', env: FRESH_STORAGE, steps: [call('storage.list-entries', ['conformance', null], ok([]))] },
  {
    fn: 'storage.list-entries', condition: 'granted: entries ordered by key, with values and revisions', env: FRESH_STORAGE,
    steps: [
      call('storage.put', [putEntry('b', 'B')]),
      call('storage.put', [putEntry('a', 'A')]),
      call('storage.put', [putEntry('a', 'A2')]),
      call('storage.list-entries', ['conformance', null], ok([storedEntry('a', 'A2', 2), storedEntry('b', 'B', 1)])),
    ],
  },
  {
    fn: 'storage.list-entries', condition: 'paging: 25 per page, the last key received as cursor gives the rest', env: FRESH_STORAGE, decision: D_PAGING,
    steps: [
      ...PAGE_KEYS.map((k) => call('storage.put', [putEntry(k, k)])),
      call('storage.list-entries', ['conformance', null], ok(PAGE_KEYS.slice(0, 25).map((k) => storedEntry(k, k, 1)))),
      call('storage.list-entries', ['conformance', 'page-24'], ok([storedEntry('page-25', 'page-25', 1)]), err('internal')),
    ],
  },
];

const loggingCases: ConformanceCase[] = ['logging.log-info', 'logging.log-warn', 'logging.log-error'].map((fn) => ({
  fn,
  condition: 'default capability: returns nothing',
  steps: [call(fn, [`conformance ${fn}`], ok(null))],
}));

const PROXY = ['cap:ui.proxy'];
const API_KEY = 'conformance-api-key';
const D_PROXY_REDIRECT = 'docs/differences.md#egress: ui-proxy follows no redirect (a 3xx is internal); production\'s client follows it';
/** What the kit's UI-proxy stand-in echoes (stand-ins.ts): the request's method, path segments after
 * the base URL's path, query, headers and body. */
const proxied = (o: { method: string; segments: Match[]; query?: string; headers?: Record<string, Match>; body?: Match }) =>
  ok({ $bytesJson: { method: o.method, segments: o.segments, query: o.query ?? '', headers: o.headers ?? {}, body: o.body ?? null } });
const CONTEXT_HEADERS = {
  'x-request-id': env('requestId'), 'x-alga-tenant': env('tenantId'), 'x-alga-extension': env('extensionId'),
  'x-ext-install-id': env('installId'), 'x-ext-version-id': env('versionId'),
};
// The runner under test sends its calls to the kit's stand-in (UI_PROXY_BASE_URL, docs/conformance.md).
const uiProxyCases: ConformanceCase[] = [
  { fn: 'ui-proxy.call-route', condition: 'capability not granted', steps: [call('ui-proxy.call-route', ['/status', null], err('denied'))] },
  { fn: 'ui-proxy.call-route', condition: 'granted, empty route', env: { grant: PROXY }, steps: [call('ui-proxy.call-route', ['', null], err('bad-request'))] },
  { fn: 'ui-proxy.call-route', condition: 'granted, route of spaces only', env: { grant: PROXY }, steps: [call('ui-proxy.call-route', ['   ', null], err('bad-request'))] },
  { fn: 'ui-proxy.call-route', condition: 'granted, route with ".." segment', env: { grant: PROXY }, steps: [call('ui-proxy.call-route', ['../etc', null], err('bad-request'))] },
  { fn: 'ui-proxy.call-route', condition: 'granted, route with "." segment', env: { grant: PROXY }, steps: [call('ui-proxy.call-route', ['/a/./b', null], err('bad-request'))] },
  {
    fn: 'ui-proxy.call-route', condition: 'granted, no payload: GET <base>/<extension>/<route>?query with the context headers and x-api-key from the api_key secret',
    env: { grant: PROXY, secrets: { api_key: API_KEY, other: 'not sent' } },
    steps: [call('ui-proxy.call-route', ['/reports/summary?period=month&x=1', null], proxied({
      method: 'GET', segments: [env('extensionId'), 'reports', 'summary'], query: '?period=month&x=1',
      headers: { ...CONTEXT_HEADERS, 'x-api-key': API_KEY, 'x-user-id': null, 'x-user-email': null, 'content-type': null },
    }))],
  },
  {
    fn: 'ui-proxy.call-route', condition: 'granted, a payload, a signed-in person: POST, content-type application/json, the payload as body, the person\'s id and email headers',
    env: { grant: PROXY, user: 'client_name' },
    steps: [call('ui-proxy.call-route', ['reports', bytes('{"a":1}')], proxied({
      method: 'POST', segments: [env('extensionId'), 'reports'], body: '{"a":1}',
      headers: { ...CONTEXT_HEADERS, 'content-type': 'application/json', 'x-user-id': 'user-1', 'x-user-email': 'ada@example.com', 'x-api-key': null },
    }))],
  },
  {
    fn: 'ui-proxy.call-route', condition: 'granted, an empty payload: still POST', env: { grant: PROXY },
    steps: [call('ui-proxy.call-route', ['/reports', bytes('')], proxied({ method: 'POST', segments: [env('extensionId'), 'reports'], body: '', headers: { 'content-type': 'application/json' } }))],
  },
  {
    fn: 'ui-proxy.call-route', condition: 'granted, a route under /api/ (or api/): no extension segment', env: { grant: PROXY },
    steps: [
      call('ui-proxy.call-route', ['/api/v1/tickets?limit=5', null], proxied({ method: 'GET', segments: ['api', 'v1', 'tickets'], query: '?limit=5' })),
      call('ui-proxy.call-route', ['api/v1/tickets', null], proxied({ method: 'GET', segments: ['api', 'v1', 'tickets'] })),
    ],
  },
  {
    fn: 'ui-proxy.call-route', condition: 'granted: segments percent-encoded, empty segments dropped, the query kept', env: { grant: PROXY },
    steps: [call('ui-proxy.call-route', ['/a b//\u00fc/x%y/?q=1 2', null], proxied({ method: 'GET', segments: [env('extensionId'), 'a%20b', '%C3%BC', 'x%25y'], query: '?q=1%202' }))],
  },
  ...(
    [
      [401, 'denied'], [403, 'denied'], [429, 'denied'], [404, 'route-not-found'], [400, 'bad-request'], [409, 'bad-request'], [422, 'bad-request'],
      [500, 'internal'], [503, 'internal'],
    ] as const
  ).map(([status, error]): ConformanceCase => ({
    fn: 'ui-proxy.call-route', condition: `granted, the proxy answers ${status} → ${error}`, env: { grant: PROXY },
    steps: [call('ui-proxy.call-route', [`/status-${status}`, null], err(error))],
  })),
  {
    fn: 'ui-proxy.call-route', condition: 'granted, the proxy answers 302 → internal (no redirect followed)', env: { grant: PROXY }, decision: D_PROXY_REDIRECT,
    steps: [call('ui-proxy.call-route', ['/status-302', null], err('internal'), proxied({ method: 'GET', segments: ['redirected'] }))],
  },
];

const userCases: ConformanceCase[] = [
  { fn: 'user.get-user', condition: 'user present: the record of this world', env: { user: 'client_name' }, steps: [call('user.get-user', [], ok(env('expectedUser')))] },
  { fn: 'user.get-user', condition: 'user present, sent as company_name (alias)', env: { user: 'company_name' }, steps: [call('user.get-user', [], ok(env('expectedUser')))] },
  { fn: 'user.get-user', condition: 'user absent', steps: [call('user.get-user', [], err('not-available'))] },
  { fn: 'user-v2.get-user', condition: 'user present: the record of this world', env: { user: 'client_name' }, steps: [call('user-v2.get-user', [], ok(env('expectedUserV2')))] },
  { fn: 'user-v2.get-user', condition: 'user absent', steps: [call('user-v2.get-user', [], err('not-available'))] },
];

const G = [SCHED];
const D1 = 'docs/differences.md#field-errors: the real error and field errors reach the guest; production\'s runner does not read a 4xx body and returns a debug rendering of the status enum without field errors';
const D2 = 'docs/differences.md#partial-update: update changes only what it is given; production\'s server clears an omitted name/payload, and production\'s runner rejects payload "" instead of clearing';
const D3 = 'docs/differences.md#error-categories: the error says which refusal it is; production returns a debug rendering of the status enum';
const D4 = 'docs/differences.md#minimum-interval: the minimum interval is computed and out-of-range fields are rejected; production\'s server accepts these crons (its runner, in front of our server, shows our refusal as a debug rendering)';

const schedulerReadCases: ConformanceCase[] = [
  ...(
    [
      ['scheduler.list-schedules', []],
      ['scheduler.get-schedule', [ZERO_UUID]],
      ['scheduler.get-endpoints', []],
    ] as [string, unknown[]][]
  ).flatMap(([fn, args]) => [
    { fn, condition: 'capability not granted', steps: [call(fn, args, err('denied'))] },
    { fn, condition: 'granted, install absent', env: { grant: G, install: 'none' as const }, steps: [call(fn, args, err('denied'))] },
    { fn, condition: 'granted, install unknown to the platform', env: { grant: G, install: 'unknown' as const }, steps: [call(fn, args, err('not-found'))] },
  ]),
  { fn: 'scheduler.list-schedules', condition: 'granted, new install: empty list', env: { grant: G, install: 'fresh' }, steps: [call('scheduler.list-schedules', [], ok([]))] },
  { fn: 'scheduler.get-schedule', condition: 'granted, unknown schedule id', env: { grant: G }, steps: [call('scheduler.get-schedule', [ZERO_UUID], ok(null))] },
  { fn: 'scheduler.get-schedule', condition: 'granted, malformed schedule id', env: { grant: G }, steps: [call('scheduler.get-schedule', ['not-a-uuid'], err('validation-failed'))] },
  { fn: 'scheduler.get-endpoints', condition: 'granted: the manifest\'s endpoints, by path', env: { grant: G }, steps: [call('scheduler.get-endpoints', [], ok(ENDPOINTS))] },
];

const CREATE_INPUT = { endpoint: 'POST /probe', cron: '0 3 * * *' };
const schedulerCreateCases: ConformanceCase[] = [
  { fn: 'scheduler.create-schedule', condition: 'capability not granted', steps: [call('scheduler.create-schedule', [CREATE_INPUT], ok(failure(NOT_GRANTED)))] },
  { fn: 'scheduler.create-schedule', condition: 'granted, install absent', env: { grant: G, install: 'none' }, steps: [call('scheduler.create-schedule', [CREATE_INPUT], ok(failure('Install ID missing')))] },
  {
    fn: 'scheduler.create-schedule', condition: 'granted, install unknown to the platform', env: { grant: G, install: 'unknown' }, decision: D3,
    steps: [call('scheduler.create-schedule', [CREATE_INPUT], ok(failure('Install not found')), ok(debugOf('not-found')))],
  },
  {
    fn: 'scheduler.create-schedule', condition: 'valid, all fields: stored as given', env: { grant: G, install: 'fresh' },
    steps: [
      call('scheduler.create-schedule', [{ endpoint: 'POST /probe', cron: '0 3 * * *', timezone: 'Europe/Paris', enabled: false, name: 'conformance', payload: '{"b":1,"a":[1,2]}' }], CREATE_OK),
      call('scheduler.get-schedule', [ref(0, 'ok.scheduleId')], ok(scheduleInfo({
        id: ref(0, 'ok.scheduleId'), name: 'conformance', cron: '0 3 * * *', timezone: 'Europe/Paris', enabled: false, payload: { $json: { a: [1, 2], b: 1 } },
      }))),
      call('scheduler.list-schedules', [], ok([scheduleInfo({
        id: ref(0, 'ok.scheduleId'), name: 'conformance', cron: '0 3 * * *', timezone: 'Europe/Paris', enabled: false, payload: { $json: { a: [1, 2], b: 1 } },
      })])),
    ],
  },
  {
    fn: 'scheduler.create-schedule', condition: 'valid, defaults (path-only endpoint, UTC, enabled)', env: { grant: G, install: 'fresh' },
    steps: [
      call('scheduler.create-schedule', [{ endpoint: '/probe', cron: '0 3 1 1 *' }], CREATE_OK),
      call('scheduler.get-schedule', [ref(0, 'ok.scheduleId')], ok(scheduleInfo({ id: ref(0, 'ok.scheduleId'), cron: '0 3 1 1 *' }))),
      call('scheduler.delete-schedule', [ref(0, 'ok.scheduleId')], ok({ success: true, error: null })),
    ],
  },
  {
    fn: 'scheduler.create-schedule', condition: 'invalid cron (3 fields)', env: { grant: G, install: 'fresh' }, decision: D1,
    steps: [call('scheduler.create-schedule', [{ ...CREATE_INPUT, cron: '* * *' }], ok(fieldFailure('cron', 'Invalid cron expression (expected 5 fields: m h dom mon dow)')), ok(debugOf('validation-failed')))],
  },
  {
    fn: 'scheduler.create-schedule', condition: 'cron too frequent (*/2 * * * *)', env: { grant: G, install: 'fresh' }, decision: D1,
    steps: [call('scheduler.create-schedule', [{ ...CREATE_INPUT, cron: '*/2 * * * *' }], ok(fieldFailure('cron', 'Cron too frequent (minimum interval is 5 minutes)')), ok(debugOf('validation-failed')))],
  },
  {
    fn: 'scheduler.create-schedule', condition: 'cron too frequent, not by pattern (0-59 * * * *)', env: { grant: G, install: 'fresh' }, decision: D4,
    steps: [call('scheduler.create-schedule', [{ ...CREATE_INPUT, cron: '0-59 * * * *', enabled: false }], ok(fieldFailure('cron', 'Cron too frequent (minimum interval is 5 minutes)')),
      { $oneOf: [ok(debugOf('validation-failed')), ok(record(true))] })],
  },
  {
    fn: 'scheduler.create-schedule', condition: 'cron field out of range (99 * * * *)', env: { grant: G, install: 'fresh' }, decision: D4,
    steps: [call('scheduler.create-schedule', [{ ...CREATE_INPUT, cron: '99 * * * *', enabled: false }], ok(failure({ $regex: '^Invalid cron expression \\(minute field' }, { $json: { cron: { $regex: '^Invalid cron' } } })),
      { $oneOf: [ok(debugOf('validation-failed')), ok(record(true))] })],
  },
  {
    fn: 'scheduler.create-schedule', condition: 'invalid timezone', env: { grant: G, install: 'fresh' }, decision: D1,
    steps: [call('scheduler.create-schedule', [{ ...CREATE_INPUT, timezone: 'Mars/Olympus_Mons' }], ok(fieldFailure('timezone', 'Invalid timezone')), ok(debugOf('validation-failed')))],
  },
  {
    fn: 'scheduler.create-schedule', condition: 'endpoint not schedulable (PUT with a path parameter)', env: { grant: G, install: 'fresh' }, decision: D1,
    steps: [call('scheduler.create-schedule', [{ ...CREATE_INPUT, endpoint: 'PUT /probe/:tag' }], ok(fieldFailure('endpoint', 'Endpoint not found or not schedulable')), ok(debugOf('validation-failed')))],
  },
  {
    fn: 'scheduler.create-schedule', condition: 'payload not JSON (answered by the runner)', env: { grant: G, install: 'fresh' },
    steps: [call('scheduler.create-schedule', [{ ...CREATE_INPUT, payload: '{oops' }], ok(fieldFailure('payload', PAYLOAD_NOT_JSON)))],
  },
  {
    fn: 'scheduler.create-schedule', condition: 'payload a JSON string, not an object or array', env: { grant: G, install: 'fresh' }, decision: D1,
    steps: [call('scheduler.create-schedule', [{ ...CREATE_INPUT, payload: '"text"' }], ok(fieldFailure('payload', 'Payload must be a JSON object or array')), ok(debugOf('validation-failed')))],
  },
  {
    fn: 'scheduler.create-schedule', condition: 'name already in use', env: { grant: G, install: 'fresh' }, decision: D1,
    steps: [
      createStep({ name: 'twice' }),
      call('scheduler.create-schedule', [{ ...CREATE_INPUT, enabled: false, name: 'twice' }], ok(fieldFailure('name', 'Schedule name already in use for this extension')), ok(debugOf('validation-failed'))),
    ],
  },
  {
    fn: 'scheduler.create-schedule', condition: 'rate limited (11th mutation within a minute)', env: { grant: G, install: 'fresh' }, decision: D3,
    steps: [
      ...Array.from({ length: 10 }, () => call('scheduler.create-schedule', [{ ...CREATE_INPUT, cron: 'x' }], ok({ success: false }))),
      call('scheduler.create-schedule', [{ ...CREATE_INPUT, cron: 'x' }], ok(failure('Too many requests, please try again later')), ok(debugOf('quota-exceeded'))),
    ],
  },
];

const schedulerUpdateCases: ConformanceCase[] = [
  { fn: 'scheduler.update-schedule', condition: 'capability not granted', steps: [call('scheduler.update-schedule', [ZERO_UUID, { enabled: false }], ok(failure(NOT_GRANTED)))] },
  { fn: 'scheduler.update-schedule', condition: 'granted, install absent', env: { grant: G, install: 'none' }, steps: [call('scheduler.update-schedule', [ZERO_UUID, { enabled: false }], ok(failure('Install ID missing')))] },
  {
    fn: 'scheduler.update-schedule', condition: 'unknown schedule id', env: { grant: G, install: 'fresh' }, decision: D3,
    steps: [call('scheduler.update-schedule', [ZERO_UUID, { enabled: false }], ok(failure('Schedule not found')), ok(debugOf('validation-failed')))],
  },
  {
    fn: 'scheduler.update-schedule', condition: 'valid: new cron and timezone', env: { grant: G, install: 'fresh' },
    steps: [
      createStep(),
      call('scheduler.update-schedule', [ref(0, 'ok.scheduleId'), { cron: '30 4 * * 1', timezone: 'Asia/Tokyo' }], UPDATE_OK),
      call('scheduler.get-schedule', [ref(0, 'ok.scheduleId')], ok(scheduleInfo({ cron: '30 4 * * 1', timezone: 'Asia/Tokyo', enabled: false }))),
    ],
  },
  {
    fn: 'scheduler.update-schedule', condition: 'omitted name and payload are kept', env: { grant: G, install: 'fresh' }, decision: D2,
    steps: [
      createStep({ name: 'keep-me', payload: '{"k":1}' }),
      call('scheduler.update-schedule', [ref(0, 'ok.scheduleId'), { cron: '0 5 * * *' }], UPDATE_OK),
      call('scheduler.get-schedule', [ref(0, 'ok.scheduleId')], ok({ name: 'keep-me', payload: { $json: { k: 1 } }, cron: '0 5 * * *' }), ok({ name: null, payload: null, cron: '0 5 * * *' })),
    ],
  },
  {
    fn: 'scheduler.update-schedule', condition: 'payload "" clears it (the WIT comment)', env: { grant: G, install: 'fresh' }, decision: D2,
    steps: [
      createStep({ payload: '{"k":1}' }),
      call('scheduler.update-schedule', [ref(0, 'ok.scheduleId'), { payload: '' }], UPDATE_OK, ok(fieldFailure('payload', PAYLOAD_NOT_JSON))),
      call('scheduler.get-schedule', [ref(0, 'ok.scheduleId')], ok({ payload: null }), ok({ payload: { $json: { k: 1 } } })),
    ],
  },
  {
    fn: 'scheduler.update-schedule', condition: 'payload "null" clears it', env: { grant: G, install: 'fresh' },
    steps: [
      createStep({ payload: '{"k":1}' }),
      call('scheduler.update-schedule', [ref(0, 'ok.scheduleId'), { payload: 'null' }], UPDATE_OK),
      call('scheduler.get-schedule', [ref(0, 'ok.scheduleId')], ok({ payload: null })),
    ],
  },
  {
    fn: 'scheduler.update-schedule', condition: 'payload not JSON (answered by the runner)', env: { grant: G, install: 'fresh' },
    steps: [call('scheduler.update-schedule', [ZERO_UUID, { payload: '{oops' }], ok(fieldFailure('payload', PAYLOAD_NOT_JSON)))],
  },
  {
    fn: 'scheduler.update-schedule', condition: 'invalid cron (too frequent)', env: { grant: G, install: 'fresh' }, decision: D1,
    steps: [
      createStep(),
      call('scheduler.update-schedule', [ref(0, 'ok.scheduleId'), { cron: '* * * * *' }], ok(fieldFailure('cron', 'Cron too frequent (minimum interval is 5 minutes)')), ok(debugOf('validation-failed'))),
    ],
  },
  {
    fn: 'scheduler.update-schedule', condition: 'malformed schedule id', env: { grant: G, install: 'fresh' },
    steps: [call('scheduler.update-schedule', ['not-a-uuid', { enabled: false }], ok({ success: false, error: { $regex: '[Vv]alid' } }))],
  },
];

const schedulerDeleteCases: ConformanceCase[] = [
  { fn: 'scheduler.delete-schedule', condition: 'capability not granted', steps: [call('scheduler.delete-schedule', [ZERO_UUID], ok({ success: false, error: NOT_GRANTED }))] },
  { fn: 'scheduler.delete-schedule', condition: 'granted, install absent', env: { grant: G, install: 'none' }, steps: [call('scheduler.delete-schedule', [ZERO_UUID], ok({ success: false, error: 'Install ID missing' }))] },
  {
    fn: 'scheduler.delete-schedule', condition: 'valid: gone afterwards; a second delete is not found', env: { grant: G, install: 'fresh' }, decision: D3,
    steps: [
      createStep(),
      call('scheduler.delete-schedule', [ref(0, 'ok.scheduleId')], ok({ success: true, error: null })),
      call('scheduler.get-schedule', [ref(0, 'ok.scheduleId')], ok(null)),
      call('scheduler.delete-schedule', [ref(0, 'ok.scheduleId')], ok({ success: false, error: 'Schedule not found' }), ok({ success: false, error: { $regex: 'validation-failed|ValidationFailed' } })),
    ],
  },
  {
    fn: 'scheduler.delete-schedule', condition: 'malformed schedule id', env: { grant: G, install: 'fresh' },
    steps: [call('scheduler.delete-schedule', ['not-a-uuid'], ok({ success: false, error: { $regex: '[Vv]alid' } }))],
  },
];

const INVOICE = ['cap:invoice.manual.create'];
/** A version-4 UUID no tenant has (production's invoice validation wants RFC 4122 versions 1–5). */
const RFC_UUID = '9b7c5a3e-2f4d-4c1a-9e8b-1a2b3c4d5e09';
const INVOICE_INPUT = { clientId: ZERO_UUID, items: [{ serviceId: ZERO_UUID, quantity: 1, description: 'conformance', rate: 100 }] };
const ITEM = { serviceId: RFC_UUID, quantity: 1, description: 'conformance', rate: 100 };
const [ACME, GLOBEX, INITECH, JANE] = KIT_PLATFORM_DATA.clients;
const [WORKSTATION, SUPPORT, BACKUP, DOCK] = KIT_PLATFORM_DATA.services;
const INVOICED = {
  clientId: ACME!.clientId, invoiceDate: '2026-12-01', dueDate: '2026-12-31', poNumber: 'PO-42',
  items: [
    { serviceId: WORKSTATION!.serviceId, quantity: 2, description: 'Workstations', rate: 4500 },
    { serviceId: SUPPORT!.serviceId, quantity: 1, description: 'Support hour', rate: 12000 },
    { serviceId: WORKSTATION!.serviceId, quantity: 1, description: '10% off workstations', rate: 10, isDiscount: true, discountType: 'percentage', appliesToServiceId: WORKSTATION!.serviceId },
    { serviceId: SUPPORT!.serviceId, quantity: 1, description: 'Goodwill', rate: 500, isDiscount: true, discountType: 'fixed' },
  ],
};
const charge = (serviceId: string, description: string, quantity: number, rate: number, netAmount: number, discount?: { type: string; appliesToServiceId?: string }) => ({
  itemId: { $type: 'uuid' }, serviceId, description, quantity, rate, netAmount,
  isDiscount: !!discount, discountType: discount?.type ?? null, appliesToItemId: null, appliesToServiceId: discount?.appliesToServiceId ?? null,
});
const invoicingCases: ConformanceCase[] = [
  {
    fn: 'invoicing.create-manual-invoice', condition: 'capability not granted',
    steps: [call('invoicing.create-manual-invoice', [INVOICE_INPUT], ok({ success: false, invoiceId: null, error: 'Permission denied: cap:invoice.manual.create not granted' }))],
  },
  {
    fn: 'invoicing.create-manual-invoice', condition: 'granted, install absent', env: { grant: ['cap:invoice.manual.create'], install: 'none' },
    steps: [call('invoicing.create-manual-invoice', [INVOICE_INPUT], ok({ success: false, invoiceId: null, error: 'Permission denied: install_id missing' }))],
  },
  ...(
    [
      ['no items', { clientId: RFC_UUID, items: [] }, 'Must include at least one item'],
      ['client id not a UUID', { clientId: 'client-1', items: INVOICE_INPUT.items }, 'Invalid UUID'],
      ['quantity 0 and an empty description', { clientId: RFC_UUID, items: [{ serviceId: RFC_UUID, quantity: 0, description: ' ', rate: 1 }] }, 'Must be > 0'],
      ['a percentage discount over 100', { clientId: RFC_UUID, items: [{ serviceId: RFC_UUID, quantity: 1, description: 'd', rate: 101, isDiscount: true, discountType: 'percentage' }] }, 'between 0 and 100'],
      ['a date that is not YYYY-MM-DD', { ...INVOICE_INPUT, clientId: RFC_UUID, invoiceDate: '03/12/2026' }, 'expected YYYY-MM-DD'],
      ['a negative rate', { clientId: RFC_UUID, items: [{ ...ITEM, rate: -1 }] }, 'Must be >= 0'],
      ['a description of 501 characters', { clientId: RFC_UUID, items: [{ ...ITEM, description: 'd'.repeat(501) }] }, 'description.*Too long'],
      ['a PO number of 129 characters', { clientId: RFC_UUID, items: [ITEM], poNumber: 'p'.repeat(129) }, 'poNumber.*Too long'],
      ['a discount without its type', { clientId: RFC_UUID, items: [{ ...ITEM, isDiscount: true }] }, 'Required when isDiscount=true'],
      ['a discount type on a regular item', { clientId: RFC_UUID, items: [{ ...ITEM, discountType: 'fixed' }] }, 'Not allowed unless isDiscount=true'],
      ['appliesTo on a regular item', { clientId: RFC_UUID, items: [{ ...ITEM, appliesToServiceId: RFC_UUID }] }, 'appliesTo. fields require isDiscount=true'],
      ['a discount applying to an item and a service', { clientId: RFC_UUID, items: [{ ...ITEM, isDiscount: true, discountType: 'fixed', appliesToItemId: RFC_UUID, appliesToServiceId: RFC_UUID }] }, 'Provide only one of appliesToItemId or appliesToServiceId'],
    ] as const
  ).map(([condition, input, text]): ConformanceCase => ({
    fn: 'invoicing.create-manual-invoice', condition: `granted, ${condition}: the server's 400, field errors inside the text`, env: { grant: INVOICE },
    steps: [call('invoicing.create-manual-invoice', [input], ok({ success: false, invoiceId: null, fieldErrors: null, error: { $regex: `^http 400: \\{.*"Validation error".*${text}` } }))],
  })),
  {
    fn: 'invoicing.create-manual-invoice', condition: 'granted, install unknown to the platform: the server\'s 404 as text', env: { grant: INVOICE, install: 'unknown' },
    steps: [call('invoicing.create-manual-invoice', [INVOICE_INPUT], ok({ success: false, invoiceId: null, fieldErrors: null, error: { $regex: '^http 404: ' } }))],
  },
  {
    fn: 'invoicing.create-manual-invoice', condition: 'granted, a service the tenant does not have: Service not found', env: { grant: INVOICE },
    steps: [call('invoicing.create-manual-invoice', [{ clientId: ACME!.clientId, items: [ITEM] }], ok({ success: false, invoiceId: null, error: { $regex: '^http 400: .*Service not found' } }))],
  },
  {
    fn: 'invoicing.create-manual-invoice', condition: 'granted, a date that matches YYYY-MM-DD but is no date: the server\'s 400', env: { grant: INVOICE, install: 'fresh' },
    steps: [
      call('invoicing.create-manual-invoice', [{ ...INVOICED, invoiceDate: '2026-02-30' }], ok({ success: false, invoiceId: null, error: { $regex: '^http 400: ' } })),
      { invoices: true, expect: { invoices: [] } },
    ],
  },
  {
    fn: 'invoicing.create-manual-invoice', condition: 'granted, valid: a draft with its number and totals (lines, a percentage and a fixed discount); the row holds every field',
    env: { grant: INVOICE, install: 'fresh' },
    steps: [
      call('invoicing.create-manual-invoice', [INVOICED], ok({
        success: true, invoiceId: { $type: 'uuid' }, invoiceNumber: 'INV-000001', status: 'draft', subtotal: 19_600, tax: 0, total: 19_600, error: null, fieldErrors: null,
      })),
      {
        invoices: true,
        expect: {
          invoices: [{
            invoiceId: ref(0, 'ok.invoiceId'), invoiceNumber: 'INV-000001', status: 'draft', subtotal: 19_600, tax: 0, total: 19_600,
            tenantId: env('tenantId'), installId: env('installId'), clientId: ACME!.clientId, invoiceDate: '2026-12-01', dueDate: '2026-12-31', poNumber: 'PO-42',
            items: [
              charge(WORKSTATION!.serviceId, 'Workstations', 2, 4500, 9000),
              charge(SUPPORT!.serviceId, 'Support hour', 1, 12000, 12000),
              charge(WORKSTATION!.serviceId, '10% off workstations', 1, 10, -900, { type: 'percentage', appliesToServiceId: WORKSTATION!.serviceId }),
              charge(SUPPORT!.serviceId, 'Goodwill', 1, 500, -500, { type: 'fixed' }),
            ],
          }],
        },
      },
    ],
  },
  {
    fn: 'invoicing.create-manual-invoice', condition: 'granted, valid without dates or PO number: dated today, due the same day; the next number',
    env: { grant: INVOICE, install: 'fresh' },
    steps: [
      call('invoicing.create-manual-invoice', [{ clientId: GLOBEX!.clientId, items: [{ serviceId: DOCK!.serviceId, quantity: 3, description: 'Docks', rate: 18_900 }] }],
        ok({ success: true, invoiceNumber: 'INV-000001', status: 'draft', subtotal: 56_700, total: 56_700 })),
      call('invoicing.create-manual-invoice', [{ clientId: GLOBEX!.clientId, items: [{ serviceId: DOCK!.serviceId, quantity: 1, description: 'Dock', rate: 18_900 }] }],
        ok({ success: true, invoiceNumber: 'INV-000002', subtotal: 18_900 })),
      {
        invoices: true,
        expect: {
          invoices: [
            { invoiceId: ref(1, 'ok.invoiceId'), invoiceNumber: 'INV-000002' },
            { invoiceId: ref(0, 'ok.invoiceId'), invoiceNumber: 'INV-000001', clientId: GLOBEX!.clientId, invoiceDate: { $regex: '^\\d{4}-\\d{2}-\\d{2}$' }, poNumber: null, items: [charge(DOCK!.serviceId, 'Docks', 3, 18_900, 56_700)] },
          ],
        },
      },
    ],
  },
  {
    fn: 'invoicing.create-manual-invoice', condition: 'granted, a client the tenant does not have: Client not found', env: { grant: INVOICE },
    steps: [call('invoicing.create-manual-invoice', [{ ...INVOICE_INPUT, clientId: RFC_UUID, items: [{ ...INVOICE_INPUT.items[0], serviceId: RFC_UUID }] }], ok({ success: false, error: { $regex: '^http 400: .*Client not found' } }))],
  },
];

const clientRecord = (c: (typeof KIT_PLATFORM_DATA.clients)[number]) => ({ $exact: { ...c } });
const serviceRecord = ({ description: _d, unitCode: _u, ...s }: (typeof KIT_PLATFORM_DATA.services)[number]) => ({ $exact: s });
const page = (items: Match[], totalCount: number, pageNo = 1, pageSize = 25) => ok({ items, totalCount, page: pageNo, pageSize });
const CLIENTS = { grant: ['cap:client.read'] };
const SERVICES = { grant: ['cap:service.read'] };
/** Production's read queries over the kit's platform data (stand-ins.ts): filters, search, paging, order by name. */
const readApiSuccessCases: ConformanceCase[] = [
  { fn: 'clients.list-clients', condition: 'granted: the active clients, ordered by name, every field', env: CLIENTS, steps: [call('clients.list-clients', [{}], page([ACME, GLOBEX, JANE].map((c) => clientRecord(c!)), 3))] },
  { fn: 'clients.list-clients', condition: 'granted, include-inactive: every client', env: CLIENTS, steps: [call('clients.list-clients', [{ includeInactive: true }], page([ACME, GLOBEX, INITECH, JANE].map((c) => clientRecord(c!)), 4))] },
  {
    fn: 'clients.list-clients', condition: 'granted, search: case-insensitive on the name, the billing email and the id; ILIKE wildcards; no match → an empty page', env: CLIENTS,
    steps: [
      call('clients.list-clients', [{ search: 'GLOB' }], page([clientRecord(GLOBEX!)], 1)),
      call('clients.list-clients', [{ search: 'billing@acme' }], page([clientRecord(ACME!)], 1)),
      call('clients.list-clients', [{ search: JANE!.clientId.slice(-12).toUpperCase() }], page([clientRecord(JANE!)], 1)),
      call('clients.list-clients', [{ search: 'j_ne' }], page([clientRecord(JANE!)], 1)),
      call('clients.list-clients', [{ search: 'no such client' }], page([], 0)),
      call('clients.list-clients', [{ search: 'closed' }], page([], 0)),
      call('clients.list-clients', [{ search: 'closed', includeInactive: true }], page([clientRecord(INITECH!)], 1)),
    ],
  },
  {
    fn: 'clients.list-clients', condition: 'granted, paging: page 2 of size 2; a page past the end is empty with the total', env: CLIENTS,
    steps: [
      call('clients.list-clients', [{ page: 2, pageSize: 2 }], page([clientRecord(JANE!)], 3, 2, 2)),
      call('clients.list-clients', [{ page: 5, pageSize: 2 }], page([], 3, 5, 2)),
    ],
  },
  {
    fn: 'clients.get-client', condition: 'granted: a client of the platform, every field (an inactive one too; the id in any case)', env: CLIENTS,
    steps: [
      call('clients.get-client', [ACME!.clientId], ok(clientRecord(ACME!))),
      call('clients.get-client', [INITECH!.clientId], ok(clientRecord(INITECH!))),
      call('clients.get-client', [JANE!.clientId.toUpperCase()], ok(clientRecord(JANE!))),
    ],
  },
  {
    fn: 'clients.list-clients', condition: 'granted, a signed-in person: answered as without one (the local platform has no roles)', env: { ...CLIENTS, user: 'client_name' },
    steps: [call('clients.list-clients', [{ search: 'globex' }], page([clientRecord(GLOBEX!)], 1)), call('clients.get-client', [ACME!.clientId], ok(clientRecord(ACME!)))],
  },
  {
    fn: 'services.list-services', condition: 'granted, a signed-in person: answered as without one (the local platform has no roles)', env: { ...SERVICES, user: 'client_name' },
    steps: [call('services.list-services', [{ itemKind: 'product' }], page([serviceRecord(DOCK!)], 1)), call('services.get-service', [DOCK!.serviceId], ok(serviceRecord(DOCK!)))],
  },
  { fn: 'services.list-services', condition: 'granted: every service, ordered by name, every field', env: SERVICES, steps: [call('services.list-services', [{}], page([BACKUP, WORKSTATION, SUPPORT, DOCK].map((x) => serviceRecord(x!)), 4))] },
  {
    fn: 'services.list-services', condition: 'granted, filters: item-kind, is-active, billing-method', env: SERVICES,
    steps: [
      call('services.list-services', [{ itemKind: 'product' }], page([serviceRecord(DOCK!)], 1)),
      call('services.list-services', [{ isActive: false }], page([serviceRecord(BACKUP!)], 1)),
      call('services.list-services', [{ isActive: true, itemKind: 'service' }], page([serviceRecord(WORKSTATION!), serviceRecord(SUPPORT!)], 2)),
      call('services.list-services', [{ billingMethod: 'hourly' }], page([serviceRecord(SUPPORT!)], 1)),
      call('services.list-services', [{ billingMethod: 'usage', isActive: true }], page([], 0)),
    ],
  },
  {
    fn: 'services.list-services', condition: 'granted, search: the name, the description (not answered) and the sku, case-insensitive', env: SERVICES,
    steps: [
      call('services.list-services', [{ search: 'remote' }], page([serviceRecord(SUPPORT!)], 1)),
      call('services.list-services', [{ search: 'PATCHING' }], page([serviceRecord(WORKSTATION!)], 1)),
      call('services.list-services', [{ search: 'hw-dock' }], page([serviceRecord(DOCK!)], 1)),
      call('services.list-services', [{ search: 'nothing like it' }], page([], 0)),
    ],
  },
  { fn: 'services.list-services', condition: 'granted, paging: page 2 of size 3', env: SERVICES, steps: [call('services.list-services', [{ page: 2, pageSize: 3 }], page([serviceRecord(DOCK!)], 4, 2, 3))] },
  {
    fn: 'services.get-service', condition: 'granted: a service of the platform, every field', env: SERVICES,
    steps: [call('services.get-service', [WORKSTATION!.serviceId], ok(serviceRecord(WORKSTATION!))), call('services.get-service', [BACKUP!.serviceId], ok(serviceRecord(BACKUP!)))],
  },
];

function readApiCases(iface: 'clients' | 'services', cap: string, listFn: string, getFn: string): ConformanceCase[] {
  const list = `${iface}.${listFn}`;
  const get = `${iface}.${getFn}`;
  const g = { grant: [cap] };
  return [
    { fn: list, condition: 'capability not granted', steps: [call(list, [{}], err('not-allowed'))] },
    { fn: list, condition: 'page 0', env: g, steps: [call(list, [{ page: 0 }], err('invalid-input'))] },
    { fn: list, condition: 'page size 0', env: g, steps: [call(list, [{ pageSize: 0 }], err('invalid-input'))] },
    { fn: list, condition: 'page size 101', env: g, steps: [call(list, [{ pageSize: 101 }], err('invalid-input'))] },
    { fn: get, condition: 'capability not granted', steps: [call(get, [ZERO_UUID], err('not-allowed'))] },
    { fn: list, condition: 'granted, install absent', env: { ...g, install: 'none' }, steps: [call(list, [{}], err('not-allowed'))] },
    { fn: get, condition: 'granted, install absent', env: { ...g, install: 'none' }, steps: [call(get, [ZERO_UUID], err('not-allowed'))] },
    { fn: list, condition: 'granted: a page with production\'s defaults (page 1, 25)', env: g, steps: [call(list, [{}], ok({ items: { $type: 'array' }, totalCount: { $type: 'number' }, page: 1, pageSize: 25 }))] },
    { fn: list, condition: 'granted: page 3 of 10 is answered as asked', env: g, steps: [call(list, [{ page: 3, pageSize: 10 }], ok({ items: { $type: 'array' }, totalCount: { $type: 'number' }, page: 3, pageSize: 10 }))] },
    { fn: list, condition: 'granted: search of 201 characters is the server\'s 400', env: g, steps: [call(list, [{ search: 'x'.repeat(201) }], err('invalid-input'))] },
    { fn: list, condition: 'granted: page 10 001 is the server\'s 400', env: g, steps: [call(list, [{ page: 10_001 }], err('invalid-input'))] },
    { fn: get, condition: 'granted: an id nobody has → none', env: g, steps: [call(get, [ZERO_UUID], ok(null))] },
    { fn: get, condition: 'granted: an id that is not a UUID is the server\'s 400', env: g, steps: [call(get, ['not-a-uuid'], err('invalid-input'))] },
    { fn: list, condition: 'granted, install unknown to the platform: the server\'s 404 → internal', env: { ...g, install: 'unknown' }, steps: [call(list, [{}], err('internal'))] },
    { fn: get, condition: 'granted, install unknown to the platform: the server\'s 404 → internal', env: { ...g, install: 'unknown' }, steps: [call(get, [ZERO_UUID], err('internal'))] },
  ];
}

const executeCases: ConformanceCase[] = [
  { fn: '/v1/execute', condition: 'the component of this world answers', steps: [{ route: 'GET /world', expect: { response: { status: 200, body: { world: env('worldId') } } } }] },
  { fn: '/v1/execute', condition: 'guest traps: execute_failed', steps: [{ route: 'POST /trap', expect: { envelope: { status: 500, error: { $regex: '^execute_failed: ' } } } }] },
  { fn: '/v1/execute', condition: 'unknown capability', env: { grant: ['cap:nope'] }, steps: [{ route: 'GET /world', expect: { envelope: { status: 400, error: 'unknown_capabilities: cap:nope' } } }] },
  { fn: '/v1/execute', condition: 'routing headers missing', env: { noRoutingHeaders: true }, steps: [{ route: 'GET /world', expect: { envelope: { status: 400, error: 'missing_routing_headers' } } }] },
];

export const CASES: readonly ConformanceCase[] = [
  ...executeCases,
  ...contextCases,
  ...secretsCases,
  ...httpCases,
  ...wasiHttpCases,
  ...storageCases,
  ...loggingCases,
  ...uiProxyCases,
  ...userCases,
  ...schedulerReadCases,
  ...schedulerCreateCases,
  ...schedulerUpdateCases,
  ...schedulerDeleteCases,
  ...invoicingCases,
  ...readApiCases('clients', 'cap:client.read', 'list-clients', 'get-client'),
  ...readApiCases('services', 'cap:service.read', 'list-services', 'get-service'),
  ...readApiSuccessCases,
];

/** The interfaces a case needs (from its steps' calls). */
export function interfacesOf(c: ConformanceCase): InterfaceId[] {
  const out = new Set<InterfaceId>();
  for (const s of c.steps) if (s.call) out.add(s.call.split('.')[0] as InterfaceId);
  return [...out];
}

/** A stable id: `<fn> [<condition>]`. */
export function caseId(c: ConformanceCase): string {
  return `${c.fn} [${c.condition}]`;
}
