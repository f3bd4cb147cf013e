// The comparer behind the Stripe contract test: it must catch what a wrong double would send.
import { describe, expect, it } from "vitest";
import { compareWithFixtures, type Fixtures } from "../stripe-shape.ts";

const price = {
  id: "price_1Pgaf",
  object: "price",
  active: true,
  currency: "usd",
  lookup_key: null,
  metadata: {},
  product: "prod_QXg1",
  recurring: { interval: "month", interval_count: 1 },
  transform_quantity: { divide_by: 2, round: "down" },
  unit_amount: 2000,
};
const item = { id: "si_QXh", object: "subscription_item", price, quantity: 1 };
const fixtures: Fixtures = {
  price,
  product: { id: "prod_QXg1", object: "product", name: "T-shirt", images: [] },
  subscription_item: item,
  subscription: {
    id: "sub_1Pgc",
    object: "subscription",
    customer: "cus_QXg1",
    cancel_at: 1234567890,
    items: { object: "list", data: [item], has_more: false, url: "/v1/subscription_items" },
    transfer_data: { destination: { id: "acct_1", object: "account" } },
  },
  account: { id: "acct_1", object: "account" },
  customer: { id: "cus_QXg1", object: "customer", email: null },
  deleted_customer: { id: "cus_QXg1", object: "customer", deleted: true },
  event: { id: "evt_1", object: "event", data: { object: { id: "plan_1", object: "plan" } }, type: "plan.created" },
};

const clone = <T>(value: T): T => structuredClone(value);
/** A subscription exactly like the fixture, with two items, to break in one place per test. */
function subscription() {
  const sub = clone(fixtures.subscription) as typeof fixtures.subscription & {
    items: { data: Array<typeof item> };
  } & Record<string, unknown>;
  sub.items.data.push({ ...clone(item), id: "si_second" });
  return sub;
}
const compare = (value: unknown, rules = {}) => compareWithFixtures(value, fixtures, rules);
const paths = (value: unknown, rules = {}) =>
  compare(value, rules)
    .map((m) => m.path)
    .sort();

describe("compareWithFixtures", () => {
  it("accepts an object shaped like its fixture", () => {
    expect(compare(subscription())).toEqual([]);
  });

  it("catches a missing key, an extra key and a wrong type, all at once, each with its path", () => {
    const sub = subscription();
    delete sub.cancel_at;
    sub.invented = true;
    sub.customer = 42;
    expect(compare(sub)).toEqual([
      { path: "subscription.cancel_at", rule: "subscription.cancel_at", problem: "missing: Stripe sends it" },
      { path: "subscription.customer", rule: "subscription.customer", problem: expect.stringMatching(/not number/) },
      { path: "subscription.invented", rule: "subscription.invented", problem: "extra: Stripe does not send it" },
    ]);
  });

  it("compares every item of a list, not only the first, against the item's own type", () => {
    const sub = subscription();
    const second = sub.items.data[1]!;
    (second.price.recurring as Record<string, unknown>).interval = 1;
    delete (second.price as Partial<typeof price>).unit_amount;
    expect(paths(sub)).toEqual([
      "subscription.items.data[1].price.recurring.interval",
      "subscription.items.data[1].price.unit_amount",
    ]);
  });

  it("compares every item of a plain array, and the id prefix of tagged objects", () => {
    const product = { id: "prod_1", object: "product", name: "Pro", images: ["https://x/a.png", 7] };
    const withImages = { ...fixtures, product: { ...(fixtures.product as object), images: ["https://x/b.png"] } };
    expect(compareWithFixtures(product, withImages).map((m) => m.path)).toEqual(["product.images[1]"]);
    expect(paths({ ...clone(price), id: "plan_1" })).toEqual(["price.id"]);
  });

  it("treats a fixture null as nullable, and a filled-in fixture value as non-null unless the rules say so", () => {
    expect(paths({ id: "cus_1", object: "customer", email: "a@example.com" })).toEqual([]);
    const canceled = { ...subscription(), cancel_at: null };
    expect(paths(canceled)).toEqual(["subscription.cancel_at"]);
    expect(paths(canceled, { nullable: ["subscription.cancel_at"] })).toEqual([]);
  });

  it("accepts an expandable field as an id or the expanded object, which is compared in turn", () => {
    const expanded = { ...subscription(), customer: { id: "cus_1", object: "customer", email: null } };
    expect(paths(expanded)).toEqual([]);
    expect(paths({ ...subscription(), customer: { id: "cus_1", object: "customer" } })).toEqual([
      "subscription.customer.email",
    ]);
    expect(paths({ ...subscription(), transfer_data: { destination: "acct_1" } })).toEqual([]);
    const product = { ...clone(price), product: { id: "prod_1", object: "product", name: "Pro", images: [], x: 1 } };
    expect(paths(product)).toEqual(["price.product.x"]);
  });

  it("compares deleted objects with their deleted_ fixture", () => {
    expect(paths({ id: "cus_1", object: "customer", deleted: true })).toEqual([]);
    expect(paths({ id: "cus_1", object: "customer", deleted: true, email: null })).toEqual(["customer.email"]);
  });

  it("allows listed extra and missing keys, still comparing tagged objects inside extras", () => {
    const sub = { ...subscription(), newer: [clone(price), { ...clone(price), lookup_key: 5, unit_amount: "x" }] };
    delete (sub as Record<string, unknown>).cancel_at;
    const rules = { extraKeys: { "subscription.newer": "newer" }, missingKeys: { "subscription.cancel_at": "gone" } };
    expect(paths(sub, rules)).toEqual(["subscription.newer[1].unit_amount"]);
  });

  it("compares an event's object with its own type's fixture, and previous_attributes with that type", () => {
    const rules = {
      polymorphic: ["event.data.object"],
      extraKeys: { "event.data.previous_attributes": "on updates" },
      partialOf: { "event.data.previous_attributes": "object" },
    };
    const event = (object: unknown, previous: unknown) => ({
      ...clone(fixtures.event as object),
      data: { object, previous_attributes: previous },
    });
    expect(paths(event(subscription(), { cancel_at: 1 }), rules)).toEqual([]);
    const badSecond = subscription();
    badSecond.items.data[1]!.quantity = "1" as unknown as number;
    expect(paths(event(badSecond, { cancel_at: "soon", invented: 1 }), rules)).toEqual([
      "event.data.object.items.data[1].quantity",
      "event.data.previous_attributes.cancel_at",
      "event.data.previous_attributes.invented",
    ]);
    expect(paths(event({ id: "x_1", object: "no_such_type" }, {}), rules)).toEqual(["event.data.object"]);
  });

  it("wants string metadata values and a known object type", () => {
    expect(paths({ ...clone(price), metadata: { user_id: 7 } })).toEqual(["price.metadata.user_id"]);
    expect(paths({ id: "x", object: "nothing_like_it" })).toEqual(["nothing_like_it"]);
    expect(paths({ object: "list", data: [clone(price), { ...clone(price), active: "yes" }] })).toEqual([
      "list.data[1].active",
      "list.has_more",
      "list.url",
    ]);
  });

  it("checks what the fixture shows as null or [] against what Stripe's reference declares", () => {
    const declared: Record<string, string[]> = {
      "customer.email": ["string", "null"],
      "price.lookup_key": ["string", "null"],
      "product.images[]": ["string"],
      "subscription.extra": ["object"],
      "subscription.extra.note": ["string"],
    };
    const rules = {
      extraKeys: { "subscription.extra": "newer" },
      declared: (rule: string) => (declared[rule] ? { kinds: new Set(declared[rule]) } : undefined),
    };
    expect(paths({ id: "cus_1", object: "customer", email: "a@example.com" }, rules)).toEqual([]);
    expect(paths({ id: "cus_1", object: "customer", email: 7 }, rules)).toEqual(["customer.email"]);
    expect(paths({ id: "prod_1", object: "product", name: "Pro", images: ["a.png", 7] }, rules)).toEqual([
      "product.images[1]",
    ]);
    expect(paths({ ...subscription(), extra: { note: "x", invented: 1 } }, rules)).toEqual([
      "subscription.extra.invented",
    ]);
  });

  it("catches an object of the wrong type where the fixture shows another, in lists and expansions", () => {
    const sub = subscription();
    (sub.items.data as unknown[])[1] = clone(price);
    expect(paths(sub)).toEqual(["subscription.items.data[1]"]);
    const product = { ...clone(price), product: { id: "cus_1", object: "customer", email: null } };
    expect(paths(product)).toEqual(["price.product"]);
  });
});
