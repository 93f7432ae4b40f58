/** The conformance component for the world of 2026-01-03, when the scheduler interface arrived
 * (wit-history/2026-01-03: user-data with company-name and no user-type; no invoicing, no user-v2). */
import * as context from 'alga:extension/context';
import * as http from 'alga:extension/http';
import * as logging from 'alga:extension/logging';
import * as scheduler from 'alga:extension/scheduler';
import * as secrets from 'alga:extension/secrets';
import * as storage from 'alga:extension/storage';
import type { ExecuteRequest, ExecuteResponse } from 'alga:extension/types';
import * as uiProxy from 'alga:extension/ui-proxy';
import * as user from 'alga:extension/user';
import * as core from '../core';

const handle = core.createHandler('2026-01-03', {
  ...core.contextFns(context),
  ...core.secretsFns(secrets),
  ...core.httpFns(http),
  ...core.storageFns(storage),
  ...core.loggingFns(logging),
  ...core.uiProxyFns(uiProxy),
  ...core.userFns(user),
  ...core.schedulerFns(scheduler),
});

export function handler(request: ExecuteRequest): ExecuteResponse {
  return handle(request);
}
