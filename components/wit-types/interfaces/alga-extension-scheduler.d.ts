/// <reference path="./alga-extension-types.d.ts" />
declare module 'alga:extension/scheduler' {
  export function listSchedules(): Array<ScheduleInfo>;
  export function getSchedule(scheduleId: string): ScheduleInfo | undefined;
  export function createSchedule(input: CreateScheduleInput): CreateScheduleResult;
  export function updateSchedule(scheduleId: string, input: UpdateScheduleInput): UpdateScheduleResult;
  export function deleteSchedule(scheduleId: string): DeleteScheduleResult;
  export function getEndpoints(): Array<EndpointInfo>;
  export type ScheduleInfo = import('alga:extension/types').ScheduleInfo;
  export type EndpointInfo = import('alga:extension/types').EndpointInfo;
  export type CreateScheduleInput = import('alga:extension/types').CreateScheduleInput;
  export type CreateScheduleResult = import('alga:extension/types').CreateScheduleResult;
  export type UpdateScheduleInput = import('alga:extension/types').UpdateScheduleInput;
  export type UpdateScheduleResult = import('alga:extension/types').UpdateScheduleResult;
  export type DeleteScheduleResult = import('alga:extension/types').DeleteScheduleResult;
  export type SchedulerError = import('alga:extension/types').SchedulerError;
}
