/** A runner's call of one of the platform's internal routes over HTTP (`POST …/install/{id}` with `x-runner-auth`). */
import { request } from 'undici';

export interface InternalCallOptions {
  /** The runner token to send; null sends none. */
  token?: string | null;
  /** A raw body instead of the JSON of `body`. */
  raw?: string;
}

/** POSTs `body` to `{baseUrl}{routePrefix}{installId}`; answers the status and the parsed JSON body (null when empty). */
export async function callInternalRoute(
  baseUrl: string | undefined,
  routePrefix: string,
  defaultToken: string,
  installId: string,
  body: unknown,
  o: InternalCallOptions = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (o.token !== null) headers['x-runner-auth'] = o.token ?? defaultToken;
  const res = await request(`${baseUrl}${routePrefix}${installId}`, { method: 'POST', headers, body: o.raw ?? JSON.stringify(body) });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : null };
}
