// What the `stripe` package's type declarations (generated from Stripe's OpenAPI spec, for
// `Stripe.API_VERSION`) say about a field, read with the TypeScript compiler: whether the object
// type has it, whether it is optional, and which JSON kinds its value may be. The contract test
// uses it where fixtures3.json, an older single example, cannot tell.
import path from "node:path";
import ts from "typescript";

/** Object tag → the SDK's type, for the objects the emulator serves. */
const SDK_TYPES: Record<string, string> = {
  "billing_portal.session": "Stripe.BillingPortal.Session",
  charge: "Stripe.Charge",
  "checkout.session": "Stripe.Checkout.Session",
  customer: "Stripe.Customer",
  deleted_customer: "Stripe.DeletedCustomer",
  event: "Stripe.Event",
  invoice: "Stripe.Invoice",
  invoice_payment: "Stripe.InvoicePayment",
  item: "Stripe.LineItem",
  line_item: "Stripe.InvoiceLineItem",
  payment_intent: "Stripe.PaymentIntent",
  plan: "Stripe.Plan",
  price: "Stripe.Price",
  product: "Stripe.Product",
  subscription: "Stripe.Subscription",
  subscription_item: "Stripe.SubscriptionItem",
};

export interface SdkField {
  optional: boolean;
  /** JSON kinds the value may have: string, number, boolean, null, object, array. */
  kinds: ReadonlySet<string>;
}

export interface SdkTypes {
  /** A field by the comparer's rule path (`subscription.items.data[].price`); undefined when the SDK has none. */
  field(rule: string): SdkField | undefined;
  /** Whether the SDK declares the object type (tag) at all. */
  knows(tag: string): boolean;
}

export function loadSdkTypes(): SdkTypes {
  const root = path.resolve(import.meta.dirname, "..");
  const stub = path.join(root, "tests", "__stripe_sdk_types__.ts");
  const entries = Object.entries(SDK_TYPES);
  const source = [
    'import type Stripe from "stripe";',
    ...entries.map(([, type], i) => `export type T${i} = ${type};`),
  ].join("\n");
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (file, language, ...rest) =>
    file === stub ? ts.createSourceFile(file, source, language) : getSourceFile.call(host, file, language, ...rest);
  host.fileExists = (file) => file === stub || fileExists.call(host, file);
  host.readFile = (file) => (file === stub ? source : readFile.call(host, file));
  const program = ts.createProgram([stub], options, host);
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(stub);
  const moduleSymbol = file && checker.getSymbolAtLocation(file);
  if (!moduleSymbol) throw new Error("could not read the stripe package's types");
  const exported = new Map(checker.getExportsOfModule(moduleSymbol).map((s) => [s.name, s]));
  const roots = new Map(
    entries.map(([tag], i) => {
      const symbol = exported.get(`T${i}`);
      return [tag, symbol && checker.getDeclaredTypeOfSymbol(symbol)];
    }),
  );

  const members = (type: ts.Type): ts.Type[] => (type.isUnion() ? type.types : [type]);
  const isNull = (type: ts.Type) => (type.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)) !== 0;
  const isString = (type: ts.Type) => (type.flags & ts.TypeFlags.StringLike) !== 0;
  const objectMembers = (type: ts.Type) =>
    members(type).filter((t) => !isNull(t) && (t.flags & ts.TypeFlags.Object) !== 0 && !checker.isArrayType(t));

  function kindsOf(type: ts.Type): Set<string> {
    const kinds = new Set<string>();
    for (const t of members(type)) {
      if (t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Void)) {
        if (t.flags & ts.TypeFlags.Null) kinds.add("null");
      }
      // Stripe's Decimal fields travel as strings (`unit_amount_decimal: "2000"`).
      else if (t.aliasSymbol?.name === "Decimal") kinds.add("string");
      // `OtherString` (`string & {}`) keeps enums open to values newer than the SDK.
      else if (t.flags & ts.TypeFlags.StringLike || (t.isIntersection() && t.types.some(isString))) {
        kinds.add("string");
      } else if (t.flags & ts.TypeFlags.NumberLike) kinds.add("number");
      else if (t.flags & ts.TypeFlags.BooleanLike) kinds.add("boolean");
      else if (checker.isArrayType(t)) kinds.add("array");
      else kinds.add("object");
    }
    return kinds;
  }

  function field(rule: string): SdkField | undefined {
    const tag = [...roots.keys()].filter((t) => rule.startsWith(`${t}.`)).sort((a, b) => b.length - a.length)[0];
    const start = tag ? roots.get(tag) : undefined;
    if (!tag || !start) return undefined;
    let type: ts.Type = start;
    let current: SdkField | undefined;
    for (const segment of rule.slice(tag.length + 1).split(".")) {
      const [key = "", ...brackets] = segment.split("[]");
      let found: ts.Symbol | undefined;
      for (const member of objectMembers(type)) {
        found = checker.getPropertyOfType(member, key);
        if (found) break;
      }
      if (!found) return undefined;
      type = checker.getTypeOfSymbol(found);
      current = { optional: (found.flags & ts.SymbolFlags.Optional) !== 0, kinds: kindsOf(type) };
      for (let i = 0; i < brackets.length; i++) {
        const array = members(type).find((t) => checker.isArrayType(t));
        const element = array && checker.getTypeArguments(array as ts.TypeReference)[0];
        if (!element) return undefined;
        type = element;
        current = { optional: false, kinds: kindsOf(type) };
      }
    }
    return current;
  }

  return { field, knows: (tag) => roots.get(tag) !== undefined };
}
