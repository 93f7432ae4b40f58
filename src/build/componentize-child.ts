/**
 * Child-process body for `buildComponent` (src/build/componentize.ts): runs componentize-js in its own
 * process. Reasons: componentize-js runs wizer with `spawnSync` (~10 s; it would block the event loop of
 * a dev server, and it hands `process.stdout` to the child, which a worker thread cannot do), and it needs
 * preview2-shim's process-global `/` preopen (dropped by preview2-shim 0.26.1), which must not leak into
 * the runner's own WASI host.
 *
 * Protocol: started with `fork()`; receives one `ComponentizeJob` over IPC, writes the component to
 * `job.outPath`, answers one `ComponentizeReply` and exits.
 */
import { writeFile } from 'node:fs/promises';

export interface ComponentizeJob {
  sourcePath: string;
  witPath: string;
  worldName: string;
  disableFeatures: string[];
  /** Where to write the component bytes. */
  outPath: string;
}

export type ComponentizeReply = { ok: true; bytes: number } | { ok: false; message: string; stack?: string };

async function run(job: ComponentizeJob): Promise<ComponentizeReply> {
  try {
    const fs = (await import('@bytecodealliance/preview2-shim/filesystem')) as unknown as {
      _setPreopens(p: Record<string, string>): void;
    };
    fs._setPreopens({ '/': '/' });
    const { componentize } = await import('@bytecodealliance/componentize-js');
    const { component } = await componentize({
      sourcePath: job.sourcePath,
      witPath: job.witPath,
      worldName: job.worldName,
      disableFeatures: job.disableFeatures as ('stdio' | 'random' | 'clocks' | 'http' | 'fetch-event')[],
    });
    await writeFile(job.outPath, component);
    return { ok: true, bytes: component.byteLength };
  } catch (err) {
    const e = err as { message?: unknown; stack?: unknown };
    const message = typeof e?.message === 'string' ? e.message : String(err);
    return { ok: false, message, stack: typeof e?.stack === 'string' ? e.stack : undefined };
  }
}

if (process.send) {
  // The builder went away: nobody will rename our output, so stop (effective between sync steps).
  process.once('disconnect', () => process.exit(1));
  process.once('message', (job: ComponentizeJob) => {
    void run(job).then((reply) => {
      process.send!(reply, () => process.exit(0));
    });
  });
}
