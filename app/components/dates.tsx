/** A date as "21 November 2026", in UTC so server and browser render the same text. */
export function formatDate(iso: string) {
  return new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(
    new Date(iso),
  );
}

/** A moment as "2026-12-06 21:05:09 UTC": the same on server and browser, precise to the second. */
export function formatMoment(iso: string) {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}
