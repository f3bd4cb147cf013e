// The SQL text helpers the models write raw SQL with.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { escapeLike, sqlStringLiteral } from "../../app/models/sql.server.ts";

describe("sqlStringLiteral", () => {
  it("writes exactly what node-postgres' escapeLiteral writes", () => {
    const samples = [
      "",
      "plain",
      "it's",
      "''",
      "back\\slash",
      "\\'",
      "'\\\\'",
      '{"id":"evt_1","data":{"object":{"name":"O\'Brien \\u0000 \\n"}}}',
      "ünïcødé — 😀 ' \\",
      "E'x'",
    ];
    // And random strings over the characters that matter.
    const alphabet = ["a", "'", "\\", '"', " ", "é", "\n", "😀", "E"];
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let i = 0; i < 500; i++) {
      samples.push(Array.from({ length: next() % 24 }, () => alphabet[next() % alphabet.length]).join(""));
    }
    for (const text of samples) expect(sqlStringLiteral(text), text).toBe(pg.escapeLiteral(text));
  });
});

describe("escapeLike", () => {
  it("escapes LIKE's wildcards and its escape character", () => {
    expect(escapeLike("a_b%c\\d")).toBe("a\\_b\\%c\\\\d");
  });
});
