import type { SandboxPoolStats } from './pool.js';

/**
 * Why the sandboxes cannot take an execution, or undefined when they can (docs/differences.md#readiness):
 * every sandbox is busy and at least one of them is past its execution's deadline, a guest the runner
 * should have stopped. Merely busy is not it: executions then wait their turn, each within its deadline.
 */
export function sandboxesNotReady(s: Pick<SandboxPoolStats, 'workers' | 'busy' | 'overdue'> | undefined): string | undefined {
  if (!s || s.workers === 0 || s.busy < s.workers || s.overdue === 0) return undefined;
  return `every sandbox is busy (${s.busy}) and ${s.overdue} ${s.overdue === 1 ? 'is' : 'are'} past its execution deadline`;
}
