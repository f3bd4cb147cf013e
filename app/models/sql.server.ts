// Small helpers for the raw SQL the models write.

/** Text for a LIKE pattern, with LIKE's own wildcards escaped (a search for "a_b" is not "a?b"). */
export function escapeLike(text: string) {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
