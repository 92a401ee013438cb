// Time on the group's clock. The JS engine inside the component
// (StarlingMonkey) has no `Intl`, so time zones come from the IANA data
// bundled by the npm package timezone-support (years 1900-2050).
import { findTimeZone, getZonedTime, getUnixTime } from 'timezone-support/index-1900-2050';

const zones = new Map();

function zone(timeZone) {
  if (!zones.has(timeZone)) {
    let z;
    try {
      z = findTimeZone(timeZone);
    } catch {
      z = findTimeZone('Etc/UTC'); // a zone newer than the bundled data: read as UTC
    }
    zones.set(timeZone, z);
  }
  return zones.get(timeZone);
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** The wall-clock time of `ts` (ms) in `timeZone`: `{ year, month, day, hour, minute, second, weekday }` (weekday 0 = Sunday). */
export function zonedParts(ts, timeZone) {
  const t = getZonedTime(new Date(ts), zone(timeZone));
  return { year: t.year, month: t.month, day: t.day, hour: t.hours, minute: t.minutes, second: t.seconds, weekday: t.dayOfWeek };
}

/** `YYYY-MM-DD` of `ts` in `timeZone`. */
export function dateIn(ts, timeZone) {
  const p = zonedParts(ts, timeZone);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** `2030-06-01 09:00 (Asia/Shanghai)`. */
export function formatIn(ts, timeZone) {
  const p = zonedParts(ts, timeZone);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)} (${timeZone})`;
}

/** The moment (ms) a wall-clock time in `timeZone` names: `{ year, month, day, hour = 0, minute = 0 }`. */
export function fromZonedParts({ year, month, day, hour = 0, minute = 0 }, timeZone) {
  return getUnixTime({ year, month, day, hours: hour, minutes: minute, seconds: 0, milliseconds: 0 }, zone(timeZone));
}
