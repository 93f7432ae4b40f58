/** The kit's report: a table for people, JSON for CI. */
import type { CaseResult, ConformanceReport } from './kit.js';

const shortDecision = (d: string | undefined): string => (d ? d.split(':')[0]!.trim() : '');

function resultText(r: CaseResult): string {
  if (r.outcome === 'pass') return r.decision ? `pass (fixes production: ${shortDecision(r.decision)})` : 'pass';
  if (r.outcome === 'documented') return `DIFFERS AS DOCUMENTED (${shortDecision(r.decision)})`;
  return 'FAIL';
}

/** One row per world, function and case; a failure or documented difference gets its reason below it. */
export function formatTable(report: ConformanceReport): string {
  const rows = report.results.map((r) => [r.world, r.fn, r.condition, resultText(r)]);
  const head = ['WORLD', 'FUNCTION', 'CASE', 'RESULT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const out: string[] = [];
  out.push(`Conformance of ${report.target} to the alga:extension/runner contract`);
  for (const w of report.worlds) out.push(`  world ${w.id.padEnd(10)} since ${w.since}: ${w.description} (component ${w.contentHash.slice(0, 19)}…)`);
  out.push('');
  out.push(line(head));
  out.push(line(widths.map((n) => '-'.repeat(n))));
  report.results.forEach((r, i) => {
    out.push(line(rows[i]!));
    if (r.outcome !== 'pass' && r.message) out.push(`      ↳ ${r.message}`);
  });
  out.push('');
  const decisions = [...new Set(report.results.filter((r) => r.decision && r.outcome !== 'fail').map((r) => r.decision!))];
  if (decisions.length) {
    out.push('Where our contract deliberately differs from production:');
    for (const d of decisions) out.push(`  - ${d}`);
    out.push('');
  }
  const s = report.summary;
  out.push(`${s.total} cases in ${report.worlds.length} world(s): ${s.pass} pass, ${s.documented} differ as documented, ${s.fail} fail`);
  if (s.fail) {
    out.push('Failures:');
    for (const r of report.results.filter((x) => x.outcome === 'fail')) out.push(`  ${failureLine(r)}`);
  }
  return out.join('\n') + '\n';
}

/** `FAIL <world> <fn> [<condition>]: <what differs>` */
export function failureLine(r: CaseResult): string {
  return `FAIL ${r.world} ${r.fn} [${r.condition}]: ${r.message ?? ''}`;
}

export function formatJson(report: ConformanceReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
