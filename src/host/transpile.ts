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
import { WORLD_IMPORTS, type InterfaceName } from './world.js';
import { IN_GUEST_INTERFACES } from './interfaces/in-guest.js';

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

/**
 * jco wraps every synchronous host import in component-model task bookkeeping, made for async
 * imports and calls between components: per call a task and a subtask (objects with promises, id
 * maps, a current-task switch) around the host function. A sync import of our world, called by a
 * sync guest, uses none of it; it cost a third of a data-only call's time in jco's glue
 * (docs/sandbox.md). The same goes for the WASI clocks' `now` and `resolution`, which a
 * componentize-js guest calls at each of its garbage collections (several times per 100 import
 * calls that allocate). This patch rewrites each such trampoline of the exact shape it knows so the
 * core module calls it directly: what stays is jco's may-leave check (a guest may not call out from
 * its allocator), the lifting and lowering, the host call through `_trackHostOperation`, and the
 * trap marking of a thrown runtime error. A trampoline that returns a value returns what jco's
 * wrapper returned: the value it resolved its task with, which must be the very expression it
 * returns (`ret` or one of jco's integer conversions of it). A trampoline that differs in any part,
 * or whose rewrite still names a task, is left as jco wrote it.
 */
const DIRECT_IMPORTS = String.raw`alga:extension\/[^']+|wasi:clocks\/(?:monotonic-clock|wall-clock)@[\w.-]+#(?:now|resolution)(?:\$\d+)?`;
const TASK_PROLOGUE = new RegExp(
  [
    String.raw`const hostProvided = true;\s*let parentTask;\s*let task;\s*let subtask;\s*`,
    String.raw`const createTask = \(\) => \{\s*const results = createNewCurrentTask\(\{[^{}]*\}\);\s*task = results\[0\];\s*\};\s*`,
    String.raw`taskCreation: \{\s*parentTask = getCurrentTask\(\s*(\d+),\s*_getGlobalCurrentTaskMeta\(\1\)\?\.taskID,\s*\)\?\.task;\s*`,
    String.raw`if \(!parentTask\) \{\s*createTask\(\);\s*break taskCreation;\s*\}\s*createTask\(\);\s*`,
    String.raw`if \(hostProvided\) \{\s*subtask = parentTask\.getLatestSubtask\(\);\s*if \(!subtask\) \{\s*throw new Error\(\x60[^\x60]*\x60\);\s*\}\s*task\.setParentSubtask\(subtask\);\s*\}\s*\}\s*`,
    String.raw`const started = task\.enterSync\(\);`,
  ].join(''),
  'g',
);
const TASK_HOST_CALL = /_withGlobalCurrentTaskMeta\(\{\s*componentIdx: task\.componentIdx\(\),\s*taskID: task\.id\(\),\s*fn: \(\) => (_trackHostOperation\(\(\) => [\w$]+\([^()]*\)\)),\s*\}\)\s*;/g;
const TASK_CATCH = /_debugLog\('\[Instruction::CallInterface\] error during sync call', \{\s*taskID: task\.id\(\),\s*subtaskID: task\.getParentSubtask\(\)\?\.id\(\),\s*err,\s*\}\);\s*(getOrCreateAsyncState\(\d+\)\.markTrapped\(err\);)\s*task\.setErrored\(err\);\s*task\.reject\(err\);\s*task\.exit\(\);\s*(throw err;)/g;
const TASK_EPILOGUE = /task\.resolve\(\[ret\]\);\s*task\.exit\(\);\s*\}$/;
/** A trampoline returning a value: its task's value and its return are the same pure expression. */
const TASK_EPILOGUE_RETURN = /task\.resolve\(\[(ret|to(?:Ui|I)nt(?:8|16|32|64)\(ret\))\]\);\s*task\.exit\(\);\s*return \1;\s*\}$/;
const DIRECT_RETURN = /\n\s*return (?:ret|to(?:Ui|I)nt(?:8|16|32|64)\(ret\));\n\}$/;
/** What must be gone from a rewritten trampoline. */
const TASK_NAMES = /(?<![\w$.'"])(task|subtask|parentTask|hostProvided|started|_withGlobalCurrentTaskMeta|return)(?![\w$])/;

function countMatches(text: string, re: RegExp): number {
  return text.match(re)?.length ?? 0;
}

/** The trampoline's function text without the task bookkeeping, or null when it is not of the
 * shape above. */
function directTrampoline(fn: string): { text: string; componentIdx: string } | null {
  const prologue = [...fn.matchAll(TASK_PROLOGUE)];
  const returns = TASK_EPILOGUE_RETURN.test(fn);
  if (prologue.length !== 1 || countMatches(fn, TASK_HOST_CALL) !== 1 || countMatches(fn, TASK_CATCH) > 1 || !(returns || TASK_EPILOGUE.test(fn))) return null;
  const componentIdx = prologue[0]![1]!;
  const open = fn.indexOf('{\n') + 1;
  const text = (fn.slice(0, open) + `\n    _checkMayLeave(${componentIdx});` + fn.slice(open))
    .replace(TASK_PROLOGUE, '')
    .replace(TASK_HOST_CALL, '$1;')
    .replace(TASK_CATCH, '$1\n      $2')
    .replace(returns ? TASK_EPILOGUE_RETURN : TASK_EPILOGUE, returns ? 'return $1;\n}' : '}');
  // The one return allowed is the value's, at the end.
  return TASK_NAMES.test(returns ? text.replace(DIRECT_RETURN, '\n}') : text) ? null : { text, componentIdx };
}

/** Index just past the parenthesis that closes the one at `open`, skipping quoted strings; -1 when
 * there is none or a template literal is in the way (not a shape this patch knows). */
function closingParen(js: string, open: number): number {
  let depth = 0;
  for (let i = open; i < js.length; i++) {
    const c = js[i];
    if (c === '`') return -1;
    if (c === "'" || c === '"') {
      for (i++; i < js.length && js[i] !== c; i++) if (js[i] === '\\') i++;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

/** The glue with each `alga:extension/*` and WASI clock trampoline of the known shape called
 * directly (see above), and how many were rewritten and left. */
export function patchHostImports(js: string): { js: string; direct: number; kept: number } {
  const trampolines = [...js.matchAll(new RegExp(String.raw`^ *_trampoline(\d+)\.fnName = '(?:${DIRECT_IMPORTS})';$`, 'gm'))];
  // The rewrite calls jco's own may-leave check, which its wrapper called: it must be there.
  if (countMatches(js, /^ *function _checkMayLeave\(componentIdx\) \{$/gm) !== 1) return { js, direct: 0, kept: trampolines.length };
  let out = js;
  let direct = 0;
  let kept = 0;
  for (const [, n] of trampolines) {
    const rewritten = directImport(out, n!);
    if (rewritten === null) kept++;
    else {
      out = rewritten;
      direct++;
    }
  }
  return { js: out, direct, kept };
}

/** `js` with trampoline `n` rewritten and bound directly, or null when either part is not of the
 * known shape. */
function directImport(js: string, n: string): string | null {
  const head = new RegExp(String.raw`^( *)const _trampoline${n} = function\(([\w$, ]*)\) \{$`, 'm').exec(js);
  const tail = js.indexOf(`\n${head?.[1] ?? ''}_trampoline${n}.fnName = `);
  if (!head || tail < head.index) return null;
  const fn = directTrampoline(js.slice(head.index, tail));
  if (!fn) return null;
  // The binding: `let trampolineN = _trampolineN.manuallyAsync ? <JSPI wrapper> : <task wrapper>;`,
  // both of jco's sync wrapper around it, for this component and this function only.
  const bindHead = `let trampoline${n} = _trampoline${n}.manuallyAsync ? new WebAssembly.Suspending(_suspendingImport(${fn.componentIdx}, _lowerImportBackwardsCompat.bind(`;
  const bindStart = js.indexOf(bindHead);
  if (bindStart < 0 || js.indexOf(bindHead, bindStart + 1) >= 0) return null;
  const suspendEnd = closingParen(js, bindStart + bindHead.length - 1);
  const elseHead = `)) : _lowerImportBackwardsCompat.bind(`;
  if (suspendEnd < 0 || !js.startsWith(elseHead, suspendEnd)) return null;
  const bindEnd = closingParen(js, suspendEnd + elseHead.length - 1);
  if (bindEnd < 0 || js[bindEnd] !== ';') return null;
  const binding = js.slice(bindStart, bindEnd + 1);
  const sync = [`isAsync: false,`, `funcTypeIsAsync: false,`, `importFn: _trampoline${n},`, `componentIdx: ${fn.componentIdx},`];
  if (!sync.every((field) => binding.split(field).length === 3)) return null;
  return js.slice(0, head.index) + fn.text + js.slice(tail, bindStart) + `let trampoline${n} = _trampoline${n};` + js.slice(bindEnd + 1);
}

interface GluePatches {
  /** The debug helper was patched (patchGlue). */
  gluePatched: boolean;
  /** `alga:extension/*` trampolines called directly, and left as jco wrote them (patchHostImports). */
  directImports: number;
  keptImports: number;
}

/** `files` with component.js patched (patchGlue, then patchHostImports), each patch where it applies. */
function patchFiles(files: Record<string, Uint8Array>): { files: Record<string, Uint8Array> } & GluePatches {
  const glue = files[GLUE_FILE];
  if (!glue) return { files, gluePatched: false, directImports: 0, keptImports: 0 };
  const original = Buffer.from(glue).toString('utf8');
  const helper = patchGlue(original);
  const imports = patchHostImports(helper ?? original);
  if (helper === null && imports.direct === 0) return { files, gluePatched: false, directImports: 0, keptImports: imports.kept };
  return {
    files: { ...files, [GLUE_FILE]: new Uint8Array(Buffer.from(imports.js, 'utf8')) },
    gluePatched: helper !== null,
    directImports: imports.direct,
    keptImports: imports.kept,
  };
}

const GLUE_FILE = 'component.js';
/** Changes whenever what transpileComponent writes for the same bytes changes (a patch added): the
 * on-disk cache keeps transpiles by content hash and this revision. */
export const TRANSPILE_REVISION = 'r4';

export interface TranspileResult extends GluePatches {
  files: Record<string, Uint8Array>;
  /** False when the stubbed transpile failed or did not verify and the whole component was read. */
  stubbed: boolean;
  /** The glue is jco's JSPI glue, verified (verifyJspiGlue); false: the sync glue. */
  jspi: boolean;
  /** I/O trampolines bound as suspending (0 in the sync glue). */
  asyncImports: number;
}

/**
 * The JSPI glue (Node ≥ 24.20, `WebAssembly.Suspending`): every function of the world's I/O
 * interfaces is an async import that suspends the guest, and the handler export returns a promise,
 * so the sandbox worker can run those imports itself, async, with no hop to the main thread
 * (docs/sandbox.md). The data-only interfaces stay synchronous (and patched as above). Its own
 * revision: a cache folder never holds one glue for the other.
 */
export const JSPI_REVISION = 'j1';

/** `alga:extension/<iface>#<fn>` (WIT names) of every function of the world's I/O interfaces. */
export const IO_IMPORTS: readonly string[] = Object.entries(WORLD_IMPORTS)
  .filter(([iface]) => !IN_GUEST_INTERFACES[iface as InterfaceName])
  .flatMap(([iface, fns]) => fns.map((fn) => `${iface}#${fn.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`));
export const HANDLER_EXPORT = 'handler';

const JSPI_OPTIONS = { ...TRANSPILE_OPTIONS, asyncMode: 'jspi', asyncImports: [...IO_IMPORTS], asyncExports: [HANDLER_EXPORT] } as Parameters<typeof transpileBytes>[1];

/** jco's function names of the I/O interfaces as its glue spells them (`iface#fnName`, maybe `$n`). */
const IO_GLUE_NAMES = new Set(
  Object.entries(WORLD_IMPORTS)
    .filter(([iface]) => !IN_GUEST_INTERFACES[iface as InterfaceName])
    .flatMap(([iface, fns]) => fns.map((fn) => `${iface}#${fn === 'delete' ? '_delete' : fn}`)),
);

/**
 * Whether jco's JSPI glue has the shape the worker relies on: every `alga:extension/*` trampoline of
 * an I/O function is async and marked manually async (bound through a `WebAssembly.Suspending`),
 * no other trampoline is, and the handler is the one export wrapped by `WebAssembly.promising`.
 * Anything else (a newer jco): the sync glue is used, and the bridge with it.
 */
export function verifyJspiGlue(js: string): { ok: true; asyncImports: number } | { ok: false; reason: string } {
  const asyncMarks = [...js.matchAll(/^ *_trampoline(\d+)\.manuallyAsync = true;$/gm)].map((m) => m[1]!);
  const named = new Map([...js.matchAll(/^ *_trampoline(\d+)\.fnName = '([^']+)';$/gm)].map((m) => [m[1]!, m[2]!.replace(/\$\d+$/, '')]));
  let io = 0;
  for (const [n, name] of named) {
    const isIo = IO_GLUE_NAMES.has(name);
    const isAsync = asyncMarks.includes(n);
    if (isIo !== isAsync) return { ok: false, reason: `trampoline ${name} is ${isAsync ? '' : 'not '}async` };
    if (isIo) {
      io++;
      if (!new RegExp(String.raw`^ *const _trampoline${n} = async function\(`, 'm').test(js)) return { ok: false, reason: `trampoline ${name} is not an async function` };
      if (!js.includes(`let trampoline${n} = _trampoline${n}.manuallyAsync ? new WebAssembly.Suspending(`)) return { ok: false, reason: `trampoline ${name} is not bound as suspending` };
    }
  }
  if (asyncMarks.length !== io) return { ok: false, reason: 'an async trampoline that is not an I/O import' };
  if (countMatches(js, /\bWebAssembly\.promising\([\w$.]*\.handler\)/g) !== 1 || countMatches(js, /^ *exports\d+Handler = WebAssembly\.promising\(exports\d+\.handler\);$/gm) !== 1) {
    return { ok: false, reason: 'the handler is not the one promising export' };
  }
  if (countMatches(js, /^ *async function handler\(/gm) !== 1) return { ok: false, reason: 'the handler is not async' };
  return { ok: true, asyncImports: io };
}

export interface TranspileOptions {
  /** The JSPI glue (see JSPI_REVISION); falls back to the sync glue when jco's output is not verified. */
  jspi?: boolean;
}

async function transpileWith(bytes: Uint8Array, options: Parameters<typeof transpileBytes>[1]): Promise<{ files: Record<string, Uint8Array>; stubbed: boolean }> {
  try {
    const { component, swaps } = stubComponent(bytes);
    if (swaps.length) {
      const { files } = await transpileBytes(component, options);
      const restored = unstub(files as Record<string, Uint8Array>, swaps);
      if (restored) return { files: restored, stubbed: true };
    }
  } catch {
    // Fall through: jco reports the real problem on the real component.
  }
  const { files } = await transpileBytes(bytes, options);
  return { files: files as Record<string, Uint8Array>, stubbed: false };
}

/** jco's transpile output (glue + core modules) for a component's bytes. */
export async function transpileComponent(bytes: Uint8Array, opts: TranspileOptions = {}): Promise<TranspileResult> {
  if (opts.jspi) {
    const { files, stubbed } = await transpileWith(bytes, JSPI_OPTIONS);
    const glue = files[GLUE_FILE];
    const verified = glue ? verifyJspiGlue(Buffer.from(glue).toString('utf8')) : { ok: false as const, reason: 'no glue' };
    if (verified.ok) {
      const patched = patchFiles(files);
      // The patches must leave every I/O trampoline async (the rewrite knows only sync ones).
      const after = verifyJspiGlue(Buffer.from(patched.files[GLUE_FILE]!).toString('utf8'));
      if (after.ok && after.asyncImports === verified.asyncImports) return { ...patched, stubbed, jspi: true, asyncImports: verified.asyncImports };
    }
  }
  const { files, stubbed } = await transpileWith(bytes, TRANSPILE_OPTIONS);
  return { ...patchFiles(files), stubbed, jspi: false, asyncImports: 0 };
}
