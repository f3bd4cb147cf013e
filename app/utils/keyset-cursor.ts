// Keyset page cursors in URLs: "<ISO time>~<row id>", the (time, id) of the last row shown.
export type KeysetCursor = { at: Date; id: bigint };

export function formatCursor(at: Date, id: bigint | number) {
  return `${at.toISOString()}~${id}`;
}

/** The cursor in a URL parameter, or undefined when it is missing or malformed (never an error). */
export function parseCursor(value: string | null | undefined): KeysetCursor | undefined {
  const match = value?.match(/^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)~(\d{1,19})$/);
  if (!match?.[1] || !match[2]) return undefined;
  const at = new Date(match[1]);
  return Number.isNaN(at.getTime()) ? undefined : { at, id: BigInt(match[2]) };
}
