/**
 * A cron in words ("Every 5 minutes", "At 09:00, Monday through Friday") from cronstrue, for a cron
 * our validation accepts; a cron it refuses has no words (test/server/scheduler/cron-words.test.ts
 * checks that cronstrue reads every cron we accept, so the two never disagree on what is valid).
 */
import cronstrue from 'cronstrue';
import { validateCronSyntax } from './validation.js';

export function cronInWords(cron: string): string | null {
  let valid: string;
  try {
    valid = validateCronSyntax(cron);
  } catch {
    return null;
  }
  return cronstrue.toString(valid, { use24HourTimeFormat: true, throwExceptionOnParseError: true, verbose: false });
}
