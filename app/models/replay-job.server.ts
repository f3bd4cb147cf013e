// Bulk replays of failed events ("replay all failed matching this filter") and their progress.
import type { Prisma } from "~/generated/prisma/client.ts";
import { prisma } from "~/db/db.server.ts";
import type { Db } from "./transaction.server.ts";

export type ReplayJobRow = NonNullable<Awaited<ReturnType<typeof getReplayJob>>>;

export function getReplayJob(id: number) {
  return prisma.replayJob.findUnique({ where: { id } });
}

/** Serialises job creation across instances (a transaction-scoped advisory lock). */
export async function lockReplayJobs(tx: Db) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('tierdesk.replay_jobs'))`;
}

export function findRunningReplayJob(tx: Db, filter: Prisma.InputJsonValue) {
  return tx.replayJob.findFirst({ where: { status: "running", filter: { equals: filter } }, orderBy: { id: "desc" } });
}

export function createReplayJob(
  tx: Db,
  data: { createdByEmail: string; filter: Prisma.InputJsonValue; upToId: bigint; total: number },
) {
  return tx.replayJob.create({ data });
}

/** Adds what one runner did to the job's counters and marks it alive. */
export async function recordReplayProgress(id: number, processed: number, failed: number) {
  await prisma.$executeRaw`
    UPDATE replay_jobs SET processed = processed + ${processed}, failed = failed + ${failed}, heartbeat_at = now()
     WHERE id = ${id}`;
}

export async function finishReplayJob(id: number) {
  await prisma.replayJob.updateMany({
    where: { id, status: "running" },
    data: { status: "finished", finishedAt: new Date(), heartbeatAt: new Date() },
  });
}

/**
 * Running bulk replays that no step on the job queue will carry on (none created, waiting to retry or
 * active): their steps ran out of retries, were lost, or were never queued (a job started before the
 * queue existed). Read under `lockReplayJobs`, so two instances do not both resume one.
 */
export async function listOrphanedReplayJobs(tx: Db): Promise<{ id: number }[]> {
  return tx.$queryRaw<{ id: number }[]>`
    SELECT r.id FROM replay_jobs r
     WHERE r.status = 'running'
       AND NOT EXISTS (
         SELECT 1 FROM pgboss.job j
          WHERE j.name = 'bulk-replay' AND j.state IN ('created', 'retry', 'active')
            AND (j.data->>'replayJobId')::int = r.id)`;
}
