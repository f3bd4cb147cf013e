// Bulk replay on the job queue (pg-boss) with the worker of this process: it finishes, each failed
// event replayed once, on PostgreSQL and on the embedded database (pg-boss runs its SQL on PGlite).
import { beforeAll, describe, expect, it } from "vitest";
import { countFailedMatching } from "../../app/models/event-log.server.ts";
import { createReplayJob } from "../../app/models/replay-job.server.ts";
import { inTransaction } from "../../app/models/transaction.server.ts";
import { resumeOrphanedBulkReplays, startBulkReplay } from "../../app/services/events/bulk-replay.server.ts";
import { startJobWorker } from "../../app/services/jobs/worker.server.ts";
import { attemptsOf, EVENT_TYPE, failedEvents, replayJob, waitFor } from "../bulk-replay-fixtures.ts";
import { useStripeEmulator } from "../stripe-harness.ts";
import { seedDemoData } from "../utils.ts";

useStripeEmulator();

beforeAll(async () => {
  await seedDemoData();
});

describe("bulk replay on the queue, in this process", () => {
  it("finishes with the worker of this process (on the embedded database too)", async () => {
    await startJobWorker();
    const since = new Date(Date.now() - 1000);
    const { ids, fix } = await failedEvents("queue_local", 6);
    await fix();
    const job = await startBulkReplay("support@example.com", { type: EVENT_TYPE, from: since });
    expect(job).not.toBeNull();
    const finished = await waitFor(
      "the job to finish",
      () => replayJob(job!.id),
      (j) => j.status === "finished",
      15_000,
    );
    expect(finished).toMatchObject({ total: 6, processed: 6, failed: 0 });
    expect(await attemptsOf(ids)).toEqual(
      ids.map(() => ({ status: "processed", attempts: { webhook: 1, bulk_replay: 1 } })),
    );
  });

  it("resumes a running replay that no step on the queue carries on (steps out of retries, or started before the queue)", async () => {
    await startJobWorker();
    const since = new Date(Date.now() - 1000);
    const { ids, fix } = await failedEvents("queue_orphan", 4);
    await fix();
    const filter = { type: EVENT_TYPE, from: since };
    const { count, maxId } = await countFailedMatching(filter);
    expect(count).toBe(4);
    // A running job with nothing on the queue, as a job whose steps were given up would be.
    const orphan = await inTransaction((tx) =>
      createReplayJob(tx, {
        createdByEmail: "support@example.com",
        filter: { type: EVENT_TYPE, from: since.toISOString() },
        upToId: maxId!,
        total: count,
      }),
    );
    await resumeOrphanedBulkReplays();
    const finished = await waitFor(
      "the orphaned job to finish",
      () => replayJob(orphan.id),
      (j) => j.status === "finished",
      15_000,
    );
    expect(finished).toMatchObject({ total: 4, processed: 4, failed: 0 });
    expect(await attemptsOf(ids)).toEqual(
      ids.map(() => ({ status: "processed", attempts: { webhook: 1, bulk_replay: 1 } })),
    );
    // Resuming again finds nothing to resume: the job is finished.
    await resumeOrphanedBulkReplays();
    expect((await replayJob(orphan.id)).processed).toBe(4);
  });
});
