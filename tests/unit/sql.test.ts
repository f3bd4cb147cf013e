// The SQL text helpers the models write raw SQL with.
import { describe, expect, it } from "vitest";
import { escapeLike } from "../../app/models/sql.server.ts";

describe("escapeLike", () => {
  it("escapes LIKE's wildcards and its escape character", () => {
    expect(escapeLike("a_b%c\\d")).toBe("a\\_b\\%c\\\\d");
  });
});
