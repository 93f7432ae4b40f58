import { assertMinimumInterval, validateCronSyntax } from '../../src/server/scheduler/validation.js';

/**
 * A cron checked as a create checks it: production's rules (validateCronSyntax), then ours
 * (assertMinimumInterval) in the schedule's zone. The service calls the two itself (the timezone is
 * validated between them); tests check the cron rules alone through this.
 * @example validateCron(' 0 9 * * 1 ', { timezone: 'Europe/Paris' }) === '0 9 * * 1'
 */
export function validateCron(input: unknown, opts: { timezone?: string; now?: Date } = {}): string {
  const cron = validateCronSyntax(input);
  assertMinimumInterval(cron, opts.timezone, opts.now);
  return cron;
}
