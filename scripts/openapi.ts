// Regenerates the typed client's files from the live schemas: client/openapi.json (the document
// GET /api/v1/openapi.json serves) and client/schema.d.ts (its types, by openapi-typescript).
//   npm run api:client
// tests/unit/api-client-types.test.ts fails while the committed files differ from what this writes.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";
import { openApiDocument } from "../app/web/openapi.server.ts";

const CLIENT_DIR = path.resolve(import.meta.dirname, "../client");

/** Each generated file's path and contents, exactly as this script writes them. */
export async function clientFiles(): Promise<{ path: string; contents: string }[]> {
  const document = openApiDocument();
  const types = await openapiTS(structuredClone(document) as Parameters<typeof openapiTS>[0]);
  return [
    { path: path.join(CLIENT_DIR, "openapi.json"), contents: `${JSON.stringify(document, null, 2)}\n` },
    { path: path.join(CLIENT_DIR, "schema.d.ts"), contents: `${COMMENT_HEADER}${astToString(types)}` },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const file of await clientFiles()) {
    fs.writeFileSync(file.path, file.contents);
    console.log(`wrote ${path.relative(process.cwd(), file.path)}`);
  }
}
