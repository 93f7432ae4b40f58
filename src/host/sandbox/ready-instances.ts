/**
 * Instances of each component variant kept ready in one sandbox worker, so an execution never waits
 * for an instantiation (10–30 ms) and never sees state left by another one.
 *
 * - `snapshot` mode (default): the live instance is restored to its snapshot after every successful
 *   execution (memory + globals, see snapshot.ts). The snapshot is taken after one warm-up call with
 *   a synthetic request whose host calls reach no service, so every execution starts from the same
 *   warm engine state (restoring to the state right after instantiation works too, but leaves the
 *   guest's JS engine cold: a call then costs ~3x more). If the warm-up fails, the snapshot is the
 *   freshly instantiated state. An instance that trapped, grew its memory, changed a table or served
 *   `MAX_USES` executions is discarded and the spare takes over.
 * - `fresh-instance` mode: every execution gets a never-used instance.
 * Either way a spare is instantiated right after one is handed out, after the response is posted.
 * A warm-up may be async (jco's JSPI glue returns a promise from the handler); the worker runs
 * refills in its one queue of work (`schedule`), so two guests never run interleaved in a thread.
 */
import { InstanceSnapshot, type CoreInstanceState } from './snapshot.js';

/** `shared-instance` gives NO isolation (one instance serves every execution, state leaks between
 * them): it exists only as the baseline of bench/isolation-throughput. Never use it to serve. */
export type IsolationMode = 'snapshot' | 'fresh-instance' | 'shared-instance';

export interface GuestExports {
  handler(request: unknown): unknown;
}

export interface ReadyInstance {
  guest: GuestExports;
  memory: WebAssembly.Memory;
  snapshot?: InstanceSnapshot;
  uses: number;
}

/** Instantiates the variant; `cores` receives each core instance as it is created. */
export type Instantiator = () => { guest: GuestExports; cores: CoreInstanceState[]; marked?: boolean };

/** Executions one restored instance may serve before it is replaced (bounds any state kept outside
 * wasm, e.g. resource handles in jco's glue that a guest forgot to drop). */
export const MAX_USES = 1000;
/** Variants whose instances a worker keeps; older ones are dropped (their modules stay). */
export const MAX_VARIANTS_WITH_INSTANCES = 4;

export type WarmUp = (guest: GuestExports) => boolean | Promise<boolean>;

interface VariantInstances {
  create: Instantiator;
  warmUp: WarmUp;
  live?: ReadyInstance;
  spare?: ReadyInstance;
  refilling: boolean;
  /** False once a warm-up call failed: snapshots of this variant are then taken cold. */
  warmable: boolean;
  /** False once a full compare found a write the marks missed: restores then compare in full. */
  marksTrusted: boolean;
}

function memoryOf(cores: CoreInstanceState[]): WebAssembly.Memory {
  for (const c of cores) {
    const m = c.instance.exports.memory;
    if (m instanceof WebAssembly.Memory) return m;
  }
  throw new Error('component has no exported linear memory');
}

export class ReadyInstances {
  private readonly variants = new Map<string, VariantInstances>();

  /** `schedule`: how a refill runs after the current work (default: the next event-loop turn). */
  constructor(
    private readonly mode: IsolationMode,
    private readonly schedule: (work: () => Promise<void>) => void = (work) => void setImmediate(() => void work()),
  ) {}

  has(key: string): boolean {
    return this.variants.has(key);
  }

  register(key: string, create: Instantiator, warmUp: WarmUp): void {
    if (!this.variants.has(key)) this.variants.set(key, { create, warmUp, refilling: false, warmable: true, marksTrusted: true });
  }

  /** Makes sure the variant has a live and a spare instance (used by `prepare`). */
  async fill(key: string): Promise<void> {
    const v = this.touch(key);
    v.live ??= await this.make(v);
    v.spare ??= await this.make(v);
  }

  /** An instance to run one execution on: the live one, else the spare, else a new one. */
  async take(key: string): Promise<ReadyInstance> {
    const v = this.touch(key);
    const ready = v.live ?? v.spare ?? (await this.make(v));
    if (ready === v.live) v.live = undefined;
    else if (ready === v.spare) v.spare = undefined;
    ready.uses++;
    return ready;
  }

  /** Hands the instance back after its execution; returns why it was discarded, if it was. */
  release(key: string, ready: ReadyInstance, succeeded: boolean): string | undefined {
    const v = this.variants.get(key);
    if (!v) return 'variant dropped';
    let discarded: string | undefined;
    if (!succeeded) discarded = 'execution failed';
    else if (this.mode === 'shared-instance') {
      v.live = ready;
      return undefined;
    } else if (this.mode === 'fresh-instance' || !ready.snapshot) discarded = 'single use';
    else if (ready.uses >= MAX_USES) discarded = 'use limit reached';
    else discarded = ready.snapshot.refusal();
    if (discarded === undefined) {
      discarded = ready.snapshot!.restore();
      if (discarded) {
        // Marks missed a write: no instance of this variant restores by marks again.
        v.marksTrusted = false;
        v.spare = undefined;
      } else v.live = ready;
    }
    this.scheduleRefill(key, v);
    return discarded;
  }

  private touch(key: string): VariantInstances {
    const v = this.variants.get(key);
    if (!v) throw new Error(`component variant ${key} is not loaded in this worker`);
    // Map order is recency order: move to the end, drop instances of the oldest beyond the bound.
    this.variants.delete(key);
    this.variants.set(key, v);
    let withInstances = 0;
    for (const [, other] of [...this.variants].reverse()) {
      if (!other.live && !other.spare) continue;
      if (++withInstances > MAX_VARIANTS_WITH_INSTANCES) {
        other.live = undefined;
        other.spare = undefined;
      }
    }
    return v;
  }

  private scheduleRefill(key: string, v: VariantInstances): void {
    if (v.refilling) return;
    v.refilling = true;
    // After the current message is handled (its response is already posted).
    this.schedule(async () => {
      v.refilling = false;
      if (this.variants.get(key) !== v) return;
      try {
        if (!v.live && this.mode !== 'fresh-instance') {
          v.live = v.spare;
          v.spare = undefined;
        }
        v.spare ??= await this.make(v);
        if (!v.live && this.mode !== 'fresh-instance') v.live = await this.make(v);
      } catch {
        // Instantiation failed: the next execution instantiates on its own and reports why.
      }
    });
  }

  private async make(v: VariantInstances): Promise<ReadyInstance> {
    if (this.mode !== 'snapshot') {
      const { guest, cores } = v.create();
      return { guest, memory: memoryOf(cores), uses: 0 };
    }
    const snapshotted = ({ guest, cores, marked }: ReturnType<Instantiator>): ReadyInstance => ({
      guest,
      memory: memoryOf(cores),
      snapshot: new InstanceSnapshot(memoryOf(cores), cores, marked === true && v.marksTrusted),
      uses: 0,
    });
    if (v.warmable) {
      const created = v.create();
      if (await v.warmUp(created.guest)) return snapshotted(created);
      v.warmable = false; // a trapped instance is unusable: snapshot a fresh one instead
    }
    return snapshotted(v.create());
  }
}
