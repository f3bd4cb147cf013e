import { randomBytes } from 'node:crypto';
import type { Interval } from './types.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random base62 characters. */
export function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // 62 does not divide 256; the slight bias is irrelevant for test ids.
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

/** Stripe-looking id: `prefix_` + random base62 (e.g. `sub_1QfZ…`). */
export function newId(prefix: string, length = 24): string {
  return `${prefix}_${randomToken(length)}`;
}

/**
 * Adds billing intervals the way Stripe anchors them: a subscription started on
 * 31 January renews on the last day of February, then on 31 March again
 * (the anchor day is kept, only clamped per month).
 */
export function addInterval(anchorSeconds: number, interval: Interval, count: number, times = 1): number {
  const d = new Date(anchorSeconds * 1000);
  switch (interval) {
    case 'day':
      return anchorSeconds + 86_400 * count * times;
    case 'week':
      return anchorSeconds + 7 * 86_400 * count * times;
    case 'month':
    case 'year': {
      const months = (interval === 'year' ? 12 : 1) * count * times;
      const targetMonth = d.getUTCMonth() + months;
      const year = d.getUTCFullYear() + Math.floor(targetMonth / 12);
      const month = ((targetMonth % 12) + 12) % 12;
      const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
      const day = Math.min(d.getUTCDate(), lastDay);
      return Math.floor(
        Date.UTC(year, month, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000,
      );
    }
  }
}

/** Deep copy through JSON: snapshots must not alias live state, and must be plain JSON. */
export function snapshot<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
