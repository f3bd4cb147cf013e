// Moving legacy subscribers to a lookup key's new price, on PostgreSQL with the Stripe emulator as
// Stripe (rate limited, so the job's back-off on 429 is exercised): the preview counts them and shows
// the first; the run is a job that two worker processes race for, both killed (SIGKILL) mid-run and a
// third finishing it. Every subscription is updated exactly once (the emulator's request log counts
// the POSTs it applied), to the new price, without proration; the yearly price's are left alone.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { SerializeFrom } from "@remix-run/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as tierRoute from "../../app/routes/admin.tiers.$key/route.tsx";
import * as moveRoute from "../../app/routes/admin.tiers.$key_.price-moves.$moveId.tsx";
import { getStripe } from "../../app/services/stripe/client.server.ts";
import { invalidatePriceCache } from "../../app/services/stripe/prices.server.ts";
import { stopJobQueue } from "../../app/services/jobs/queue.server.ts";
import { waitFor } from "../bulk-replay-fixtures.ts";
import { requirePostgres, testDb } from "../setup/database.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { formRequest, getRequest, routeArgs, seedDemoData, sessionCookieFor, settle } from "../utils.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const stripe = useStripeEmulator();
const prisma = () => testDb().prisma;
const SUBSCRIBERS = 24;

let admin: string;
beforeAll(async () => {
  await seedDemoData();
  admin = await sessionCookieFor("admin@example.com");
});

type Worker = { child: ChildProcess; output: () => string };
const workers: Worker[] = [];
const dataDirs: string[] = [];

async function startWorker(databaseUrl: string, name: string): Promise<Worker> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `tierdesk-price-move-${name}-`));
  dataDirs.push(dataDir);
  let output = "";
  const child = spawn(process.execPath, ["--import", "tsx", "server/worker.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "development",
      LOG_LEVEL: "info",
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: "4",
      DATA_DIR: dataDir,
      STRIPE_API_KEY: "sk_test_tierdesk",
      STRIPE_API_BASE: stripe.emulator.url,
      STRIPE_WEBHOOK_SECRET: "whsec_unused",
      STRIPE_JOB_REQUESTS_PER_SECOND: "20",
      WHOP_API_KEY: "",
      JOB_TIMEOUT_SECONDS: "3",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const worker = { child, output: () => output };
  workers.push(worker);
  const deadline = Date.now() + 60_000;
  while (!output.includes("job queue worker started")) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`Worker ${name} did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return worker;
}

async function kill(worker: Worker) {
  if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
  const exited = new Promise((resolve) => worker.child.once("exit", resolve));
  worker.child.kill("SIGKILL");
  await exited;
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map(kill));
});

afterAll(async () => {
  await stopJobQueue();
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function subscriber(price: string) {
  const session = await getStripe().checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price, quantity: 1 }],
    success_url: "http://localhost:3000/billing/success",
    customer_email: `legacy-${Math.random().toString(36).slice(2)}@example.com`,
  });
  return (await stripe.emulator.completeCheckout(session.id)).subscription;
}

async function tierPage(query: string) {
  const response = await settle(() =>
    tierRoute.loader(routeArgs(getRequest(`/admin/tiers/pro${query}`, admin), { key: "pro" })),
  );
  expect(response.status).toBe(200);
  return (await response.json()) as SerializeFrom<typeof tierRoute.loader>;
}

describe("moving legacy subscribers (PostgreSQL, worker processes)", () => {
  it("previews, then moves each subscription exactly once across racing workers, a crash and 429s", async (ctx) => {
    const databaseUrl = requirePostgres(ctx);
    const legacy = [];
    for (let i = 0; i < SUBSCRIBERS; i++) legacy.push(await subscriber("price_emu_pro_monthly"));
    const yearly = await subscriber("price_emu_pro_yearly");
    const newPrice = await getStripe().prices.create({
      product: "prod_emu_pro",
      currency: "gbp",
      unit_amount: 3500,
      recurring: { interval: "month" },
      lookup_key: "pro_monthly",
      transfer_lookup_key: true,
    });
    await stripe.emulator.settle();
    invalidatePriceCache();

    // The preview: how many, and the first rows with their legacy price.
    const page = await tierPage("?move=pro_monthly");
    expect(page.movePreview).toMatchObject({
      ok: true,
      count: SUBSCRIBERS,
      target: { id: newPrice.id, amount: "£35.00" },
    });
    const preview = page.movePreview as Extract<typeof page.movePreview, { ok: true }>;
    expect(preview.first).toHaveLength(10);
    expect(preview.first[0]).toMatchObject({
      status: "active",
      price: { id: "price_emu_pro_monthly", amount: "£29.00" },
    });

    // Stripe answers 429 past 12 requests a second; the job paces itself at 20.
    stripe.emulator.rateLimitPerSecond = 12;
    const requestsBefore = stripe.emulator.apiRequests.length;
    const started = await settle(() =>
      tierRoute.action(
        routeArgs(
          formRequest("/admin/tiers/pro", { intent: "move-start", lookupKey: "pro_monthly" }, { cookie: admin }),
          {
            key: "pro",
          },
        ),
      ),
    );
    expect(started.status).toBe(302);
    const moveId = Number(started.headers.get("location")?.match(/\/admin\/tiers\/pro\/price-moves\/(\d+)$/)?.[1]);
    expect(moveId).toBeGreaterThan(0);
    // Starting again while it runs reuses the run.
    const again = await settle(() =>
      tierRoute.action(
        routeArgs(
          formRequest("/admin/tiers/pro", { intent: "move-start", lookupKey: "pro_monthly" }, { cookie: admin }),
          {
            key: "pro",
          },
        ),
      ),
    );
    expect(again.headers.get("location")).toBe(started.headers.get("location"));

    const run = () => prisma().priceMove.findUniqueOrThrow({ where: { id: moveId } });
    // Two instances' workers race for the run; both die mid-run.
    const [a, b] = await Promise.all([startWorker(databaseUrl, "a"), startWorker(databaseUrl, "b")]);
    const midRun = await waitFor("a worker to move some", run, (move) => move.moved >= 6, 60_000);
    await Promise.all([kill(a), kill(b)]);
    expect((await run()).status).toBe("running");
    expect(midRun.moved).toBeLessThan(SUBSCRIBERS);

    // A third instance takes the run over once the dead worker's lease and step time out.
    await startWorker(databaseUrl, "c");
    const finished = await waitFor("the run to finish", run, (move) => move.status !== "running", 90_000);
    stripe.emulator.rateLimitPerSecond = null;
    expect(finished).toMatchObject({ status: "finished", total: SUBSCRIBERS, moved: SUBSCRIBERS, failed: 0 });
    expect(stripe.emulator.rateLimited).toBeGreaterThan(0);
    expect(finished.rateLimited).toBeGreaterThan(0);

    // Each subscription updated exactly once by Stripe (a retry after the crash, if any, was replayed).
    const applied = stripe.emulator.apiRequests
      .slice(requestsBefore)
      .filter((r) => r.method === "POST" && r.path.startsWith("/v1/subscriptions/") && r.status === 200 && !r.replayed);
    const perSubscription = new Map<string, number>();
    for (const r of applied) perSubscription.set(r.path, (perSubscription.get(r.path) ?? 0) + 1);
    expect([...perSubscription.keys()].sort()).toEqual(legacy.map((s) => `/v1/subscriptions/${s.id}`).sort());
    expect([...perSubscription.values()].every((n) => n === 1)).toBe(true);
    // One worker at a time: besides one update per subscription, at most the one cut short by the crash is sent again.
    const posts = stripe.emulator.apiRequests
      .slice(requestsBefore)
      .filter((r) => r.method === "POST" && r.path.startsWith("/v1/subscriptions/") && r.status === 200);
    expect(posts.length).toBeLessThanOrEqual(SUBSCRIBERS + 1);

    const onNew = await getStripe().subscriptions.list({ price: newPrice.id, limit: 100 });
    expect(onNew.data).toHaveLength(SUBSCRIBERS);
    expect((await getStripe().subscriptions.list({ price: "price_emu_pro_monthly" })).data).toHaveLength(0);
    const kept = await getStripe().subscriptions.retrieve(yearly.id);
    expect(kept.items.data[0]?.price.id).toBe("price_emu_pro_yearly");
    // No proration: nothing billed now, the period is the one it had.
    const moved = await getStripe().subscriptions.retrieve(legacy[0]!.id);
    expect(moved.items.data[0]?.current_period_end).toBe(legacy[0]!.items.data[0]!.current_period_end);

    const audits = await prisma().auditEntry.findMany({
      where: { entityLabel: "pro", action: { startsWith: "price_move" } },
    });
    expect(audits.map((entry) => entry.action).sort()).toEqual(["price_move_finished", "price_move_started"]);

    // Its page, and the tier page's counts once every instance dropped its cache.
    const progress = await settle(() =>
      moveRoute.loader(
        routeArgs(getRequest(`/admin/tiers/pro/price-moves/${moveId}`, admin), { key: "pro", moveId: String(moveId) }),
      ),
    );
    expect(((await progress.json()) as SerializeFrom<typeof moveRoute.loader>).move).toMatchObject({
      status: "finished",
      moved: SUBSCRIBERS,
    });
    invalidatePriceCache();
    const after = await tierPage("");
    const prices = after.prices!.products.flatMap((p) => p.prices);
    expect(prices.find((p) => p.id === newPrice.id)?.liveSubscriptions).toBe(SUBSCRIBERS);
    expect(prices.find((p) => p.id === "price_emu_pro_monthly")?.liveSubscriptions).toBe(0);
  }, 240_000);
});
