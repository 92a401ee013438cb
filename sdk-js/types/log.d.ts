export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export const LEVELS: readonly Level[];
export type LogFields = Record<string, unknown> | Array<[string, unknown]>;
export function write(level: Level, message: string, fields?: LogFields): void;
export function trace(message: string, fields?: LogFields): void;
export function debug(message: string, fields?: LogFields): void;
export function info(message: string, fields?: LogFields): void;
export function warn(message: string, fields?: LogFields): void;
export function error(message: string, fields?: LogFields): void;
