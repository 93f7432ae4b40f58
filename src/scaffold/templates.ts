/**
 * The files `alga-runner new` writes, per template. `basic`: one JSON endpoint that reads the
 * context and the user and logs a line. `scheduler`: a setup endpoint that creates its schedule
 * idempotently, a schedulable endpoint that records each run in storage, a status endpoint that
 * reads it back. Each comes with a test on the test kit that passes as generated.
 */
export type TemplateName = 'basic' | 'scheduler';
export const TEMPLATES: readonly TemplateName[] = ['basic', 'scheduler'];

export interface TemplateInput {
  /** Manifest name, reverse-DNS (`com.acme.nightly-sync`). */
  name: string;
  publisher: string;
  /** npm package name of the folder. */
  packageName: string;
  /** What package.json depends on for alga-node-runner: `file:…` or a version range. */
  runnerDependency: string;
}

interface Endpoint {
  method: string;
  path: string;
  schedulable?: boolean;
  /** Body `alga-runner exec` sends in the README's example (and the test of `new`). */
  exampleBody?: string;
}

interface Template {
  capabilities: string[];
  endpoints: Endpoint[];
  source: string;
  test: string;
  readme: string;
}

const basic: Template = {
  capabilities: ['cap:context.read', 'cap:user.read', 'cap:log.emit'],
  endpoints: [{ method: 'GET', path: '/api/hello' }],
  source: `/**
 * GET /api/hello: who is asking (the request's context and signed-in user), as JSON, and a log line.
 */
import type { ExecuteRequest, ExecuteResponse, UserData } from 'alga:extension/types';
import { getUser } from 'alga:extension/user';
import { Router, context, json, log, witErrorPayload } from 'alga-node-runner/sdk';

function currentUser(): { user: UserData } | { error: string } {
  try {
    return { user: getUser() };
  } catch (e) {
    return { error: String(witErrorPayload(e)) }; // not-available when the request carries no user
  }
}

const app = new Router().get('/api/hello', () => {
  const ctx = context.get();
  const who = currentUser();
  const name = 'user' in who ? who.user.userName : 'nobody';
  log.info(\`hello \${name} of tenant \${ctx.tenantId}\`);
  return json(200, {
    message: \`Hello, \${name}!\`,
    tenant: ctx.tenantId,
    extension: ctx.extensionId,
    user: 'user' in who ? { id: who.user.userId, email: who.user.userEmail, type: who.user.userType } : null,
    userError: 'error' in who ? who.error : null,
  });
});

export function handler(request: ExecuteRequest): ExecuteResponse {
  return app.handle(request);
}
`,
  test: `// Tests on the real runtime (alga-node-runner/testing): \`npm test\`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestRuntime } from 'alga-node-runner/testing';

let rt;
before(async () => {
  rt = await createTestRuntime({ extension: fileURLToPath(new URL('..', import.meta.url)) });
});
after(() => rt?.close());

test('GET /api/hello greets the signed-in user and logs a line', async () => {
  const user = { userId: 'u-1', userEmail: 'ada@example.com', userName: 'Ada', userType: 'internal', clientName: 'Acme' };
  const res = await rt.request('GET', '/api/hello', { user });
  assert.equal(res.status, 200, await res.text());
  const body = await res.json();
  assert.equal(body.message, 'Hello, Ada!');
  assert.equal(body.tenant, 'local');
  assert.deepEqual(body.user, { id: 'u-1', email: 'ada@example.com', type: 'internal' });
  assert.ok(rt.logs().some((l) => l.message === 'hello Ada of tenant local'));
});

test('without a signed-in user it still answers', async () => {
  const body = await (await rt.request('GET', '/api/hello')).json();
  assert.equal(body.user, null);
  assert.equal(body.userError, 'not-available');
});
`,
  readme: 'One endpoint, `GET /api/hello`, that reads the request\'s context and user and logs a line.',
};

const scheduler: Template = {
  capabilities: ['cap:scheduler.manage', 'cap:storage.kv', 'cap:context.read', 'cap:log.emit'],
  endpoints: [
    { method: 'POST', path: '/api/setup', exampleBody: '{}' },
    { method: 'POST', path: '/api/sync', schedulable: true, exampleBody: '{}' },
    { method: 'GET', path: '/api/status' },
  ],
  source: `/**
 * A scheduled job:
 * - POST /api/setup   creates the "Sync" schedule (every 15 minutes) unless it exists: call it again safely
 * - POST /api/sync    what the schedule runs: records the run in storage (namespace "sync")
 * - GET  /api/status  the runs recorded so far
 */
import type { ExecuteRequest, ExecuteResponse } from 'alga:extension/types';
import { Router, header, json, log, scheduler, statusForSchedulerError, statusForStorageError, storage } from 'alga-node-runner/sdk';

const SCHEDULE = { name: 'Sync', endpoint: 'POST /api/sync', cron: '*/15 * * * *', timezone: 'UTC' };
const NS = 'sync';

interface SyncState {
  runs: number;
  last: string | null;
}

function readState(): SyncState | { error: ExecuteResponse } {
  const r = storage.getJson<SyncState>(NS, 'state');
  if (r.ok) return r.value.value;
  if (r.error === 'missing') return { runs: 0, last: null };
  return { error: json(statusForStorageError(r.error), { error: r.error }) };
}

const app = new Router()
  .post('/api/setup', () => {
    const list = scheduler.list();
    if (!list.ok) return json(statusForSchedulerError(list.error), { error: list.error });
    const existing = list.value.find((s) => s.name === SCHEDULE.name);
    if (existing) return json(200, { created: [], existing: [existing.id] });
    const created = scheduler.create({ ...SCHEDULE, payload: { source: 'setup' } });
    if (!created.ok) return json(400, { error: created.error });
    log.info(\`created schedule \${SCHEDULE.name}: \${created.value.scheduleId}\`);
    return json(200, { created: [created.value.scheduleId], existing: [] });
  })
  .post('/api/sync', (req) => {
    const state = readState();
    if ('error' in state) return state.error;
    // A scheduled call says when it was due; a manual call has no such header.
    const at = header(req.request, 'x-alga-scheduled-time') ?? new Date().toISOString();
    const next: SyncState = { runs: state.runs + 1, last: at };
    const put = storage.putJson(NS, 'state', next);
    if (!put.ok) return json(statusForStorageError(put.error), { error: put.error });
    log.info(\`sync run \${next.runs} for \${at}\`);
    return json(200, next);
  })
  .get('/api/status', () => {
    const state = readState();
    return 'error' in state ? state.error : json(200, state);
  });

export function handler(request: ExecuteRequest): ExecuteResponse {
  return app.handle(request);
}
`,
  test: `// Tests on the real runtime (alga-node-runner/testing): \`npm test\`. The clock is manual:
// advanceClock runs every schedule that falls due on the way, as real time would.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestRuntime } from 'alga-node-runner/testing';

let rt;
before(async () => {
  rt = await createTestRuntime({
    extension: fileURLToPath(new URL('..', import.meta.url)),
    clock: { start: '2030-01-01T08:00:00Z' },
  });
});
after(() => rt?.close());

test('setup creates the schedule once', async () => {
  const first = await (await rt.request('POST', '/api/setup', { body: {} })).json();
  assert.equal(first.created.length, 1);
  const again = await (await rt.request('POST', '/api/setup', { body: {} })).json();
  assert.deepEqual(again.created, []);
  assert.deepEqual((await rt.schedules()).map((s) => s.name), ['Sync']);
});

test('an hour later the schedule has run four times, each recorded in storage', async () => {
  const runs = await rt.advanceClock('2030-01-01T09:00:00Z');
  assert.deepEqual(runs.map((r) => r.occurrence), ['08:15', '08:30', '08:45', '09:00'].map((t) => \`2030-01-01T\${t}:00.000Z\`));
  assert.ok(runs.every((r) => r.status === 'success'), JSON.stringify(runs));
  const stored = await rt.storage('sync').get('state');
  assert.deepEqual(JSON.parse(new TextDecoder().decode(stored.value)), { runs: 4, last: '2030-01-01T09:00:00.000Z' });
  const status = await (await rt.request('GET', '/api/status')).json();
  assert.equal(status.runs, 4);
});
`,
  readme: 'A scheduled job: `POST /api/setup` creates its schedule (every 15 minutes) idempotently, `POST /api/sync` is what the schedule runs and records each run in storage, `GET /api/status` reads the record back.',
};

const BY_NAME: Record<TemplateName, Template> = { basic, scheduler };

export function templateEndpoints(t: TemplateName): readonly Endpoint[] {
  return BY_NAME[t].endpoints;
}

/** The folder's files (relative path → content). */
export function renderTemplate(t: TemplateName, input: TemplateInput): Record<string, string> {
  const tpl = BY_NAME[t];
  const manifest = {
    name: input.name,
    publisher: input.publisher,
    version: '0.1.0',
    runtime: 'wasm-js@1',
    main: 'dist/main.wasm',
    source: 'src/index.ts',
    capabilities: tpl.capabilities,
    api: { endpoints: tpl.endpoints.map((e) => ({ method: e.method, path: e.path, handler: 'dist/main', ...(e.schedulable ? { schedulable: true } : {}) })) },
  };
  const pkg = {
    name: input.packageName,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { build: 'alga-runner build .', test: 'node --test', dev: 'alga-runner dev .' },
    devDependencies: { 'alga-node-runner': input.runnerDependency },
  };
  const tsconfig = {
    // For the editor: the guest is bundled by alga-runner (esbuild), which does not type-check.
    compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022'], types: [], strict: true, noEmit: true, skipLibCheck: true },
    include: ['src'],
  };
  const curl = tpl.endpoints
    .map((e) => `npx alga-runner exec --component dist/main.wasm --manifest manifest.json ${e.method} ${e.path}${e.exampleBody ? ` --body '${e.exampleBody}'` : ''}`)
    .join('\n');
  const readme = `# ${input.name}

An Alga PSA extension (a WebAssembly component of world \`alga:extension/runner\`). ${tpl.readme}

\`\`\`sh
npm install
npm test          # test/extension.test.mjs on the real runtime (alga-node-runner/testing)
npm run dev       # serves it at http://127.0.0.1:3000/api/ext/${input.name}/… (rebuilds on change)
npm run build     # the component to deploy: dist/main.wasm (manifest.json "main")
\`\`\`

One request without a server, after \`npm run build\`:

\`\`\`sh
${curl}
\`\`\`

Code: \`src/index.ts\` (on \`alga-node-runner/sdk\`); endpoints and capabilities: \`manifest.json\`.
`;
  return {
    'manifest.json': JSON.stringify(manifest, null, 2) + '\n',
    'package.json': JSON.stringify(pkg, null, 2) + '\n',
    'tsconfig.json': JSON.stringify(tsconfig, null, 2) + '\n',
    'src/index.ts': tpl.source,
    'test/extension.test.mjs': tpl.test,
    '.gitignore': 'node_modules/\ndist/\n.alga/\n',
    'README.md': readme,
  };
}
