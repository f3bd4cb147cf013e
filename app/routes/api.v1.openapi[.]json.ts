// GET /api/v1/openapi.json: the OpenAPI 3.1 document of /api/v1, without a key (it holds no secret).
// Through Express and Remix: the server's direct path takes only check and entitlements (server/app.ts).
import { methodNotAllowed } from "~/web/api-answers.server.ts";
import { openApiDocument } from "~/web/openapi.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

// The document changes only with a deploy: a few minutes' caching spares clients that poll it.
export const loader = () => jsonResponse(openApiDocument(), 200, { "Cache-Control": "public, max-age=300" });
export const action = () => methodNotAllowed("GET");
