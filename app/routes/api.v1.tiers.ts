// GET /api/v1/tiers (read scope): the tiers customers may buy, with live prices from the cached catalog.
import type { LoaderFunctionArgs } from "@remix-run/node";
import { customerFacingTiers } from "~/services/api/tiers.server.ts";
import { requireApiKey } from "~/web/api-auth.server.ts";
import { jsonResponse } from "~/utils/http.server.ts";

export async function loader({ request }: LoaderFunctionArgs) {
  await requireApiKey(request, "read");
  return jsonResponse(await customerFacingTiers());
}
