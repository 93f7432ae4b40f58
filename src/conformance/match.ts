/**
 * Expected observations: plain JSON values plus a few `$` forms, compared against what the
 * conformance component (or the runner's envelope) reported.
 *
 * - a primitive or null: equal (`null` also stands for an absent option)
 * - an array: same length, element by element
 * - an object: every listed key matches (keys not listed are not checked)
 * - `{ $exact: {...} }`: an object with exactly these keys, each matching
 * - `{ $type: 'string'|'number'|'boolean'|'array'|'object'|'uuid' }`
 * - `{ $regex: '...' }`: a string matching the pattern
 * - `{ $oneOf: [m, ...] }`: any of the alternatives
 * - `{ $unordered: [m, ...] }`: an array with these elements in any order
 * - `{ $json: m }`: a string holding JSON that matches m
 * - `{ $bytesJson: m }`: `{ "$bytes": base64 }` whose bytes are JSON matching m
 * - `{ $env: 'name' }`: a value known only at run time (tenant id, request id, …), see `resolveEnv`
 * - `{ $any: true }`: anything, including absent
 */
import { isGuid } from '../shared/uuid.js';
export type Match = unknown;


function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function special(m: Record<string, unknown>): string | undefined {
  const keys = Object.keys(m);
  return keys.length === 1 && keys[0]!.startsWith('$') && !['$bytes', '$u64'].includes(keys[0]!) ? keys[0] : undefined;
}

/** Replaces `{ $env: name }` (anywhere) with `env[name]`; throws on an unknown name. */
export function resolveEnv(m: Match, env: Record<string, unknown>): Match {
  if (Array.isArray(m)) return m.map((x) => resolveEnv(x, env));
  if (isObj(m)) {
    if (special(m) === '$env') {
      const name = String(m.$env);
      if (!(name in env)) throw new Error(`unknown $env "${name}"`);
      return env[name];
    }
    return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, resolveEnv(v, env)]));
  }
  return m;
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? 'absent' : s.length > 300 ? `${s.slice(0, 300)}…` : s;
};

/** Describes the first mismatch, or returns undefined when `value` matches. `path` names where. */
export function mismatch(m: Match, value: unknown, path = ''): string | undefined {
  const at = path || '(value)';
  if (isObj(m)) {
    const op = special(m);
    if (op === '$any') return undefined;
    if (op === '$type') {
      const t = m.$type;
      const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
      if (t === 'uuid') return typeof value === 'string' && isGuid(value) ? undefined : `${at}: expected a UUID, observed ${show(value)}`;
      return actual === t ? undefined : `${at}: expected a ${t}, observed ${show(value)}`;
    }
    if (op === '$regex') {
      return typeof value === 'string' && new RegExp(String(m.$regex)).test(value) ? undefined : `${at}: expected a string matching /${m.$regex}/, observed ${show(value)}`;
    }
    if (op === '$oneOf') {
      const alts = m.$oneOf as Match[];
      return alts.some((a) => mismatch(a, value, path) === undefined) ? undefined : `${at}: expected one of ${show(alts)}, observed ${show(value)}`;
    }
    if (op === '$unordered') {
      const want = m.$unordered as Match[];
      if (!Array.isArray(value) || value.length !== want.length) return `${at}: expected ${want.length} elements in any order, observed ${show(value)}`;
      const left = [...value];
      for (const w of want) {
        const i = left.findIndex((v) => mismatch(w, v) === undefined);
        if (i < 0) return `${at}: no element matches ${show(w)} in ${show(value)}`;
        left.splice(i, 1);
      }
      return undefined;
    }
    if (op === '$json') {
      if (typeof value !== 'string') return `${at}: expected a JSON string, observed ${show(value)}`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return `${at}: expected a JSON string, observed ${show(value)}`;
      }
      return mismatch(m.$json, parsed, `${at} (JSON)`);
    }
    if (op === '$bytesJson') {
      const b = isObj(value) && typeof value.$bytes === 'string' ? value.$bytes : undefined;
      if (b === undefined) return `${at}: expected bytes, observed ${show(value)}`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(b, 'base64').toString('utf8'));
      } catch {
        return `${at}: expected bytes holding JSON, observed ${show(value)}`;
      }
      return mismatch(m.$bytesJson, parsed, `${at} (bytes as JSON)`);
    }
    if (op === '$exact') {
      const want = m.$exact as Record<string, Match>;
      if (!isObj(value)) return `${at}: expected a record, observed ${show(value)}`;
      const extra = Object.keys(value).filter((k) => !(k in want));
      const missing = Object.keys(want).filter((k) => !(k in value));
      if (extra.length || missing.length) {
        return `${at}: expected exactly the fields [${Object.keys(want).join(', ')}]` +
          `${missing.length ? `; missing [${missing.join(', ')}]` : ''}${extra.length ? `; unexpected [${extra.join(', ')}]` : ''}`;
      }
      return mismatch(Object.fromEntries(Object.entries(want)), value, path);
    }
    if (op) throw new Error(`unknown matcher ${op}`);
    if (!isObj(value)) return `${at}: expected ${show(m)}, observed ${show(value)}`;
    for (const [k, sub] of Object.entries(m)) {
      const r = mismatch(sub, value[k], path ? `${path}.${k}` : k);
      if (r) return r;
    }
    return undefined;
  }
  if (Array.isArray(m)) {
    if (!Array.isArray(value) || value.length !== m.length) return `${at}: expected ${show(m)}, observed ${show(value)}`;
    for (let i = 0; i < m.length; i++) {
      const r = mismatch(m[i], value[i], `${path}[${i}]`);
      if (r) return r;
    }
    return undefined;
  }
  // A primitive or null; an absent value (undefined) counts as null.
  return (value ?? null) === m ? undefined : `${at}: expected ${show(m)}, observed ${show(value)}`;
}
