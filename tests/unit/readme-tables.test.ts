// The README's route and folder tables match the tree: a newcomer finds every route file from its URL,
// and every folder of app/ (and of app/services/) says what it holds.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");

function section(title: string) {
  const start = readme.indexOf(`\n## ${title}\n`);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** Every `code` span in a table's second column (routes) or first column (folders). */
function codeSpans(text: string, column: number) {
  return text
    .split("\n")
    .filter((line) => line.startsWith("| ") && !line.startsWith("| ---"))
    .flatMap((line) => [...(line.split(" | ")[column] ?? "").matchAll(/`([^`]+)`/g)].map((match) => match[1]!));
}

describe("README", () => {
  it("lists every route file or folder route in its route table", () => {
    const listed = new Set(codeSpans(section("Routes"), 1).map((file) => file.replace(/^app\/routes\//, "")));
    const routes = fs
      .readdirSync(path.join(root, "app/routes"), { withFileTypes: true })
      .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name));
    expect(routes.filter((route) => !listed.has(route))).toEqual([]);
    expect([...listed].filter((route) => !routes.includes(route))).toEqual([]);
  });

  it("describes every folder of app/ and app/services/ in its folder table", () => {
    const spans = codeSpans(section("Folders"), 0).map((span) => span.replace(/\/$/, ""));
    // A row may name several folders: `app/services/events/`, `tiers/`, `customers/` (siblings of the first).
    const describes = (folder: string) =>
      spans.some((span) => span === folder || span.startsWith(`${folder}/`) || folder.endsWith(`/${span}`));
    const folders = (dir: string) =>
      fs
        .readdirSync(path.join(root, dir), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => `${dir}/${entry.name}`);
    const expected = [...folders("app").filter((folder) => folder !== "app/services"), ...folders("app/services")];
    expect(expected.filter((folder) => !describes(folder))).toEqual([]);
  });
});
