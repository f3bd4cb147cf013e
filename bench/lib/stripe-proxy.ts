// A small HTTP proxy in front of the Stripe emulator that makes it behave like a distant Stripe:
// every call waits `delayMs` (one round trip to api.stripe.com), or Stripe is down (connections
// reset), and every call is counted.
//
// The emulator's catalogue has four lookup keys; a bench needs 3, 12 or 40. So the proxy answers
// GET /v1/prices itself, from the emulator's own prices plus synthetic ones cloned from them (same
// shape, their own ids and lookup keys), with Stripe's filters (`lookup_keys`, `active`) and
// pagination (`limit`, `starting_after`). Everything else goes to the emulator.
import http from "node:http";
import type { AddressInfo } from "node:net";
import qs from "qs";

type Price = { id: string; lookup_key: string | null; active: boolean; product: unknown };

export type StripeProxy = {
  url: string;
  /** Calls received since the last reset, by "METHOD /path". */
  calls(): Record<string, number>;
  totalCalls(): number;
  resetCalls(): void;
  /** Latency added to every call, or "down": every connection is reset. */
  setMode(mode: { delayMs: number } | "down"): void;
  /** Lookup keys the catalogue answers for: the emulator's own, plus synthetic prices for the others. */
  setLookupKeys(keys: readonly string[]): void;
  close(): Promise<void>;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function emulatorPrices(emulatorUrl: string): Promise<Price[]> {
  const response = await fetch(`${emulatorUrl}/v1/prices?limit=100&expand[0]=data.product`, {
    headers: { Authorization: "Bearer sk_test_bench" },
  });
  if (!response.ok) throw new Error(`The emulator's prices: HTTP ${response.status}`);
  return ((await response.json()) as { data: Price[] }).data;
}

function asList(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : typeof value === "object" && value ? Object.values(value) : [value]).map(
    String,
  );
}

export async function startStripeProxy(emulatorUrl: string): Promise<StripeProxy> {
  const upstream = new URL(emulatorUrl);
  const real = await emulatorPrices(emulatorUrl);
  let catalogue: Price[] = real;
  let mode: { delayMs: number } | "down" = { delayMs: 0 };
  let counts: Record<string, number> = {};

  const listPrices = (query: string) => {
    const params = qs.parse(query) as Record<string, unknown>;
    const keys = asList(params.lookup_keys);
    const active = params.active === undefined ? undefined : params.active === "true";
    const limit = Math.min(100, Number(params.limit ?? 10));
    let matching = catalogue.filter(
      (price) =>
        (active === undefined || price.active === active) &&
        (!keys || (price.lookup_key !== null && keys.includes(price.lookup_key))),
    );
    if (typeof params.starting_after === "string") {
      const after = matching.findIndex((price) => price.id === params.starting_after);
      matching = matching.slice(after + 1);
    }
    return { object: "list", url: "/v1/prices", has_more: matching.length > limit, data: matching.slice(0, limit) };
  };

  const server = http.createServer(async (req, res) => {
    const [path = "", query = ""] = (req.url ?? "").split("?");
    const name = `${req.method} ${path.replace(/\/(cus|sub|price|prod|cs|evt)_[A-Za-z0-9_]+/g, "/:id")}`;
    counts[name] = (counts[name] ?? 0) + 1;
    if (mode === "down") {
      req.socket.destroy();
      return;
    }
    const body: Buffer[] = [];
    for await (const chunk of req) body.push(chunk as Buffer);
    await sleep(mode.delayMs);
    if (req.method === "GET" && path === "/v1/prices") {
      const json = JSON.stringify(listPrices(query));
      res.writeHead(200, { "Content-Type": "application/json", "Request-Id": "req_bench" }).end(json);
      return;
    }
    const forwarded = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on("error", () => res.destroy());
    forwarded.end(Buffer.concat(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => ({ ...counts }),
    totalCalls: () => Object.values(counts).reduce((sum, n) => sum + n, 0),
    resetCalls: () => {
      counts = {};
    },
    setMode: (next) => {
      mode = next;
    },
    setLookupKeys(keys) {
      const template = real[0];
      if (!template) throw new Error("The emulator has no prices to clone.");
      const synthetic = keys
        .filter((key) => !real.some((price) => price.lookup_key === key))
        .map((key, i) => ({ ...template, id: `price_bench_${i}_${key}`, lookup_key: key }));
      catalogue = [...real, ...synthetic];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
