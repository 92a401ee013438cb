import type { Recurrence, Weekday } from './wit/qun-app-scheduler.js';
export type { Recurrence, Weekday };
export const WEEKDAYS: readonly Weekday[];
export function schedule(key: string, at: number | Date, payload?: unknown): void;
export function scheduleJson(key: string, at: number | Date, value: unknown): void;
export function daily(hour: number, minute?: number): Recurrence;
export function weekly(days: Weekday[], hour: number, minute?: number): Recurrence;
export function everyMinutes(n: number): Recurrence;
/** The first occurrence, ms since the epoch. */
export function scheduleRecurring(key: string, rule: Recurrence, payload?: unknown): number;
export function cancel(key: string): boolean;
