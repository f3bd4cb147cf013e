// Compares objects a Stripe double serves with Stripe's published fixtures (`resources` of
// stripe/openapi's fixtures3.json, keyed by `object` type), recursively and both ways, and reports
// every mismatch with its JSON path.
//
// The rules, because a fixture is one example, not a schema:
// - Keys: every key of the fixture is in the object and no other key is, unless the rules list it
//   (`extraKeys`, `missingKeys`, each with its reason).
// - Types (string, number, boolean, object, array, null) agree, where:
//   - a fixture `null` is a nullable field of a type the example does not show: the value's kind
//     (and, inside it, every key and kind) must be one the SDK's types declare for the field
//     (`declared`: generated from Stripe's OpenAPI spec); a tagged object there is still compared
//     with its own fixture. The same holds wherever the fixture shows nothing: an allowed extra key,
//     the items of a fixture `[]`, the keys of a fixture `{}`;
//   - a fixture value that is not null needs the same type, or null when the rules list the field as
//     nullable (`nullable`: Stripe's reference documents it "nullable", the example merely filled it in);
//   - an expandable field is an id string or the expanded object: a fixture string accepts an object
//     with an `object` tag, and a fixture tagged object accepts its id string.
// - A tagged object (`object: "price"`) anywhere is compared with the fixture of its own type
//   (`deleted: true` with the `deleted_<type>` fixture), and its id has the fixture id's prefix;
//   where the fixture holds a tagged object (a list's items too), the tags agree.
// - Lists (`{ object: "list", data }`) and arrays: every item is compared, with the fixture's first
//   item or, for tagged items, their type's fixture.
// - `metadata` maps hold strings.
// - `polymorphic` paths (an event's `data.object`) hold any tagged object; `partialOf` paths (an
//   event's `previous_attributes`) hold some keys of the sibling object, each typed as there.

export type Fixtures = Record<string, unknown>;

export interface ShapeRules {
  /** `type.path` → why Stripe sends a key its fixture lacks (e.g. a field newer than the fixture set). */
  extraKeys?: Record<string, string>;
  /** `type.path` → why the double leaves out a key of the fixture. */
  missingKeys?: Record<string, string>;
  /** `type.path` of fields Stripe documents as nullable although the fixture fills them in. */
  nullable?: readonly string[];
  /** `type.path` of fields that hold any tagged object. */
  polymorphic?: readonly string[];
  /** `type.path` → the sibling key of the object whose keys this one holds some of. */
  partialOf?: Record<string, string>;
  /** What Stripe's API reference declares for a field (`type.path`, `[]` for items), if anything. */
  declared?: (rule: string) => { kinds: ReadonlySet<string> } | undefined;
}

export interface Mismatch {
  /** Where, from the root: `subscription.items.data[1].price.recurring.interval`. */
  path: string;
  /** The field as the rules name it: `price.recurring.interval`. */
  rule: string;
  problem: string;
}

type Json = null | string | number | boolean | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const kindOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value === "object" ? "object" : typeof value;

const isObject = (value: unknown): value is JsonObject => kindOf(value) === "object";
const tagOf = (value: unknown): string | undefined =>
  isObject(value) && typeof value.object === "string" ? value.object : undefined;
const isList = (value: unknown): value is JsonObject & { data: Json[] } =>
  tagOf(value) === "list" && Array.isArray((value as JsonObject).data);
/** `price_`, `cus_`, `cs_`: the part of an id before the first underscore; `obj_` ids are placeholders. */
const idPrefix = (id: string) => /^([a-z]+)_/.exec(id)?.[1];

/** Describes `value`'s kind for a message: `string "abc"`, `object`. */
function show(value: unknown): string {
  const kind = kindOf(value);
  if (kind === "string") return `string ${JSON.stringify(String(value).slice(0, 40))}`;
  if (kind === "number" || kind === "boolean") return `${kind} ${String(value)}`;
  return tagOf(value) ? `${kind} (${tagOf(value)})` : kind;
}

export function compareWithFixtures(actual: unknown, fixtures: Fixtures, rules: ShapeRules = {}): Mismatch[] {
  const mismatches: Mismatch[] = [];
  const nullable = new Set(rules.nullable ?? []);
  const polymorphic = new Set(rules.polymorphic ?? []);
  const report = (path: string, problem: string, rule = ""): void => void mismatches.push({ path, rule, problem });

  /** The fixture of a tagged object, by its type (`deleted_<type>` for a deletion stub). */
  function fixtureFor(value: JsonObject): JsonObject | undefined {
    const tag = String(value.object);
    const fixture = fixtures[value.deleted === true ? `deleted_${tag}` : tag];
    return isObject(fixture) ? fixture : undefined;
  }

  /** A tagged object against its type's fixture; rules name its fields from its type: `price.recurring`. */
  function compareTagged(value: JsonObject, path: string): void {
    const fixture = fixtureFor(value);
    const tag = String(value.object);
    if (!fixture) return report(path, `no Stripe fixture for object type "${tag}"`);
    const expected = typeof fixture.id === "string" ? idPrefix(fixture.id) : undefined;
    if (expected && expected !== "obj" && typeof value.id === "string" && idPrefix(value.id) !== expected) {
      report(`${path}.id`, `id ${JSON.stringify(value.id)} should start with "${expected}_"`, `${tag}.id`);
    }
    compareObject(value, fixture, path, tag);
  }

  function compareObject(
    value: JsonObject,
    fixture: JsonObject,
    path: string,
    rulePath: string,
    partial = false,
  ): void {
    for (const key of Object.keys(fixture)) {
      if (key in value || partial) continue;
      if (rules.missingKeys?.[`${rulePath}.${key}`] === undefined)
        report(join(path, key), "missing: Stripe sends it", `${rulePath}.${key}`);
    }
    for (const key of Object.keys(value)) {
      const childRule = `${rulePath}.${key}`;
      if (!(key in fixture)) {
        if (rules.extraKeys?.[childRule] === undefined)
          report(join(path, key), "extra: Stripe does not send it", childRule);
        else compareExtra(value[key] as Json, join(path, key), childRule, value);
        continue;
      }
      compareValue(value[key] as Json, fixture[key] as Json, join(path, key), childRule, key);
    }
  }

  /** A key the rules allow beyond the fixture: a partial of its sibling, or checked as declared. */
  function compareExtra(value: Json, path: string, rulePath: string, owner: JsonObject): void {
    const of = rules.partialOf?.[rulePath];
    if (of !== undefined) {
      const sibling = owner[of];
      const siblingFixture = isObject(sibling) ? fixtureFor(sibling) : undefined;
      if (!isObject(value)) return report(path, `should be an object, not ${show(value)}`);
      if (!isObject(sibling) || !siblingFixture) return;
      return compareObject(value, siblingFixture, path, String(sibling.object), true);
    }
    compareUnshown(value, path, rulePath);
  }

  /**
   * A value the fixture shows nothing of: tagged objects inside it are compared with their
   * fixtures, everything else with what Stripe's reference declares (when the rules can tell).
   */
  function compareUnshown(value: Json, path: string, rulePath: string): void {
    if (tagOf(value) && tagOf(value) !== "list") return compareTagged(value as JsonObject, path);
    if (rules.declared) {
      const field = rules.declared(rulePath);
      if (!field) return report(path, "extra: Stripe's API reference has no such field", rulePath);
      if (!field.kinds.has(kindOf(value))) {
        return report(path, `should be ${[...field.kinds].join(" or ")}, not ${show(value)}`, rulePath);
      }
    }
    if (Array.isArray(value)) return value.forEach((item, i) => compareUnshown(item, `${path}[${i}]`, `${rulePath}[]`));
    if (!isObject(value)) return;
    if (rulePath.endsWith(".metadata")) return compareMetadata(value, path);
    for (const [key, child] of Object.entries(value)) compareUnshown(child, join(path, key), `${rulePath}.${key}`);
  }

  function compareMetadata(value: JsonObject, path: string): void {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== "string") report(join(path, k), `metadata values are strings, not ${show(v)}`);
    }
  }

  function compareValue(value: Json, fixture: Json, path: string, rulePath: string, key: string): void {
    const actualKind = kindOf(value);
    const fixtureKind = kindOf(fixture);
    if (polymorphic.has(rulePath)) {
      if (!tagOf(value)) return report(path, `should be a Stripe object, not ${show(value)}`);
      return compareTagged(value as JsonObject, path);
    }
    if (fixtureKind === "null") return compareUnshown(value, path, rulePath);
    if (actualKind === "null") {
      if (!nullable.has(rulePath)) report(path, `should be ${show(fixture)}, not null`, rulePath);
      return;
    }
    if (tagOf(fixture) && tagOf(value) && tagOf(fixture) !== tagOf(value)) {
      return report(path, `should be ${show(fixture)}, not ${show(value)}`, rulePath);
    }
    // Expandable: an id, or the expanded object (of the type the id names).
    if (fixtureKind === "string" && tagOf(value) && tagOf(value) !== "list") {
      const named = idPrefix(String(fixture));
      const id = (value as JsonObject).id;
      if (named && named !== "obj" && typeof id === "string" && idPrefix(id) !== named) {
        return report(path, `should be the ${named}_ object its id names, not ${show(value)}`, rulePath);
      }
      return compareTagged(value as JsonObject, path);
    }
    if (tagOf(fixture) && tagOf(fixture) !== "list" && actualKind === "string") return;
    if (actualKind !== fixtureKind) return report(path, `should be ${show(fixture)}, not ${show(value)}`, rulePath);

    if (Array.isArray(value) && Array.isArray(fixture)) {
      return value.forEach((item, i) => compareItem(item, fixture[0], `${path}[${i}]`, `${rulePath}[]`));
    }
    if (!isObject(value) || !isObject(fixture)) return;
    if (key === "metadata") return compareMetadata(value, path);
    if (Object.keys(fixture).length === 0) {
      for (const [k, child] of Object.entries(value)) compareUnshown(child, join(path, k), `${rulePath}.${k}`);
      return;
    }
    if (tagOf(value) !== undefined && tagOf(value) !== "list") return compareTagged(value, path);
    if (isList(fixture) && isList(value)) {
      compareObject({ ...value, data: [] }, { ...fixture, data: [] }, path, rulePath);
      return value.data.forEach((item, i) =>
        compareItem(item, fixture.data[0], `${path}.data[${i}]`, `${rulePath}.data[]`),
      );
    }
    compareObject(value, fixture, path, rulePath);
  }

  function compareItem(item: Json, fixtureItem: Json | undefined, path: string, rulePath: string): void {
    if (tagOf(fixtureItem) && tagOf(item) !== tagOf(fixtureItem)) {
      return report(path, `should be ${show(fixtureItem)}, not ${show(item)}`, rulePath);
    }
    if (tagOf(item) && tagOf(item) !== "list") return compareTagged(item as JsonObject, path);
    if (fixtureItem === undefined) return compareUnshown(item, path, rulePath); // the fixture shows `[]`
    compareValue(item, fixtureItem, path, rulePath, "");
  }

  const root = actual as Json;
  if (!tagOf(root)) report("", `not a Stripe object: ${show(root)}`);
  else if (isList(root)) {
    compareObject({ ...root, data: [] }, { object: "list", data: [], has_more: false, url: "" }, "list", "list");
    root.data.forEach((item, i) => compareItem(item, undefined, `list.data[${i}]`, "list.data[]"));
  } else compareTagged(root as JsonObject, tagOf(root) ?? "");
  return mismatches;
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** One line per mismatch, for an assertion message. */
export const formatMismatches = (mismatches: Mismatch[]) => mismatches.map((m) => `${m.path}: ${m.problem}`).join("\n");
