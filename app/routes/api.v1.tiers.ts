// GET /api/v1/tiers (read scope): the tiers customers may buy, with live prices from the cached catalog.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { customerFacingTiers } from "~/services/api/tiers.server.ts";
import { methodNotAllowed } from "~/web/api-answers.server.ts";
import { answering, requireApiKey } from "~/web/api-auth.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export function loader({ request }: LoaderFunctionArgs) {
  return answering(async () => {
    await requireApiKey(request, "read");
    return jsonResponse(await customerFacingTiers());
  });
}

export const action = () => methodNotAllowed("GET");
