// A small closed-loop load generator: `concurrency` keep-alive connections, each sending the next
// request as soon as its previous answer is complete. Latency is measured per request, from the
// first byte written to the last byte read. The same client drives the app and its baseline.
import http from "node:http";

export type PreparedRequest = {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Which server (index into the origins) gets it; default: round robin. */
  target?: number;
};

export type Answer = { status: number; body: string; ms: number };

export type LoadResult = {
  answers: Answer[];
  durationMs: number;
  perSecond: number;
  p50: number;
  p99: number;
  statuses: Record<number, number>;
  /** Requests that got no HTTP answer (connection refused or reset). */
  networkErrors: number;
};

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

function send(agent: http.Agent, origin: URL, request: PreparedRequest, timeoutMs: number): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        host: origin.hostname,
        port: origin.port,
        method: request.method,
        path: request.path,
        headers: request.body ? { ...request.headers, "Content-Length": String(request.body.length) } : request.headers,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            ms: performance.now() - started,
          }),
        );
        res.on("error", (error) => resolve({ status: 0, body: error.message, ms: performance.now() - started }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error) => resolve({ status: 0, body: error.message, ms: performance.now() - started }));
    req.end(request.body);
  });
}

/** Sends every request once, `concurrency` at a time, spread over `origins`; answers in request order. */
export async function runLoad(
  origins: readonly string[],
  requests: readonly PreparedRequest[],
  {
    concurrency,
    timeoutMs = 30_000,
    onAnswer,
  }: { concurrency: number; timeoutMs?: number; onAnswer?: (answer: Answer, index: number) => void },
): Promise<LoadResult> {
  const urls = origins.map((origin) => new URL(origin));
  const agents = urls.map(
    () => new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency }),
  );
  const answers = new Array<Answer>(requests.length);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= requests.length) return;
      const request = requests[index]!;
      const target = (request.target ?? index) % urls.length;
      const answer = await send(agents[target]!, urls[target]!, request, timeoutMs);
      answers[index] = answer;
      onAnswer?.(answer, index);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const durationMs = performance.now() - started;
  for (const agent of agents) agent.destroy();
  const latencies = answers.map((answer) => answer.ms).sort((a, b) => a - b);
  const statuses: Record<number, number> = {};
  for (const answer of answers) statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
  return {
    answers,
    durationMs,
    perSecond: (requests.length / durationMs) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    statuses,
    networkErrors: statuses[0] ?? 0,
  };
}
