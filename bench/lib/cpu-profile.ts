// Reads a V8 .cpuprofile (node --cpu-prof) and says where the busy time went: by layer (Prisma's
// query layer, the pg wire, Remix, Express, logging…) and by function, self time only.
import fs from "node:fs";

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
};
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

/** A window of the profile, in ms since it started (≈ since the process started). */
export type Window = { fromMs: number; toMs: number };

const LAYERS: Array<[string, RegExp]> = [
  [
    "Prisma client (query layer)",
    /node_modules\/@prisma\/client|generated\/prisma|@prisma\/client-runtime|query_compiler/,
  ],
  ["Prisma pg adapter", /@prisma\/adapter-pg|@prisma\/driver-adapter-utils/],
  ["pg driver (wire)", /node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-[a-z]+)\//],
  ["Remix", /@remix-run|react-router|@web3-storage|web-streams/],
  [
    "Express + helmet",
    /node_modules\/(express|helmet|body-parser|router|send|serve-static|finalhandler|path-to-regexp|qs|on-finished|debug)\//,
  ],
  [
    "pino request log",
    /node_modules\/(pino|pino-http|pino-std-serializers|sonic-boom|fast-redact|thread-stream|quick-format-unescaped)\//,
  ],
  ["zod", /node_modules\/zod\//],
  ["Stripe SDK", /node_modules\/stripe\//],
  ["tsx loader", /node_modules\/tsx\//],
  ["Tierdesk (build/, app/, server/)", /\/build\/index\.js|\/app\/|\/server\//],
  ["node internals", /^node:|^internal\//],
];

function layerOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) {
    if (functionName === "(idle)") return "(idle)";
    if (functionName === "(garbage collector)") return "garbage collector";
    if (functionName === "(program)") return "(program: native, I/O)";
    return `native: ${functionName || "(anonymous)"}`;
  }
  for (const [layer, pattern] of LAYERS) if (pattern.test(url)) return layer;
  const module = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  return module ? `other: ${module}` : `other: ${url.split("/").slice(-2).join("/")}`;
}

export type ProfileSummary = { busyMs: number; layers: Array<[string, number]>; functions: Array<[string, number]> };

export function summarizeProfile(
  file: string,
  window: Window = { fromMs: 0, toMs: Infinity },
  top = 15,
): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let atUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    atUs += delta;
    if (atUs >= window.fromMs * 1000 && atUs <= window.toMs * 1000) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const layers = new Map<string, number>();
  const functions = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const layer = layerOf(node);
    if (layer === "(idle)") continue;
    busyUs += us;
    layers.set(layer, (layers.get(layer) ?? 0) + us);
    const where = node.callFrame.url
      .replace(/^.*node_modules\//, "")
      .replace(/^file:\/\/.*\/(build|app|server)\//, "$1/");
    const name = `${node.callFrame.functionName || "(anonymous)"} ${where}:${node.callFrame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const sorted = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).map(([k, us]): [string, number] => [k, us / 1000]);
  return { busyMs: busyUs / 1000, layers: sorted(layers), functions: sorted(functions).slice(0, top) };
}

export function printProfile(summary: ProfileSummary, perEventOf: number) {
  const share = (ms: number) => `${((ms / summary.busyMs) * 100).toFixed(1).padStart(5)}%`;
  console.log(
    `  busy CPU ${summary.busyMs.toFixed(0)} ms, ${((summary.busyMs / perEventOf) * 1000).toFixed(0)} µs per request`,
  );
  for (const [layer, ms] of summary.layers.slice(0, 14)) {
    console.log(`  ${share(ms)}  ${((ms / perEventOf) * 1000).toFixed(0).padStart(4)} µs/req  ${layer}`);
  }
  console.log("  top functions (self time):");
  for (const [name, ms] of summary.functions) console.log(`  ${share(ms)}  ${name}`);
}
