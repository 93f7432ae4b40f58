/**
 * The dashboard page `dev` serves at `/`: one self-contained HTML document (no build step, no
 * CDN; the machine may have no network). It polls the admin API every 2 s, so it updates without a
 * reload; lists are cut to what a screen shows (history: the newest 200 runs of the chosen schedule).
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>alga-runner dev</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  :root { font: 14px/1.4 system-ui, sans-serif; color: #1d232a; background: #f6f7f9; }
  body { margin: 0; }
  header { background: #1d232a; color: #fff; padding: 10px 16px; display: flex; gap: 16px; align-items: baseline; }
  header h1 { font-size: 16px; margin: 0; }
  header small { opacity: .7; }
  main { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; padding: 12px; }
  section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 10px 12px; overflow: auto; max-height: 560px; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 14px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eef0f2; vertical-align: top; }
  th { font-weight: 600; color: #55606b; font-size: 12px; }
  code, .mono { font-family: ui-monospace, monospace; font-size: 12px; }
  .ok { color: #137333; } .bad { color: #b3261e; } .warn { color: #8a5a00; } .dim { color: #77818b; }
  button { font: inherit; font-size: 12px; padding: 1px 8px; cursor: pointer; }
  tr.sel { background: #eef4ff; }
  .logs { margin: 2px 0 0 12px; color: #55606b; white-space: pre-wrap; }
  .filters { display: flex; gap: 8px; margin-bottom: 6px; }
</style>
</head>
<body>
<header><h1>alga-runner dev</h1><small id="updated">loading…</small><small id="error" class="bad"></small></header>
<main>
  <section class="wide" id="installs-section"><h2>Installs and endpoints</h2><div id="installs"></div></section>
  <section class="wide"><h2>Schedules</h2>
    <div class="filters">run now at (optional, ISO): <input id="run-at" placeholder="2026-01-01T00:00:00Z" size="26"></div>
    <table id="schedules"><thead><tr><th>name</th><th>tenant</th><th>endpoint</th><th>cron</th><th>timezone</th><th>next runs (in its timezone)</th><th>enabled</th><th>last run</th><th></th></tr></thead><tbody></tbody></table>
  </section>
  <section><h2>Run history <span id="history-of" class="dim"></span></h2>
    <table id="runs"><thead><tr><th>occurrence</th><th>trigger</th><th>attempt</th><th>status</th><th>HTTP</th><th>duration</th><th>error</th></tr></thead><tbody></tbody></table>
  </section>
  <section><h2>Recent executions</h2>
    <div class="filters">
      <select id="f-endpoint"><option value="">all endpoints</option></select>
      <select id="f-status"><option value="">any status</option><option value="ok">2xx</option><option value="client">4xx</option><option value="fail">5xx / failed</option></select>
    </div>
    <div id="executions"></div>
  </section>
  <section class="wide"><h2>Storage and secrets</h2><div id="storage"></div></section>
</main>
<script>
const token = new URLSearchParams(location.search).get('token');
const headers = token ? { authorization: 'Bearer ' + token } : {};
const state = { selected: null, schedules: [], overview: null };
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const inZone = (iso, tz) => { try { return new Date(iso).toLocaleString('sv-SE', { timeZone: tz, hour12: false }).slice(0, 16); } catch { return iso; } };
const statusClass = (s) => s === 'success' || (s >= 200 && s < 400) ? 'ok' : s === 'skipped' || (s >= 400 && s < 500) ? 'warn' : 'bad';
async function api(method, path) {
  const res = await fetch(path, { method, headers });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((body.error || res.status) + ': ' + (body.message || ''));
  return body;
}
function renderInstalls(list) {
  document.getElementById('installs').innerHTML = list.map((i) =>
    '<p><b>' + esc(i.extension) + '</b>@' + esc(i.version) + ' · tenant <b>' + esc(i.tenantId) + '</b> · ' + (i.enabled ? '<span class="ok">enabled</span>' : '<span class="bad">disabled</span>') +
    ' · <code>' + esc((i.contentHash || '').slice(0, 19)) + '…</code><br><span class="dim">capabilities:</span> ' + i.capabilities.map((c) => '<code>' + esc(c) + '</code>').join(' ') + '</p>' +
    '<table><thead><tr><th>method</th><th>path</th><th>schedulable</th></tr></thead><tbody>' +
    i.endpoints.map((e) => '<tr><td><code>' + esc(e.method) + '</code></td><td><code>' + esc(e.path) + '</code></td><td>' + (e.schedulable ? '<span class="ok">yes</span>' : '<span class="dim">no: ' + esc(e.whyNot) + '</span>') + '</td></tr>').join('') +
    '</tbody></table>').join('') || '<p class="dim">nothing installed</p>';
  document.getElementById('storage').innerHTML = list.map((i) =>
    '<p><b>' + esc(i.extension) + '</b> · tenant ' + esc(i.tenantId) + ' · secret keys: ' + (i.secretKeys.length ? i.secretKeys.map((k) => '<code>' + esc(k) + '</code>').join(' ') : '<span class="dim">none</span>') + '</p>' +
    (i.storage.length ? '<table><thead><tr><th>namespace</th><th>key</th><th>revision</th><th>value</th><th></th></tr></thead><tbody>' +
      i.storage.map((s) => '<tr data-install="' + esc(i.installId) + '" data-ns="' + esc(s.namespace) + '" data-key="' + esc(s.key) + '"><td><code>' + esc(s.namespace) + '</code></td><td><code>' + esc(s.key) + '</code></td><td>' + s.revision + '</td><td class="mono">' + esc(JSON.stringify(s.value)).slice(0, 300) + '</td><td><button data-act="delete-key">delete</button></td></tr>').join('') + '</tbody></table>'
      : '<p class="dim">no storage entries</p>')).join('');
}
function renderSchedules(list) {
  document.querySelector('#schedules tbody').innerHTML = list.map((s) =>
    '<tr data-id="' + esc(s.id) + '"' + (s.id === state.selected ? ' class="sel"' : '') + '><td><a href="#" data-act="select">' + esc(s.name || '(unnamed)') + '</a><br><span class="dim mono">' + esc(s.id.slice(0, 8)) + '</span></td>' +
    '<td>' + esc(s.tenantId) + '</td><td><code>' + esc(s.method) + ' ' + esc(s.path) + '</code></td>' +
    '<td><code>' + esc(s.cron) + '</code><br>' + esc(s.cronText) + '</td><td>' + esc(s.timezone) + '</td>' +
    '<td class="mono">' + (s.next.map((n) => esc(inZone(n, s.timezone))).join('<br>') || '—') + '</td>' +
    '<td>' + (s.enabled ? '<span class="ok">enabled</span>' : '<span class="dim">disabled</span>') + '</td>' +
    '<td>' + (s.lastRunStatus ? '<span class="' + statusClass(s.lastRunStatus) + '">' + esc(s.lastRunStatus) + '</span>' : '<span class="dim">never</span>') + (s.lastError ? '<br><span class="bad">' + esc(s.lastError) + '</span>' : '') + '</td>' +
    '<td><button data-act="run-now">run now</button> <button data-act="' + (s.enabled ? 'disable' : 'enable') + '">' + (s.enabled ? 'disable' : 'enable') + '</button> <button data-act="delete">delete</button></td></tr>').join('')
    || '<tr><td colspan="9" class="dim">no schedules yet (POST the extension\\'s setup endpoint)</td></tr>';
}
async function renderRuns() {
  const tbody = document.querySelector('#runs tbody');
  const s = state.schedules.find((x) => x.id === state.selected);
  document.getElementById('history-of').textContent = s ? '— ' + (s.name || s.id) : '(choose a schedule)';
  if (!s) { tbody.innerHTML = ''; return; }
  const { runs } = await api('GET', '/api/admin/extensions/schedules/' + s.id + '/runs?limit=200');
  tbody.innerHTML = runs.map((r) => '<tr class="run"><td class="mono">' + esc(inZone(r.occurrenceAt, s.timezone)) + '</td><td>' + esc(r.trigger) + '</td><td>' + r.attempt + '/' + r.maxAttempts + '</td>' +
    '<td class="' + statusClass(r.status) + '">' + esc(r.status) + '</td><td>' + esc(r.httpStatus) + '</td><td>' + (r.durationMs ?? '') + (r.durationMs != null ? ' ms' : '') + '</td><td class="bad">' + esc(r.error) + '</td></tr>').join('')
    || '<tr><td colspan="7" class="dim">no runs yet</td></tr>';
}
function renderExecutions(list) {
  const sel = document.getElementById('f-endpoint');
  const endpoints = [...new Set(list.map((e) => e.method + ' ' + e.path))].sort();
  const current = sel.value;
  sel.innerHTML = '<option value="">all endpoints</option>' + endpoints.map((e) => '<option' + (e === current ? ' selected' : '') + '>' + esc(e) + '</option>').join('');
  const fs = document.getElementById('f-status').value;
  const shown = list.filter((e) => (!current || e.method + ' ' + e.path === current) && (!fs || (fs === 'ok' ? e.status >= 200 && e.status < 400 : fs === 'client' ? e.status >= 400 && e.status < 500 : e.error || e.status >= 500))).slice(0, 200);
  document.getElementById('executions').innerHTML = shown.map((e) =>
    '<div class="execution" data-rid="' + esc(e.requestId) + '"><span class="dim mono">' + esc(e.at.slice(11, 19)) + '</span> <code>' + esc(e.method) + ' ' + esc(e.path) + '</code> <span class="' + (e.error ? 'bad' : statusClass(e.status)) + '">' + esc(e.status ?? 'failed') + '</span> ' +
    (e.durationMs ?? '') + ' ms · ' + esc(e.trigger) + (e.tenant && e.tenant !== 'local' ? ' · tenant ' + esc(e.tenant) : '') + (e.error ? ' <span class="bad">' + esc(e.error) + '</span>' : '') + (e.replayable ? ' <button data-act="replay">replay</button>' : '') +
    (e.logs.length ? '<div class="logs">' + e.logs.map((l) => esc(l.level) + '  ' + esc(l.msg)).join('\\n') + '</div>' : '') + '</div>').join('') || '<p class="dim">no executions yet</p>';
}
async function refresh() {
  try {
    const [{ schedules }, overview] = await Promise.all([api('GET', '/api/admin/extensions/schedules'), api('GET', '/api/admin/dev/overview')]);
    state.schedules = schedules; state.overview = overview;
    if (!state.selected && schedules[0]) state.selected = schedules[0].id;
    renderInstalls(overview.installs); renderSchedules(schedules); renderExecutions(overview.executions); await renderRuns();
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    document.getElementById('error').textContent = '';
  } catch (e) { document.getElementById('error').textContent = String(e.message || e); }
}
document.getElementById('schedules').addEventListener('click', async (ev) => {
  const act = ev.target.dataset && ev.target.dataset.act; if (!act) return;
  ev.preventDefault();
  const id = ev.target.closest('tr').dataset.id;
  try {
    if (act === 'select') state.selected = id;
    if (act === 'run-now') { const at = document.getElementById('run-at').value.trim(); await api('POST', '/api/admin/extensions/schedules/' + id + '/run-now' + (at ? '?at=' + encodeURIComponent(at) : '')); state.selected = id; }
    if (act === 'enable' || act === 'disable') await api('POST', '/api/admin/dev/schedules/' + id + '/' + act);
    if (act === 'delete' && confirm('Delete this schedule?')) await api('DELETE', '/api/admin/dev/schedules/' + id);
  } catch (e) { document.getElementById('error').textContent = String(e.message || e); }
  await refresh();
});
document.getElementById('executions').addEventListener('click', async (ev) => {
  if (!(ev.target.dataset && ev.target.dataset.act === 'replay')) return;
  try { await api('POST', '/api/admin/dev/executions/' + encodeURIComponent(ev.target.closest('.execution').dataset.rid) + '/replay'); }
  catch (e) { document.getElementById('error').textContent = String(e.message || e); }
  await refresh();
});
document.getElementById('storage').addEventListener('click', async (ev) => {
  if (!(ev.target.dataset && ev.target.dataset.act === 'delete-key')) return;
  const row = ev.target.closest('tr').dataset;
  try {
    if (confirm('Delete storage key ' + row.ns + '/' + row.key + '?')) await api('DELETE', '/api/admin/dev/storage/' + [row.install, row.ns, row.key].map(encodeURIComponent).join('/'));
  } catch (e) { document.getElementById('error').textContent = String(e.message || e); }
  await refresh();
});
document.getElementById('f-endpoint').addEventListener('change', () => state.overview && renderExecutions(state.overview.executions));
document.getElementById('f-status').addEventListener('change', () => state.overview && renderExecutions(state.overview.executions));
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
`;
