/**
 * Typed accessors over parsed form params. Every failure throws a 400 whose
 * `param` is the full bracketed name (e.g. `line_items[0][price]`), as Stripe does,
 * so app code and tests can see exactly which field was wrong.
 */
import { apiErrors } from './errors.ts';
import type { FormObject, FormValue } from './form.ts';

export type Metadata = Record<string, string>;

export class Params {
  /** Top-level params the endpoint read; anything else is reported as ignored. */
  private readonly touched = new Set<string>();

  constructor(
    readonly raw: FormObject,
    /** Prefix for error messages when this wraps a nested hash, e.g. `line_items[0]`. */
    private readonly prefix = '',
  ) {}

  name(key: string): string {
    return this.prefix ? `${this.prefix}[${key}]` : key;
  }

  has(key: string): boolean {
    this.touched.add(key);
    return this.raw[key] !== undefined;
  }

  private get(key: string): FormValue | undefined {
    this.touched.add(key);
    return this.raw[key];
  }

  string(key: string): string | undefined {
    const value = this.get(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw apiErrors.invalidParam(this.name(key), `Invalid string: ${this.name(key)} must be a string.`);
    return value;
  }

  requiredString(key: string): string {
    const value = this.string(key);
    if (value === undefined || value === '') throw apiErrors.missingParam(this.name(key));
    return value;
  }

  /** Empty string means "unset" in Stripe's API; callers get `null` for it. */
  nullableString(key: string): string | null | undefined {
    const value = this.string(key);
    return value === '' ? null : value;
  }

  boolean(key: string): boolean | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (value === 'true') return true;
    if (value === 'false') return false;
    throw apiErrors.invalidBoolean(this.name(key), value);
  }

  integer(key: string, bounds: { min?: number; max?: number } = {}): number | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value)) throw apiErrors.invalidInteger(this.name(key), value);
    const n = Number(value);
    if (bounds.min !== undefined && n < bounds.min) {
      throw apiErrors.invalidParam(this.name(key), `Invalid ${this.name(key)}: must be at least ${bounds.min}`);
    }
    if (bounds.max !== undefined && n > bounds.max) {
      throw apiErrors.invalidParam(this.name(key), `Invalid ${this.name(key)}: must be at most ${bounds.max}`);
    }
    return n;
  }

  enumValue<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      throw apiErrors.invalidParam(
        this.name(key),
        `Invalid ${this.name(key)}: must be one of ${allowed.join(', ')}`,
        'parameter_invalid_string',
      );
    }
    return value as T;
  }

  /** Arrays arrive as `x[0]=a` or `x[]=a`; a lone `x=a` is accepted as a one-item list. */
  stringArray(key: string): string[] | undefined {
    const value = this.get(key);
    if (value === undefined) return undefined;
    const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
    if (!list || list.some((v) => typeof v !== 'string')) {
      throw apiErrors.invalidParam(this.name(key), `Invalid array: ${this.name(key)} must be a list of strings.`);
    }
    return list as string[];
  }

  /** A list of hashes, each wrapped so errors carry its index (`items[1][price]`). */
  objectArray(key: string): Params[] | undefined {
    const value = this.get(key);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw apiErrors.invalidParam(this.name(key), `Invalid array: ${this.name(key)} must be a list.`);
    return value.map((entry, i) => {
      const name = `${this.name(key)}[${i}]`;
      if (typeof entry !== 'object' || Array.isArray(entry)) {
        throw apiErrors.invalidParam(name, `Invalid hash: ${name} must be a hash.`);
      }
      return new Params(entry, name);
    });
  }

  object(key: string): Params | undefined {
    const value = this.get(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw apiErrors.invalidParam(this.name(key), `Invalid hash: ${this.name(key)} must be a hash.`);
    }
    return new Params(value, this.name(key));
  }

  /**
   * Metadata as a patch: `null` values delete keys and `metadata=` (empty
   * string) clears everything — the same semantics as Stripe's updates.
   */
  metadataPatch(key = 'metadata'): { clear: boolean; set: Record<string, string | null> } | undefined {
    const value = this.get(key);
    if (value === undefined) return undefined;
    const name = this.name(key);
    if (value === '') return { clear: true, set: {} };
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw apiErrors.invalidParam(name, `Invalid hash: ${name} must be a hash of string keys and values.`);
    }
    const entries = Object.entries(value);
    if (entries.length > 50) throw apiErrors.invalidParam(name, 'You can specify up to 50 keys in metadata.');
    const set: Record<string, string | null> = {};
    for (const [k, v] of entries) {
      if (typeof v !== 'string') throw apiErrors.invalidParam(`${name}[${k}]`, `Invalid value for ${name}[${k}]: must be a string.`);
      if (k.length > 40) throw apiErrors.invalidParam(`${name}[${k}]`, 'Metadata keys can be at most 40 characters long.');
      if (v.length > 500) throw apiErrors.invalidParam(`${name}[${k}]`, 'Metadata values can be at most 500 characters long.');
      set[k] = v === '' ? null : v;
    }
    return { clear: false, set };
  }

  /** Metadata for a new object: deletions are meaningless, so they are dropped. */
  metadata(key = 'metadata'): Metadata {
    return applyMetadataPatch({}, this.metadataPatch(key));
  }

  expand(): string[] {
    return this.stringArray('expand') ?? [];
  }

  /** Top-level params that were sent but never read by the endpoint. */
  ignored(): string[] {
    return Object.keys(this.raw).filter((k) => !this.touched.has(k));
  }
}

export function applyMetadataPatch(
  current: Metadata,
  patch: { clear: boolean; set: Record<string, string | null> } | undefined,
): Metadata {
  if (!patch) return current;
  const next: Metadata = patch.clear ? {} : { ...current };
  for (const [k, v] of Object.entries(patch.set)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next;
}
