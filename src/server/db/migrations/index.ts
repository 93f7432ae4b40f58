import * as m001 from './001_registry_and_schedules.js';
import * as m002 from './002_scheduler.js';
import * as m003 from './003_schedule_execution.js';
import * as m004 from './004_create_in_one_statement.js';
import * as m005 from './005_ext_storage.js';
import * as m006 from './006_manual_invoices.js';

export interface Migration {
  id: string;
  up: string;
}

/** Applied in order, each in its own transaction; ids never change once released. */
export const migrations: Migration[] = [
  { id: '001_registry_and_schedules', up: m001.up },
  { id: '002_scheduler', up: m002.up },
  { id: '003_schedule_execution', up: m003.up },
  { id: '004_create_in_one_statement', up: m004.up },
  { id: '005_ext_storage', up: m005.up },
  { id: '006_manual_invoices', up: m006.up },
];
