// Typed reads of Stripe's form-encoded params (`items[0][price]`, `expand[]`, `metadata[key]`), with
// Stripe's errors naming the full param.
import type { ParsedQs } from "qs";
import { invalid, missingParam } from "./errors.ts";
import type { Metadata } from "./types.ts";

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Typed reads of Stripe's bracketed params; errors name the full param (`items[0][price]`). */
export class Params {
  constructor(
    private readonly raw: ParsedQs,
    private readonly prefix = "",
  ) {}

  name(key: string): string {
    return this.prefix ? `${this.prefix}[${key}]` : key;
  }

  string(key: string): string | undefined {
    const value = this.raw[key];
    if (value !== undefined && typeof value !== "string") {
      throw invalid(this.name(key), `Invalid string: ${this.name(key)}`);
    }
    return value;
  }

  required(key: string): string {
    const value = this.string(key);
    if (!value) throw missingParam(this.name(key));
    return value;
  }

  boolean(key: string): boolean | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (value !== "true" && value !== "false") throw invalid(this.name(key), `Invalid boolean: ${value}`);
    return value === "true";
  }

  integer(key: string, min: number, max: number): number | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw invalid(this.name(key), `Invalid integer: ${this.name(key)} must be between ${min} and ${max}`);
    }
    return n;
  }

  /** `x[0]=a` or `x[]=a`; a lone `x=a` is a one-item list. */
  strings(key: string): string[] | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    const values: unknown = typeof value === "string" ? [value] : value;
    if (!Array.isArray(values) || !values.every((v): v is string => typeof v === "string")) {
      throw invalid(this.name(key), `Invalid array: ${this.name(key)} must be a list of strings`);
    }
    return values;
  }

  hashes(key: string): Params[] | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw invalid(this.name(key), `Invalid array: ${this.name(key)}`);
    return value.map((entry, i) => {
      if (typeof entry === "string") throw invalid(`${this.name(key)}[${i}]`, `Invalid hash: ${this.name(key)}[${i}]`);
      return new Params(entry, `${this.name(key)}[${i}]`);
    });
  }

  hash(key: string): Params | undefined {
    const value = this.raw[key];
    if (value === undefined) return undefined;
    if (typeof value === "string" || Array.isArray(value)) {
      throw invalid(this.name(key), `Invalid hash: ${this.name(key)}`);
    }
    return new Params(value, this.name(key));
  }

  /** Empty values unset keys in Stripe; on a new object that means leaving them out. */
  metadata(key = "metadata"): Metadata {
    const hash = this.hash(key);
    const metadata: Metadata = {};
    for (const k of Object.keys(hash?.raw ?? {})) {
      const value = hash?.string(k);
      if (value) metadata[k] = value;
    }
    return metadata;
  }

  expand(): string[] {
    return this.strings("expand") ?? [];
  }
}
