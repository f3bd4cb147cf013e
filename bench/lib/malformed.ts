// Malformed webhook deliveries, by kind: what an attacker, a broken proxy or a misconfigured sender
// may post to /api/stripe/webhook. Every kind must get a 4xx (a 5xx would make Stripe retry for
// days), and only signed input may ever be stored (a signed event Tierdesk cannot read is stored as
// failed and answered 400).
import Stripe from "stripe";
import { event, subscription } from "../../tests/stripe-fixtures.ts";
import { WEBHOOK_PATH } from "./deliveries.ts";
import type { PreparedRequest } from "./load.ts";

export type MalformedKind = {
  name: string;
  /** The statuses it may get. */
  expect: readonly number[];
  /** Whether Tierdesk may store it (signed, a readable envelope): as a failed event. */
  stored: boolean;
  /** Its event ids start with this (those that have one), to find anything stored. */
  idPrefix: string;
  make(n: number): PreparedRequest;
};

const TWO_MIB = 2 * 1024 * 1024;

function signedWith(
  secret: string,
  payload: string | Buffer,
  { timestamp, contentType = "application/json; charset=utf-8" } = {} as { timestamp?: number; contentType?: string },
) {
  const text = typeof payload === "string" ? payload : payload.toString("latin1");
  return {
    "Content-Type": contentType,
    "Stripe-Signature": Stripe.webhooks.generateTestHeaderString({ payload: text, secret, timestamp }),
  };
}

function subscriptionEvent(id: string, overrides: Record<string, unknown> = {}) {
  const sub = subscription({ customer: "cus_malformed", lookupKey: "pro_monthly" });
  return { ...event("customer.subscription.updated", sub, { id }), ...overrides };
}

/** The kinds, each making its n-th request; `secret` is the app's webhook signing secret. */
export function malformedKinds(secret: string): MalformedKind[] {
  const request = (headers: Record<string, string>, body: Buffer): PreparedRequest => ({
    method: "POST",
    path: WEBHOOK_PATH,
    headers,
    body,
  });
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  return [
    {
      name: "no signature",
      expect: [400],
      stored: false,
      idPrefix: "evt_nosig_",
      make: (n) =>
        request({ "Content-Type": "application/json" }, Buffer.from(json(subscriptionEvent(`evt_nosig_${n}`)))),
    },
    {
      name: "signed with another secret",
      expect: [401],
      stored: false,
      idPrefix: "evt_badsig_",
      make: (n) => {
        const payload = json(subscriptionEvent(`evt_badsig_${n}`));
        return request(signedWith("whsec_not_ours", payload), Buffer.from(payload));
      },
    },
    {
      name: "garbage signature header",
      expect: [400, 401],
      stored: false,
      idPrefix: "evt_garbage_",
      make: (n) =>
        request(
          {
            "Content-Type": "application/json",
            "Stripe-Signature": n % 2 ? "t=notatime,v1=zz" : "v1=" + "f".repeat(64),
          },
          Buffer.from(json(subscriptionEvent(`evt_garbage_${n}`))),
        ),
    },
    {
      name: "signature older than 5 minutes",
      expect: [401],
      stored: false,
      idPrefix: "evt_stale_",
      make: (n) => {
        const payload = json(subscriptionEvent(`evt_stale_${n}`));
        return request(
          signedWith(secret, payload, { timestamp: Math.floor(Date.now() / 1000) - 600 }),
          Buffer.from(payload),
        );
      },
    },
    {
      name: "signature more than 5 minutes in the future",
      expect: [401],
      stored: false,
      idPrefix: "evt_future_",
      make: (n) => {
        const payload = json(subscriptionEvent(`evt_future_${n}`));
        return request(
          signedWith(secret, payload, { timestamp: Math.floor(Date.now() / 1000) + 3600 }),
          Buffer.from(payload),
        );
      },
    },
    {
      name: "truncated body",
      expect: [401],
      stored: false,
      idPrefix: "evt_trunc_",
      make: (n) => {
        const payload = json(subscriptionEvent(`evt_trunc_${n}`));
        return request(signedWith(secret, payload), Buffer.from(payload.slice(0, Math.floor(payload.length / 2))));
      },
    },
    {
      name: "2 MiB body",
      expect: [413],
      stored: false,
      idPrefix: "evt_huge_",
      make: (n) => {
        const padding = "x".repeat(TWO_MIB);
        const payload = json(subscriptionEvent(`evt_huge_${n}`, { padding }));
        return request(signedWith(secret, payload), Buffer.from(payload));
      },
    },
    {
      name: "wrong content type (form, text)",
      expect: [400, 401],
      stored: false,
      idPrefix: "evt_ctype_",
      make: (n) =>
        n % 2
          ? request(
              { "Content-Type": "application/x-www-form-urlencoded", "Stripe-Signature": "t=1,v1=00" },
              Buffer.from(`id=evt_ctype_${n}&type=x`),
            )
          : request({ "Content-Type": "text/plain", "Stripe-Signature": "t=1,v1=00" }, Buffer.from(`evt_ctype_${n}`)),
    },
    {
      name: "signed, not JSON",
      expect: [400],
      stored: false,
      idPrefix: "evt_notjson_",
      make: (n) => {
        const payload = `evt_notjson_${n}: this is not JSON {`;
        return request(signedWith(secret, payload), Buffer.from(payload));
      },
    },
    {
      name: "signed, raw NUL byte in the body",
      expect: [400],
      stored: false,
      idPrefix: "evt_rawnul_",
      make: (n) => {
        const payload = json(subscriptionEvent(`evt_rawnul_${n}`)).replace(
          '"object": "event"',
          '"object": "ev\u0000ent"',
        );
        return request(signedWith(secret, payload), Buffer.from(payload, "utf8"));
      },
    },
    {
      name: "signed, NUL in the event id",
      expect: [400],
      stored: false,
      idPrefix: "evt_nulid_",
      make: (n) => {
        const payload = json(subscriptionEvent(`evt_nulid_${n}\u0000x`));
        return request(signedWith(secret, payload), Buffer.from(payload));
      },
    },
    {
      name: "signed, data.object: null",
      expect: [400],
      stored: true,
      idPrefix: "evt_nullobj_",
      make: (n) => {
        const payload = json({ ...subscriptionEvent(`evt_nullobj_${n}`), data: { object: null } });
        return request(signedWith(secret, payload), Buffer.from(payload));
      },
    },
    {
      name: "signed, NUL in the customer id",
      expect: [400],
      stored: true,
      idPrefix: "evt_nulcus_",
      make: (n) => {
        const sub = subscription({ customer: "cus_\u0000evil", lookupKey: "pro_monthly" });
        const payload = json(event("customer.subscription.updated", sub, { id: `evt_nulcus_${n}` }));
        return request(signedWith(secret, payload), Buffer.from(payload));
      },
    },
  ];
}

/** `perKind` requests of every kind, interleaved (heavy kinds capped at `heavyCap`), each tagged with its kind. */
export function malformedRequests(kinds: MalformedKind[], perKind: number, heavyCap = perKind) {
  const requests: Array<PreparedRequest & { kind: MalformedKind }> = [];
  for (let n = 0; n < perKind; n++) {
    for (const kind of kinds) {
      if (kind.name === "2 MiB body" && n >= heavyCap) continue;
      requests.push({ ...kind.make(n), kind });
    }
  }
  return requests;
}

export type FloodReport = {
  requests: number;
  /** Per kind: its answers by status, and whether every one was as expected. */
  kinds: Array<{
    name: string;
    sent: number;
    statuses: Record<number, number>;
    ok: boolean;
    stored: number;
    storedOk: boolean;
  }>;
  /** Statuses that are not 4xx (must be none). */
  not4xx: number;
  /** Resident memory of the server along the way (MiB), when it could be read. */
  rssMiB: number[];
};

/**
 * Sends `perKind` malformed deliveries of every kind (2 MiB bodies: `heavyCap`), `concurrency` at a
 * time, and asks `storedWithPrefix` how many events of each kind were stored.
 */
export async function malformedFlood({
  origin,
  secret,
  perKind,
  heavyCap = perKind,
  concurrency,
  storedWithPrefix,
  rssMiB,
}: {
  origin: string;
  secret: string;
  perKind: number;
  heavyCap?: number;
  concurrency: number;
  storedWithPrefix: (prefix: string) => Promise<number>;
  rssMiB?: () => number;
}): Promise<FloodReport> {
  const { runLoad } = await import("./load.ts");
  const kinds = malformedKinds(secret);
  const requests = malformedRequests(kinds, perKind, heavyCap);
  const samples: number[] = [];
  const every = Math.max(1, Math.floor(requests.length / 20));
  const result = await runLoad([origin], requests, {
    concurrency,
    onAnswer: (_answer, index) => {
      if (rssMiB && index % every === 0) samples.push(rssMiB());
    },
  });
  if (rssMiB) samples.push(rssMiB());
  const report: FloodReport = { requests: requests.length, kinds: [], not4xx: 0, rssMiB: samples };
  for (const kind of kinds) {
    const statuses: Record<number, number> = {};
    let sent = 0;
    requests.forEach((request, i) => {
      if (request.kind !== kind) return;
      sent++;
      const status = result.answers[i]!.status;
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
    const ok = Object.keys(statuses).every((status) => kind.expect.includes(Number(status)));
    const stored = await storedWithPrefix(kind.idPrefix);
    report.kinds.push({
      name: kind.name,
      sent,
      statuses,
      ok,
      stored,
      storedOk: kind.stored ? stored === sent : stored === 0,
    });
  }
  report.not4xx = result.answers.filter((answer) => answer.status < 400 || answer.status >= 500).length;
  return report;
}
