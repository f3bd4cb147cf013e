// Small helpers for the raw SQL the models write.

/** Text for a LIKE pattern, with LIKE's own wildcards escaped (a search for "a_b" is not "a?b"). */
export function escapeLike(text: string) {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * A string constant for SQL text, exactly as node-postgres' `escapeLiteral` writes it ('' for a
 * quote; with a backslash, E'…' and the backslashes doubled), without its character-by-character
 * loop: the webhook writes whole event payloads this way (tests/unit/sql.test.ts holds the two equal).
 */
export function sqlStringLiteral(text: string): string {
  const quoted = text.replaceAll("'", "''");
  return text.includes("\\") ? ` E'${quoted.replaceAll("\\", "\\\\")}'` : `'${quoted}'`;
}
