/**
 * jco's transpile of a component, without making jco read what it does not need.
 *
 * jco validates and walks every byte of the component, yet copies each core module to its output
 * unchanged; for componentize-js output that is a 12 MB SpiderMonkey module, ~75% of the transpile.
 * So each large core module is swapped for a stub with the same types, imports, exports, memories,
 * tables and globals whose function bodies are `unreachable` (and without code, data, element and
 * large custom sections); jco transpiles that, and the stub's output file is replaced by the real
 * module. What is checked: every stub comes out of jco unchanged as exactly one output file (else
 * the whole component is transpiled as it is). What is argued: jco's JS glue depends only on a core
 * module's interface, which the stub keeps (a test compares every output file against a transpile
 * of the whole component). The real modules are validated when compiled.
 */
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import { Reader, section, sections, u32Bytes } from './sandbox/wasm-binary.js';

const TRANSPILE_OPTIONS = { name: 'component', instantiation: { tag: 'async' } } as Parameters<typeof transpileBytes>[1];
/** Core modules smaller than this are left in place (not worth it). */
const STUB_MIN_BYTES = 64 * 1024;
/** Custom sections up to this size are kept in a stub (e.g. target features); larger ones (names,
 * debug info) are dropped. */
const KEEP_CUSTOM_MAX_BYTES = 4096;

const COMPONENT_CORE_MODULE = 1;
const MODULE = { custom: 0, function: 3, element: 9, code: 10, data: 11, dataCount: 12 } as const;
/** An empty body (no locals) that traps: `unreachable end`. Valid for any function type. */
const TRAP_BODY = [3, 0x00, 0x00, 0x0b];

export interface StubSwap {
  module: Uint8Array;
  stub: Uint8Array;
}

/** A core module with the same interface and no code (see above). */
export function stubCoreModule(module: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [module.subarray(0, 8)];
  let definedFunctions = 0;
  for (const s of sections(module)) {
    if (s.id === MODULE.function) definedFunctions = new Reader(module.subarray(s.bodyStart, s.end)).u32();
    if (s.id === MODULE.element || s.id === MODULE.data || s.id === MODULE.dataCount) continue;
    if (s.id === MODULE.custom && s.end - s.bodyStart > KEEP_CUSTOM_MAX_BYTES) continue;
    if (s.id === MODULE.code) {
      const body = [...u32Bytes(definedFunctions)];
      for (let i = 0; i < definedFunctions; i++) body.push(...TRAP_BODY);
      parts.push(section(MODULE.code, body));
      continue;
    }
    parts.push(module.subarray(s.start, s.end));
  }
  return Buffer.concat(parts);
}

/** Bytes 4..7 of a component (version 0x0d, layer 1); a core module has version 1, layer 0. */
const COMPONENT_PREAMBLE = [0x0d, 0x00, 0x01, 0x00];

/** The component with each large top-level core module replaced by its stub; anything that is not
 * a component is returned as it is, for jco to judge. */
export function stubComponent(component: Uint8Array): { component: Uint8Array; swaps: StubSwap[] } {
  if (COMPONENT_PREAMBLE.some((b, i) => component[4 + i] !== b)) return { component, swaps: [] };
  const parts: Uint8Array[] = [component.subarray(0, 8)];
  const swaps: StubSwap[] = [];
  for (const s of sections(component)) {
    if (s.id === COMPONENT_CORE_MODULE && s.end - s.bodyStart >= STUB_MIN_BYTES) {
      const module = component.subarray(s.bodyStart, s.end);
      const stub = stubCoreModule(module);
      swaps.push({ module, stub });
      parts.push(section(COMPONENT_CORE_MODULE, stub));
    } else {
      parts.push(component.subarray(s.start, s.end));
    }
  }
  return { component: swaps.length ? Buffer.concat(parts) : component, swaps };
}

/** The output files with each stub replaced by its module, or null when a stub is not exactly one
 * output file (jco changed it, or two files are alike): then the stubbed output cannot be trusted. */
export function unstub(files: Record<string, Uint8Array>, swaps: StubSwap[]): Record<string, Uint8Array> | null {
  const out = { ...files };
  const used = new Set<string>();
  for (const { module, stub } of swaps) {
    const names = Object.keys(files).filter((n) => n.endsWith('.wasm') && Buffer.from(files[n]!).equals(stub));
    if (names.length !== 1 || used.has(names[0]!)) return null;
    used.add(names[0]!);
    out[names[0]!] = module;
  }
  return out;
}

/**
 * jco's glue defines one logging helper that every trampoline calls, several times per host call
 * (270 call sites in the sample), and it reads the environment's JCO_DEBUG on each of them: Node's
 * environment object is a C++ property interceptor, the largest single cost of a host call in jco's glue
 * (docs/sandbox.md). The patch reads JCO_DEBUG once, when the glue module loads, and keeps the
 * helper's behaviour otherwise (console.debug of the same arguments when it is set).
 */
const JCO_DEBUG_LOG = /const _debugLog = \(\.\.\.args\) => \{\s*if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}\s*console\.debug\(\.\.\.args\);\s*\};/g;
export const PATCHED_DEBUG_LOG =
  'const _debugLog = globalThis?.process?.env?.JCO_DEBUG ? (...args) => { console.debug(...args); } : () => {};';

/** The glue with jco's debug helper patched, or null when the glue does not have exactly one
 * definition of the shape this patch knows (a newer jco): then the glue is used as jco wrote it. */
export function patchGlue(js: string): string | null {
  const found = js.match(JCO_DEBUG_LOG);
  if (!found || found.length !== 1) return null;
  const out = js.replace(JCO_DEBUG_LOG, () => PATCHED_DEBUG_LOG);
  // Verified: the helper is defined once, as patched, and nothing else of the glue changed.
  if (out.split('const _debugLog =').length !== 2 || out.length !== js.length - found[0]!.length + PATCHED_DEBUG_LOG.length) return null;
  return out;
}

/** `files` with component.js patched (see patchGlue); `patched` false when it was left as it is. */
function patchFiles(files: Record<string, Uint8Array>): { files: Record<string, Uint8Array>; patched: boolean } {
  const glue = files[GLUE_FILE];
  if (!glue) return { files, patched: false };
  const patched = patchGlue(Buffer.from(glue).toString('utf8'));
  if (patched === null) return { files, patched: false };
  return { files: { ...files, [GLUE_FILE]: new Uint8Array(Buffer.from(patched, 'utf8')) }, patched: true };
}

const GLUE_FILE = 'component.js';
/** Changes whenever what transpileComponent writes for the same bytes changes (a patch added): the
 * on-disk cache keeps transpiles by content hash and this revision. */
export const TRANSPILE_REVISION = 'r2';

export interface TranspileResult {
  files: Record<string, Uint8Array>;
  /** False when the stubbed transpile failed or did not verify and the whole component was read. */
  stubbed: boolean;
  /** False when jco's glue did not have the shape `patchGlue` knows and was kept as it is. */
  gluePatched: boolean;
}

/** jco's transpile output (glue + core modules) for a component's bytes. */
export async function transpileComponent(bytes: Uint8Array): Promise<TranspileResult> {
  try {
    const { component, swaps } = stubComponent(bytes);
    if (swaps.length) {
      const { files } = await transpileBytes(component, TRANSPILE_OPTIONS);
      const restored = unstub(files as Record<string, Uint8Array>, swaps);
      if (restored) {
        const out = patchFiles(restored);
        return { files: out.files, stubbed: true, gluePatched: out.patched };
      }
    }
  } catch {
    // Fall through: jco reports the real problem on the real component.
  }
  const { files } = await transpileBytes(bytes, TRANSPILE_OPTIONS);
  const out = patchFiles(files as Record<string, Uint8Array>);
  return { files: out.files, stubbed: false, gluePatched: out.patched };
}
