// Where an outgoing webhook may go (docs/decisions/018). In production a URL whose host resolves to
// loopback, private, link-local, CGNAT or unspecified addresses is refused (server-side request
// forgery): at registration, and again at delivery, where the POST connects to the very address that
// was checked (the check is the connection's DNS lookup), so a DNS change in between cannot get past it.
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { isForbiddenAddress } from "~/rules/webhook-deliveries.ts";
import { config } from "~/utils/config.server.ts";

class ForbiddenDestinationError extends Error {
  name = "ForbiddenDestinationError";
}

const privateAllowed = () => !config().production;

function hostOf(url: URL) {
  return url.hostname.replace(/^\[|\]$/g, "");
}

/**
 * Why a URL cannot receive webhooks (null: it can). Only http(s); in production its host must
 * resolve, and only to public addresses.
 */
export async function destinationProblem(raw: string): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "Enter a full URL, such as https://example.com/webhooks/tierdesk.";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return "Only http:// and https:// URLs can receive webhooks.";
  if (url.username || url.password) return "Leave credentials out of the URL: the signature authenticates Tierdesk.";
  if (privateAllowed()) return null;
  const host = hostOf(url);
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await dns.promises.lookup(host, { all: true })).map((entry) => entry.address);
  } catch {
    return `${host} does not resolve to an address.`;
  }
  const forbidden = addresses.find(isForbiddenAddress);
  return forbidden
    ? `${host} resolves to ${forbidden}, a private, loopback or link-local address: webhooks go to public addresses only.`
    : null;
}

/** A DNS lookup that refuses forbidden addresses: the socket connects only to what it returns. */
const checkedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, entries) => {
    if (error) return callback(error, "", 4);
    const list = entries as unknown as dns.LookupAddress[];
    const forbidden = list.find((entry) => isForbiddenAddress(entry.address));
    if (forbidden) {
      return callback(
        new ForbiddenDestinationError(`${hostname} resolves to ${forbidden.address}, a private address: refused`),
        "",
        4,
      );
    }
    if (options.all) return (callback as unknown as (e: null, all: dns.LookupAddress[]) => void)(null, list);
    const first = list[0];
    if (!first) return callback(new Error(`${hostname} has no address`), "", 4);
    callback(null, first.address, first.family);
  });
};

// Kept-alive connections: a socket is checked when it is opened, and reused only for its own host.
const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 32 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 32 }),
};

export type PostResult = { statusCode: number; body: string } | { error: string };

const EXCERPT_BYTES = 1024;

/**
 * POSTs `body` to `url` with `headers`, within `timeoutMs`. Keeps the first 1 KB of the answer. Never
 * throws: a refused destination, a network error or the timeout is an `error`.
 */
export function postWebhook(
  raw: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostResult> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return resolve({ error: "invalid URL" });
    }
    const checking = !privateAllowed();
    if (checking && isIP(hostOf(url)) && isForbiddenAddress(hostOf(url))) {
      return resolve({ error: `${hostOf(url)} is a private address: refused` });
    }
    const client = url.protocol === "https:" ? https : url.protocol === "http:" ? http : null;
    if (!client) return resolve({ error: `${url.protocol} is not http(s)` });
    const request = client.request(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "Tierdesk-Webhooks/1", ...headers },
        timeout: timeoutMs,
        agent: agents[url.protocol as keyof typeof agents],
        ...(checking ? { lookup: checkedLookup } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          if (size < EXCERPT_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        response.on("end", () =>
          resolve({
            statusCode: response.statusCode ?? 0,
            body: Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString("utf8"),
          }),
        );
        response.on("error", (error) => resolve({ error: error.message }));
      },
    );
    const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    request.on("error", (error) => resolve({ error: error.message }));
    request.on("close", () => clearTimeout(deadline));
    request.end(body);
  });
}
