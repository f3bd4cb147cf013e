// What every bench prints first (the date and the machine) and small formatting helpers.
import fs from "node:fs";
import os from "node:os";
import pg from "pg";

export async function describeMachine(databaseUrl: string): Promise<string> {
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  const memory = `${Math.round(os.totalmem() / 2 ** 30)} GiB`;
  let postgres = "PostgreSQL ?";
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>("SHOW server_version");
    postgres = `PostgreSQL ${rows[0]?.server_version.split(" ")[0] ?? "?"}`;
  } catch {
    // The bench itself fails clearly later if the database is unreachable.
  } finally {
    await client.end().catch(() => {});
  }
  const load = os.loadavg()[0]!.toFixed(1);
  const distro = fs.existsSync("/etc/debian_version")
    ? ` Debian ${fs.readFileSync("/etc/debian_version", "utf8").trim()},`
    : "";
  return `${cpu}, ${os.cpus().length} cores, ${memory},${distro} Linux ${os.release()}, Node ${process.versions.node}, ${postgres}; load average ${load} at start`;
}

export function header(title: string, machine: string) {
  console.log(`# ${title}`);
  console.log(`${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC — ${machine}`);
}

export const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

export function table(headers: string[], rows: Array<Array<string | number>>) {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(line(headers));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of cells.slice(1)) console.log(line(row));
}

export const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
};
