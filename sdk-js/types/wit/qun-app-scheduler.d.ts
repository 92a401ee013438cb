/** @module Interface qun:app/scheduler@0.2.0 **/
export function schedule(key: string, at: Timestamp, payload: string): void;
export function scheduleRecurring(key: string, rule: Recurrence, payload: string): Timestamp;
export function cancel(key: string): boolean;
export type Timestamp = import('./qun-app-types.js').Timestamp;
export type Error = import('./qun-app-types.js').Error;
export interface TimeOfDay {
  hour: number,
  minute: number,
}
/**
 * # Variants
 * 
 * ## `"monday"`
 * 
 * ## `"tuesday"`
 * 
 * ## `"wednesday"`
 * 
 * ## `"thursday"`
 * 
 * ## `"friday"`
 * 
 * ## `"saturday"`
 * 
 * ## `"sunday"`
 */
export type Weekday = 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';
export type Recurrence = RecurrenceDaily | RecurrenceWeekly | RecurrenceEveryMinutes;
export interface RecurrenceDaily {
  tag: 'daily',
  val: TimeOfDay,
}
export interface RecurrenceWeekly {
  tag: 'weekly',
  val: [Array<Weekday>, TimeOfDay],
}
export interface RecurrenceEveryMinutes {
  tag: 'every-minutes',
  val: number,
}
