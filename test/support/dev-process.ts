/** `alga-runner dev` as a user runs it: a child process, its output collected, its server's URL. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './components.js';

export const CLI = join(projectRoot(), 'bin', 'alga-runner.js');
/** How long a dev start-up may take before a test gives up on it (a hang guard, not a measure). */
export const STARTUP_GUARD_MS = 600_000;

export interface DevProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port> */
  url: string;
  output(): string;
  /** Resolves when the output matches (checked on every chunk), rejects after `ms` or on exit. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** Ctrl-C; resolves the exit code. */
  stop(): Promise<number | null>;
}

/** Runs a command to its end. */
export function runCli(args: string[], env: Record<string, string>, cwd = projectRoot()): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `alga-runner dev <args>` and waits for its startup block (or its exit, which rejects). */
export async function startDev(args: string[], env: Record<string, string>): Promise<DevProcess> {
  const child = spawn(process.execPath, [CLI, 'dev', '--port', '0', ...args], { env: { ...process.env, ...env }, cwd: projectRoot() });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d;
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exitCode: number | null | undefined;
  child.on('exit', (code) => {
    exitCode = code;
    for (const w of [...waiters]) w();
  });
  const waitFor = (re: RegExp, ms = 120_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(out);
        if (m) {
          done();
          resolve(m);
        } else if (exitCode !== undefined) {
          done();
          reject(new Error(`dev exited with ${exitCode} before ${re}:\n${out}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${re} within ${ms} ms:\n${out}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  // Start-up may componentize the extension (95 s on a loaded machine) or wait for another process
  // building it: only a hang reaches this bound (an exit rejects at once).
  const m = await waitFor(/Metrics: (http:\/\/127\.0\.0\.1:\d+)\/metrics/, STARTUP_GUARD_MS);
  return {
    child,
    url: m[1]!,
    output: () => out,
    waitFor,
    stop: async () => {
      if (exitCode !== undefined) return exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGINT');
      return exited;
    },
  };
}
