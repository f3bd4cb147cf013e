// The tier page's "Prices in Stripe": each product's prices (current, legacy, archived) with their
// live subscriptions, and per lookup key "Change price" (admins): the form, then its confirmation
// (before → after, subscribers on each), whose hidden nonce makes a double click one price.
import { getFormProps, getInputProps, getSelectProps, type SubmissionResult, useForm } from "@conform-to/react";
import { getZodConstraint, parseWithZod } from "@conform-to/zod/v4";
import { Form, Link, useNavigation } from "@remix-run/react";
import { FieldError } from "~/components/forms.tsx";
import { PRICE_INTERVALS, type RepriceFormValues, RepriceFormSchema } from "~/forms/reprice-form.ts";
import type { PriceView, TierPricesView } from "~/services/tiers/price-changes.server.ts";

type Preview = {
  lookupKey: string;
  before: { amount: string; interval: string; currency: string; liveSubscriptions: number | null };
  after: { amount: string; interval: string; currency: string; liveSubscriptions: number | null };
  legacySubscriptions: number | null;
};

const roleLabel = { current: "current", legacy: "legacy", other: "another key's" } as const;

function subscribers(count: number | null) {
  return count === null ? <span className="hint">counting…</span> : String(count);
}

function PriceRow({ price }: { price: PriceView }) {
  return (
    <tr data-price={price.id} data-role={price.role}>
      <td data-label="Price">
        <code>{price.id}</code>
      </td>
      <td data-label="Lookup key">{price.lookupKey ?? <span className="hint">none</span>}</td>
      <td data-label="Kind">
        {roleLabel[price.role]}
        {price.active ? "" : " (archived)"}
      </td>
      <td data-label="Amount">{price.amount}</td>
      <td data-label="Every">{price.interval}</td>
      <td data-label="Currency">{price.currency}</td>
      <td data-label="Live subscriptions" data-testid="price-subscribers">
        {subscribers(price.liveSubscriptions)}
      </td>
    </tr>
  );
}

export function PricesSection({
  tierKey,
  prices,
  canEdit,
  repriced,
}: {
  tierKey: string;
  prices: TierPricesView;
  canEdit: boolean;
  repriced: string | null;
}) {
  return (
    <section className="panel" aria-labelledby="stripe-prices" data-testid="stripe-prices">
      <h2 id="stripe-prices">Prices in Stripe</h2>
      {repriced ? (
        <p className="notice" role="status">
          New price created for <strong>{repriced}</strong>: new customers pay it from now on. Existing subscribers keep
          their price until they are moved.
        </p>
      ) : null}
      {prices.error ? (
        <p className="form-error" role="alert">
          Could not read the prices from Stripe: {prices.error}.
        </p>
      ) : null}
      {prices.counts.error ? (
        <p className="form-error" role="alert">
          Could not count subscriptions in Stripe: {prices.counts.error}.
        </p>
      ) : prices.counts.pending ? (
        <p className="hint">Stripe is still counting subscriptions: reload in a moment.</p>
      ) : null}
      {prices.products.map((product) => (
        <div className="table-scroll" key={product.id}>
          <table className="prices-table">
            <caption>
              Product <code>{product.id}</code>
            </caption>
            <thead>
              <tr>
                <th scope="col">Price</th>
                <th scope="col">Lookup key</th>
                <th scope="col">Kind</th>
                <th scope="col">Amount</th>
                <th scope="col">Every</th>
                <th scope="col">Currency</th>
                <th scope="col">Live subscriptions</th>
              </tr>
            </thead>
            <tbody>
              {product.prices.map((price) => (
                <PriceRow key={price.id} price={price} />
              ))}
            </tbody>
          </table>
        </div>
      ))}
      {prices.keys.length ? (
        <ul className="key-list" data-testid="price-keys">
          {prices.keys.map((key) => (
            <li key={key.lookupKey} data-lookup-key={key.lookupKey}>
              <strong>{key.lookupKey}</strong>:{" "}
              {key.current ? `${key.current.amount} every ${key.current.interval}` : "no price in Stripe"}
              {key.legacySubscriptions ? (
                <>
                  {` · ${key.legacySubscriptions} on legacy prices `}
                  <Link to={`/admin/tiers/${encodeURIComponent(tierKey)}?move=${encodeURIComponent(key.lookupKey)}`}>
                    Move them…
                  </Link>
                </>
              ) : null}
              {canEdit && key.current ? (
                <>
                  {" "}
                  <Link to={`/admin/tiers/${encodeURIComponent(tierKey)}?reprice=${encodeURIComponent(key.lookupKey)}`}>
                    Change price…
                  </Link>
                </>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      {prices.counts.countedAt ? (
        <p className="hint">
          Live subscriptions (active, trialing, past due) counted at{" "}
          <time dateTime={prices.counts.countedAt}>{prices.counts.countedAt.slice(11, 16)} UTC</time>
          {prices.counts.complete ? "" : "; the account has more subscriptions than one count reads"}.
        </p>
      ) : null}
    </section>
  );
}

export function RepriceForm({
  tierKey,
  lookupKey,
  nonce,
  current,
  lastResult,
}: {
  tierKey: string;
  lookupKey: string;
  nonce: string;
  current: PriceView | null;
  lastResult: SubmissionResult<string[]> | null | undefined;
}) {
  const [form, fields] = useForm({
    id: `reprice-${lookupKey}`,
    lastResult,
    defaultValue: {
      lookupKey,
      amount: "",
      interval: current?.recurring.interval ?? "month",
      intervalCount: String(current?.recurring.intervalCount ?? 1),
      currency: current?.currency ?? "GBP",
      nonce,
    },
    constraint: getZodConstraint(RepriceFormSchema),
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseWithZod(formData, { schema: RepriceFormSchema }),
  });
  return (
    <section className="panel" aria-labelledby="reprice-heading" data-testid="reprice-form">
      <h2 id="reprice-heading">Change the price of {lookupKey}</h2>
      <p className="hint">
        Now {current ? `${current.amount} every ${current.interval}` : "unknown"}. A new price is created in Stripe and
        takes the lookup key; existing subscribers stay on their price until you move them.
      </p>
      {form.errors?.length ? (
        <p className="form-error" role="alert">
          {form.errors.join(" ")}
        </p>
      ) : null}
      <Form method="post" {...getFormProps(form)} className="inline-form">
        <input type="hidden" name="intent" value="reprice-preview" />
        <input {...getInputProps(fields.lookupKey, { type: "hidden" })} key={fields.lookupKey.key} />
        <input {...getInputProps(fields.nonce, { type: "hidden" })} key={fields.nonce.key} />
        <div className="field">
          <label htmlFor={fields.amount.id}>New amount</label>
          <input
            {...getInputProps(fields.amount, { type: "text" })}
            key={fields.amount.key}
            inputMode="decimal"
            placeholder="35.00"
          />
          <FieldError id={fields.amount.errorId} errors={fields.amount.errors} />
        </div>
        <div className="field">
          <label htmlFor={fields.currency.id}>Currency</label>
          <input {...getInputProps(fields.currency, { type: "text" })} key={fields.currency.key} />
          <FieldError id={fields.currency.errorId} errors={fields.currency.errors} />
        </div>
        <div className="field">
          <label htmlFor={fields.intervalCount.id}>Every</label>
          <input {...getInputProps(fields.intervalCount, { type: "number" })} key={fields.intervalCount.key} />
          <FieldError id={fields.intervalCount.errorId} errors={fields.intervalCount.errors} />
        </div>
        <div className="field">
          <label htmlFor={fields.interval.id}>Interval</label>
          <select {...getSelectProps(fields.interval)} key={fields.interval.key}>
            {PRICE_INTERVALS.map((interval) => (
              <option key={interval} value={interval}>
                {interval}
              </option>
            ))}
          </select>
          <FieldError id={fields.interval.errorId} errors={fields.interval.errors} />
        </div>
        <div className="actions">
          <button type="submit">Review change</button>
          <Link className="button secondary" to={`/admin/tiers/${encodeURIComponent(tierKey)}`}>
            Cancel
          </Link>
        </div>
      </Form>
    </section>
  );
}

export function RepriceConfirmation({
  tierKey,
  preview,
  values,
}: {
  tierKey: string;
  preview: Preview;
  values: RepriceFormValues;
}) {
  const navigation = useNavigation();
  const busy = navigation.state === "submitting" && navigation.formData?.get("intent") === "reprice-confirm";
  return (
    <section className="panel" aria-labelledby="reprice-confirm" data-testid="reprice-confirmation">
      <h2 id="reprice-confirm">Confirm the new price of {preview.lookupKey}</h2>
      <dl className="facts">
        <dt>Before</dt>
        <dd data-testid="reprice-before">
          {preview.before.amount} every {preview.before.interval} ({preview.before.currency}),{" "}
          {subscribers(preview.before.liveSubscriptions)} live subscriptions
        </dd>
        <dt>After</dt>
        <dd data-testid="reprice-after">
          {preview.after.amount} every {preview.after.interval} ({preview.after.currency}),{" "}
          {subscribers(preview.after.liveSubscriptions)} live subscriptions
        </dd>
      </dl>
      <p>
        New customers pay the new price. The {subscribers(preview.before.liveSubscriptions)} subscriptions on the
        current price (and {subscribers(preview.legacySubscriptions)} on older ones) keep theirs until you move them.
      </p>
      <Form method="post" className="confirm">
        <input type="hidden" name="intent" value="reprice-confirm" />
        {Object.entries(values).map(([name, value]) => (
          <input key={name} type="hidden" name={name} value={String(value)} />
        ))}
        <div className="actions">
          <button type="submit" disabled={busy}>
            Create the new price
          </button>
          <Link className="button secondary" to={`/admin/tiers/${encodeURIComponent(tierKey)}`}>
            Keep the current price
          </Link>
        </div>
      </Form>
    </section>
  );
}

type MovePreview =
  | { ok: false; message: string }
  | {
      ok: true;
      lookupKey: string;
      target: { id: string; amount: string; interval: string };
      count: number;
      complete: boolean;
      first: {
        subscriptionId: string;
        customerId: string | null;
        account: { id: number; name: string } | null;
        status: string;
        price: { id: string; amount: string; interval: string };
      }[];
    };

type MoveRun = { id: number; lookupKey: string; status: string; total: number; moved: number; createdAt: string };

/** "Move legacy subscribers": the preview (how many, the first few) and the start button (admins). */
export function MoveSection({
  tierKey,
  preview,
  moves,
  canEdit,
  error,
}: {
  tierKey: string;
  preview: MovePreview | null;
  moves: MoveRun[];
  canEdit: boolean;
  error: string | null;
}) {
  const tierUrl = `/admin/tiers/${encodeURIComponent(tierKey)}`;
  if (!preview && !moves.length && !error) return null;
  return (
    <section className="panel" aria-labelledby="move-legacy" data-testid="move-legacy">
      <h2 id="move-legacy">Legacy subscribers</h2>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      {preview && !preview.ok ? (
        <p className="form-error" role="alert">
          {preview.message}
        </p>
      ) : null}
      {preview?.ok ? (
        <>
          <p data-testid="move-preview-count">
            {preview.count}
            {preview.complete ? "" : "+"} live subscription{preview.count === 1 ? "" : "s"} on legacy prices of{" "}
            <strong>{preview.lookupKey}</strong> would move to {preview.target.amount} every {preview.target.interval}{" "}
            from their next renewal (no proration).
          </p>
          {preview.first.length ? (
            <div className="table-scroll">
              <table>
                <caption>First of them</caption>
                <thead>
                  <tr>
                    <th scope="col">Subscription</th>
                    <th scope="col">Account</th>
                    <th scope="col">Status</th>
                    <th scope="col">Legacy price</th>
                  </tr>
                </thead>
                <tbody>
                  {preview.first.map((row) => (
                    <tr key={row.subscriptionId}>
                      <td data-label="Subscription">
                        <code>{row.subscriptionId}</code>
                      </td>
                      <td data-label="Account">
                        {row.account ? (
                          <Link to={`/admin/accounts/${row.account.id}`}>{row.account.name}</Link>
                        ) : (
                          <code>{row.customerId ?? "—"}</code>
                        )}
                      </td>
                      <td data-label="Status">{row.status}</td>
                      <td data-label="Legacy price">
                        {row.price.amount} every {row.price.interval}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          {canEdit && preview.count > 0 ? (
            <Form method="post" className="confirm">
              <input type="hidden" name="intent" value="move-start" />
              <input type="hidden" name="lookupKey" value={preview.lookupKey} />
              <div className="actions">
                <button type="submit">Move {preview.count} subscribers</button>
                <Link className="button secondary" to={tierUrl}>
                  Not now
                </Link>
              </div>
            </Form>
          ) : null}
        </>
      ) : null}
      {moves.length ? (
        <ul data-testid="price-moves">
          {moves.map((move) => (
            <li key={move.id}>
              <Link to={`${tierUrl}/price-moves/${move.id}`}>
                #{move.id} {move.lookupKey}: {move.status}, {move.moved} of {move.total} moved
              </Link>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
