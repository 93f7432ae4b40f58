import * as m001 from './001_registry_and_schedules.js';

export interface Migration {
  id: string;
  up: string;
}

/** Applied in order, each in its own transaction; ids never change once released. */
export const migrations: Migration[] = [
  { id: '001_registry_and_schedules', up: m001.up },
];
