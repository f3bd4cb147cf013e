/** `expand[]`, pagination and `created` filters shared by the /v1 endpoints. */
import { apiErrors } from './errors.ts';
import { list } from './objects.ts';
import type { Params } from './params.ts';
import type { ListObject } from './types.ts';
import { snapshot } from './util.ts';

type Json = Record<string, unknown>;
export type Resolver = (id: string) => object | undefined;

/**
 * Returns a copy of `root` with the given dotted paths expanded (ids replaced
 * by the objects they name). `includable` covers properties Stripe only
 * returns when expanded, such as a Checkout Session's `line_items`.
 */
export function expand(
  root: object,
  paths: string[],
  resolve: Resolver,
  includable: Record<string, () => object> = {},
): Json {
  const result = snapshot(root) as Json;
  paths.forEach((path, i) => {
    const segments = path.split('.');
    if (segments.length > 4 || segments.some((s) => s === '')) {
      throw apiErrors.invalidParam(`expand[${i}]`, `You cannot expand more than 4 levels of a property, or an empty one. Property: ${path}`);
    }
    expandAt(result, segments, { path, param: `expand[${i}]`, resolve, includable }, true);
  });
  return result;
}

interface ExpandContext {
  path: string;
  param: string;
  resolve: Resolver;
  includable: Record<string, () => object>;
}

function expandAt(node: unknown, segments: string[], ctx: ExpandContext, isRoot: boolean): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    // Reached through a list's `data`: apply the rest of the path to every element.
    for (const element of node) expandAt(element, segments, ctx, false);
    return;
  }
  const obj = node as Json;
  const [key, ...rest] = segments;
  const cannotExpand = () => apiErrors.invalidParam(ctx.param, `This property cannot be expanded (${ctx.path}).`);

  if (!(key in obj)) {
    const include = isRoot ? ctx.includable[key] : undefined;
    if (!include) throw cannotExpand();
    obj[key] = snapshot(include());
  } else if (typeof obj[key] === 'string') {
    const resolved = ctx.resolve(obj[key] as string);
    if (!resolved) throw cannotExpand();
    obj[key] = snapshot(resolved);
  } else if (rest.length === 0) {
    // Already an object (e.g. a subscription's `items`) or an unset reference: fine.
    // Plain values and nested hashes are not expandable.
    const value = obj[key];
    const isStripeObject = value !== null && typeof value === 'object' && 'object' in (value as Json);
    if (value !== null && !isStripeObject) throw cannotExpand();
  }
  if (rest.length > 0) expandAt(obj[key], rest, ctx, false);
}

/**
 * Cursor pagination over an already ordered array, as Stripe lists do:
 * `limit` (1–100, default 10), `starting_after` / `ending_before` ids.
 */
export function paginate<T extends { id: string }>(items: T[], params: Params, url: string, kind: string): ListObject<T> {
  const limit = params.integer('limit', { min: 1, max: 100 }) ?? 10;
  const startingAfter = params.string('starting_after');
  const endingBefore = params.string('ending_before');
  const indexOf = (id: string, param: string) => {
    const index = items.findIndex((item) => item.id === id);
    if (index === -1) throw apiErrors.resourceMissing(kind, id, param);
    return index;
  };
  if (startingAfter) {
    const start = indexOf(startingAfter, 'starting_after') + 1;
    return list(items.slice(start, start + limit), url, start + limit < items.length);
  }
  if (endingBefore) {
    const end = indexOf(endingBefore, 'ending_before');
    const start = Math.max(0, end - limit);
    return list(items.slice(start, end), url, start > 0);
  }
  return list(items.slice(0, limit), url, items.length > limit);
}

/** `created=123` or `created[gte]=…&created[lt]=…`. */
export function createdFilter(params: Params): (created: number) => boolean {
  if (!params.has('created')) return () => true;
  const exact = params.raw.created;
  if (typeof exact === 'string') {
    const value = params.integer('created');
    return (created) => created === value;
  }
  const range = params.object('created')!;
  const gt = range.integer('gt');
  const gte = range.integer('gte');
  const lt = range.integer('lt');
  const lte = range.integer('lte');
  return (created) =>
    (gt === undefined || created > gt) &&
    (gte === undefined || created >= gte) &&
    (lt === undefined || created < lt) &&
    (lte === undefined || created <= lte);
}

/** Stripe lists most resources newest first; ties keep the most recently created first too. */
export function newestFirst<T extends { created: number }>(items: Iterable<T>): T[] {
  return [...items].reverse().sort((a, b) => b.created - a.created);
}
