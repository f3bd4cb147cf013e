// Tierdesk's /api/v1 from TypeScript: openapi-fetch over the types openapi-typescript generated from the
// OpenAPI document (client/schema.d.ts; `npm run api:client` regenerates it). Every call answers
// `{ data, error, response }`: `data` typed by the operation's success, `error` a problem (RFC 9457).
//
//   const tierdesk = createTierdeskClient({ baseUrl: "https://tierdesk.example.com", apiKey: process.env.TIERDESK_API_KEY! });
//   const { data, error } = await tierdesk.POST("/api/v1/check", { body: { account: "ext:org_42", permission: "export" } });
import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./schema.d.ts";

export type TierdeskClient = Client<paths>;

export type TierdeskClientOptions = {
  /** Tierdesk's origin, e.g. `https://tierdesk.example.com` (the paths carry /api/v1). */
  baseUrl: string;
  /** A key from /admin/api-keys: `tdk_…`. */
  apiKey: string;
  /** Another fetch (a test double, an agent with keep-alive); the global one by default. */
  fetch?: (request: Request) => Promise<Response>;
};

export function createTierdeskClient({ baseUrl, apiKey, fetch }: TierdeskClientOptions): TierdeskClient {
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: { Authorization: `Bearer ${apiKey}` },
    ...(fetch ? { fetch } : {}),
  });
}
