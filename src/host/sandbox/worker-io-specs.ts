/**
 * The WorkerIoSpecs a pool has seen, each with a small id, so a task names its spec by id and the
 * spec itself (which may carry a whole platform-data file) crosses into a worker only the first
 * time that worker needs it. Specs equal in value share an id, so a producer that builds a new
 * object per execution still gets one set of services per worker, and each object is serialized
 * once (a platform's spec function returns the same object every time).
 */
import type { WorkerIoSpec } from '../ports.js';

export class WorkerIoSpecs {
  private readonly byObject = new WeakMap<WorkerIoSpec, number>();
  /** By value; the key may hold a password or token: it never leaves this map. */
  private readonly byValue = new Map<string, number>();

  idOf(spec: WorkerIoSpec): number {
    let id = this.byObject.get(spec);
    if (id === undefined) {
      const key = JSON.stringify([spec.module, spec.options]);
      id = this.byValue.get(key);
      if (id === undefined) {
        id = this.byValue.size + 1;
        this.byValue.set(key, id);
      }
      this.byObject.set(spec, id);
    }
    return id;
  }
}
