/** The conformance component for today's world (wit/extension-runner.wit, 2026-03-26 onwards). */
import * as clients from 'alga:extension/clients';
import * as context from 'alga:extension/context';
import * as http from 'alga:extension/http';
import * as invoicing from 'alga:extension/invoicing';
import * as logging from 'alga:extension/logging';
import * as scheduler from 'alga:extension/scheduler';
import * as secrets from 'alga:extension/secrets';
import * as services from 'alga:extension/services';
import * as storage from 'alga:extension/storage';
import type { ExecuteRequest, ExecuteResponse } from 'alga:extension/types';
import * as uiProxy from 'alga:extension/ui-proxy';
import * as user from 'alga:extension/user';
import * as userV2 from 'alga:extension/user-v2';
import * as core from '../core';

const handle = core.createHandler('current', {
  ...core.contextFns(context),
  ...core.secretsFns(secrets),
  ...core.httpFns(http),
  ...core.storageFns(storage),
  ...core.loggingFns(logging),
  ...core.uiProxyFns(uiProxy),
  ...core.userFns(user),
  ...core.userV2Fns(userV2),
  ...core.schedulerFns(scheduler),
  ...core.invoicingFns(invoicing),
  ...core.clientsFns(clients),
  ...core.servicesFns(services),
});

export function handler(request: ExecuteRequest): ExecuteResponse {
  return handle(request);
}
