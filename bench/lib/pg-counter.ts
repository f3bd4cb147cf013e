// A TCP proxy in front of PostgreSQL that counts what its clients send: every simple Query ('Q') and
// every Sync ('S', the end of one extended-protocol query) is one round trip to the database.
import net from "node:net";

export type RoundTripCounter = {
  url: string;
  roundTrips(): number;
  messages(): Record<string, number>;
  reset(): void;
  close(): Promise<void>;
};

/** Starts the proxy; `url` is `databaseUrl` pointed at it. */
export async function startRoundTripCounter(databaseUrl: string): Promise<RoundTripCounter> {
  const upstream = new URL(databaseUrl);
  const counts: Record<string, number> = {};
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const server = net.connect(Number(upstream.port || 5432), upstream.hostname);
    sockets.add(client).add(server);
    let started = false;
    let pending: Buffer = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        if (!started) {
          // The startup message has no type byte: int32 length, then the protocol version.
          if (pending.length < 4) break;
          const length = pending.readInt32BE(0);
          if (pending.length < length) break;
          pending = pending.subarray(length);
          started = true;
          continue;
        }
        if (pending.length < 5) break;
        const length = pending.readInt32BE(1);
        if (pending.length < 1 + length) break;
        const type = String.fromCharCode(pending[0]!);
        counts[type] = (counts[type] ?? 0) + 1;
        pending = pending.subarray(1 + length);
      }
      server.write(chunk);
    });
    server.on("data", (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on("close", end).on("error", end);
    server.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    roundTrips: () => (counts.Q ?? 0) + (counts.S ?? 0),
    messages: () => ({ ...counts }),
    reset: () => {
      for (const key of Object.keys(counts)) delete counts[key];
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
