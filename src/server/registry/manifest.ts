/** An extension's `manifest.json` (production's manifest v2, the parts the runner uses). */
import { z } from 'zod';

const endpointSchema = z.object({
  method: z.string().trim().transform((m) => m.toUpperCase()).pipe(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])),
  path: z.string().trim().min(1, 'endpoint path must not be empty'),
  handler: z.string().trim().min(1, 'endpoint handler must not be empty'),
  // Declared by extension authors; production strips it and derives schedulability itself.
  schedulable: z.boolean().optional(),
});

export const manifestSchema = z.object({
  name: z.string().trim().min(1),
  publisher: z.string().trim().min(1).optional(),
  version: z.string().trim().min(1),
  runtime: z.string().trim().min(1).default('wasm-js@1'),
  main: z.string().trim().min(1).default('dist/main.wasm'),
  /** Ours: the guest's entry source, built by `alga-runner dev` (default `src/index.ts`). */
  source: z.string().trim().min(1).optional(),
  displayName: z.string().optional(),
  description: z.string().optional(),
  capabilities: z.array(z.string()).default([]),
  api: z.object({ endpoints: z.array(endpointSchema).default([]) }).default({ endpoints: [] }),
});

export type Manifest = z.output<typeof manifestSchema>;

export class ManifestError extends Error {}

/** Parses and validates; the error lists every problem with its JSON path. */
export function parseManifest(raw: unknown, source = 'manifest.json'): Manifest {
  const r = manifestSchema.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ManifestError(`${source} is invalid: ${problems}`);
  }
  return r.data;
}

/** Production keys extensions by (publisher, name); a manifest without a publisher gets the
 * name's reverse-DNS prefix (`com.alga.sample.scheduler-demo` → `com.alga.sample`). */
export function publisherOf(m: Manifest): string {
  if (m.publisher) return m.publisher;
  const i = m.name.lastIndexOf('.');
  return i > 0 ? m.name.slice(0, i) : 'local';
}
