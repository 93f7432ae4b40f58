/**
 * `alga-node-runner/testing`: an extension on the real runtime inside any test runner (node:test,
 * vitest, …). See docs/testing.md.
 * @example
 *   const rt = await createTestRuntime({ extension: './my-ext', clock: { start: '2030-06-01T08:00:00Z' } });
 *   const res = await rt.request('POST', '/api/setup', { body: {} });
 *   const runs = await rt.advanceClock('2030-06-01T09:00:00Z');
 *   await rt.close();
 */
export {
  createTestRuntime,
  TestRuntimeError,
  type GuestLogLine,
  type ScheduledRun,
  type TestRequest,
  type TestResponse,
  type TestRuntime,
  type TestRuntimeOptions,
  type TestUser,
} from './runtime.js';
