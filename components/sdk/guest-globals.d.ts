/**
 * The few web globals the componentize-js (StarlingMonkey) guest provides and our guests use. Guest
 * code is type-checked with `lib: ["ES2022"]` only (no DOM, no Node), so these are declared here.
 * Present even with every componentize-js feature disabled: TextEncoder/TextDecoder, URL,
 * URLSearchParams, structuredClone, crypto. `console` needs the `stdio` feature.
 */
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array | ArrayBuffer, options?: { stream?: boolean }): string;
}
declare class URLSearchParams {
  constructor(init?: string | Record<string, string> | Array<[string, string]>);
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string): boolean;
  forEach(cb: (value: string, key: string) => void): void;
  toString(): string;
}
declare const console: {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
};
/** Needs the `clocks` feature (on in our builds); the probe times host calls with it. */
declare const performance: {
  now(): number;
};
/** Needs the `http` feature (on in our builds): componentize-js builds it on wasi:http, which the
 * runner answers under the egress rules of `cap:http.fetch` (docs/differences.md#egress). */
declare class Headers {
  constructor(init?: Record<string, string> | Array<[string, string]>);
  get(name: string): string | null;
  forEach(cb: (value: string, name: string) => void): void;
}
declare class Response {
  readonly status: number;
  readonly headers: Headers;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
  json(): Promise<unknown>;
}
declare function fetch(
  url: string,
  init?: { method?: string; headers?: Record<string, string> | Array<[string, string]>; body?: string | Uint8Array; redirect?: 'follow' | 'manual' | 'error' },
): Promise<Response>;
