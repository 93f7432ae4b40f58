/** The reason text after `execute_failed: ` for each way a sandboxed execution can fail. */
import type { SandboxFailure } from './pool.js';

export function failureMessage(f: { reason: SandboxFailure; message: string }, memoryMb: number): string {
  switch (f.reason) {
    case 'timeout':
      return f.message; // "timeout: execution exceeded N ms and was stopped"
    case 'memory':
      return `memory limit exceeded: the guest used up its ${memoryMb} MB of linear memory (${f.message})`;
    case 'stack-overflow':
      return `stack overflow: ${f.message}`;
    case 'response-too-large':
      return `response too large: ${f.message}`;
    case 'trap':
      return `guest trapped: ${f.message}`;
    default:
      return f.message;
  }
}
