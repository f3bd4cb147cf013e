/**
 * Parser for Stripe's form encoding (`application/x-www-form-urlencoded` with
 * Rack-style brackets), used for both POST bodies and GET/DELETE query strings.
 *
 *   line_items[0][price]=price_x&expand[]=data.product&metadata[plan]=pro
 *   → { line_items: [{ price: 'price_x' }], expand: ['data.product'], metadata: { plan: 'pro' } }
 *
 * Values stay strings: only the endpoint knows whether `"1"` is an integer, a
 * boolean or an opaque id, so coercion happens in params.ts.
 */

export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

export class FormParseError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

/** Keys under which integer-looking sub-keys are map keys, not array indexes. */
const MAP_KEYS = new Set(['metadata']);

// `[]` segments are collected under keys that cannot collide with real indexes
// and turned into array positions when the tree is finalised.
const APPEND_PREFIX = '\u0000append:';

export function parseForm(input: string): FormObject {
  const root: FormObject = {};
  if (!input) return root;
  let appendCounter = 0;

  for (const pair of input.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    const key = decode(rawKey, rawKey);
    const value = decode(rawValue, key);
    const segments = splitKey(key);

    let node: FormObject = root;
    for (let i = 0; i < segments.length; i++) {
      let segment = segments[i];
      if (segment === '') segment = `${APPEND_PREFIX}${appendCounter++}`;
      const isLast = i === segments.length - 1;
      const pathSoFar = displayPath(segments.slice(0, i + 1));
      if (isLast) {
        if (typeof node[segment] === 'object') {
          throw new FormParseError(pathSoFar, `Invalid value for ${pathSoFar}: it is given both as a value and as a hash.`);
        }
        node[segment] = value;
      } else {
        const existing = node[segment];
        if (existing === undefined) {
          const child: FormObject = {};
          node[segment] = child;
          node = child;
        } else if (typeof existing === 'string') {
          throw new FormParseError(pathSoFar, `Invalid value for ${pathSoFar}: it is given both as a value and as a hash.`);
        } else {
          node = existing as FormObject;
        }
      }
    }
  }
  return finalise(root, undefined) as FormObject;
}

function decode(raw: string, param: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new FormParseError(param, `Invalid URL encoding in ${param}.`);
  }
}

/** `a[b][0][]` → ['a', 'b', '0', '']; anything malformed is taken literally. */
function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const head = key.slice(0, open);
  const rest = key.slice(open);
  const segments: string[] = [head];
  const re = /\[([^\[\]]*)\]/gy;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = re.exec(rest)) !== null) {
    segments.push(match[1]);
    consumed = re.lastIndex;
  }
  if (consumed !== rest.length) return [key];
  return segments;
}

function displayPath(segments: string[]): string {
  return segments[0] + segments.slice(1).map((s) => `[${s}]`).join('');
}

function finalise(value: FormValue, parentKey: string | undefined): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const finalised: FormObject = {};
  for (const key of keys) finalised[key] = finalise(value[key], key);

  const isMap = parentKey !== undefined && MAP_KEYS.has(parentKey);
  if (!isMap && keys.length > 0 && keys.every(isArrayKey)) {
    // Sparse indexes (e.g. items[0] and items[2]) are compacted in index order,
    // which is what the Stripe API does as well.
    const indexed = keys.map((k) => [arrayPosition(k), finalised[k]] as const);
    indexed.sort((a, b) => a[0] - b[0]);
    return indexed.map(([, v]) => v);
  }
  return finalised;
}

function isArrayKey(key: string): boolean {
  return /^(0|[1-9]\d{0,5})$/.test(key) || key.startsWith(APPEND_PREFIX);
}

function arrayPosition(key: string): number {
  // Appended (`[]`) entries keep their order relative to each other and sort
  // after explicit indexes; mixing both styles in one array is not meaningful.
  return key.startsWith(APPEND_PREFIX) ? 1e7 + Number(key.slice(APPEND_PREFIX.length)) : Number(key);
}
