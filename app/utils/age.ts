/**
 * How long ago `iso` was, for people: "just now", "1 minute ago", "12 minutes ago", "3 hours ago",
 * "2 days ago". Computed by the loader (server time), so the browser renders the same text.
 */
export function describeAge(iso: string, now = Date.now()): string {
  const minutes = Math.floor(Math.max(0, now - new Date(iso).getTime()) / 60_000);
  const count = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"} ago`;
  if (minutes < 1) return "just now";
  if (minutes < 60) return count(minutes, "minute");
  if (minutes < 48 * 60) return count(Math.floor(minutes / 60), "hour");
  return count(Math.floor(minutes / (24 * 60)), "day");
}

/** "as of 12 minutes ago (17:05 UTC)", or "as of 3 days ago (3 December 2026, 17:05 UTC)" past a day. */
export function describeAsOf(iso: string, now = Date.now()): string {
  const date = new Date(iso);
  const time = date.toISOString().slice(11, 16);
  const day = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
  const when = now - date.getTime() < 24 * 3_600_000 ? `${time} UTC` : `${day.format(date)}, ${time} UTC`;
  return `as of ${describeAge(iso, now)} (${when})`;
}
