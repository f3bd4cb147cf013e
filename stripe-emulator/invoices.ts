// Invoices: issued for a subscription's first payment, renewals and interval changes, and paid or left
// open. They only travel inside `invoice.*` events (there is no `/v1/invoices`).
import type { Account } from "./account.ts";
import { list, newId, snapshot } from "./objects.ts";
import type { Invoice, InvoiceLine, Subscription } from "./types.ts";

/** The emulated Stripe account, as invoices name it (the catalogue sells in GBP). */
const ACCOUNT = { country: "GB", name: "Tierdesk (Stripe emulator)" };

/** An invoice as `invoice.created` shows it: a draft, not yet numbered, finalized or attempted. */
export function draftOf(invoice: Invoice): Invoice {
  const draft = snapshot(invoice);
  return Object.assign(draft, {
    status: "draft",
    number: null,
    attempted: false,
    attempt_count: 0,
    next_payment_attempt: null,
    status_transitions: { ...draft.status_transitions, finalized_at: null },
  } satisfies Partial<Invoice>);
}

export class Invoices {
  private readonly byId = new Map<string, Invoice>();

  constructor(private readonly account: Account) {}

  get(id: string): Invoice | undefined {
    return this.byId.get(id);
  }

  /** Marks an open invoice paid now (its payment succeeded). */
  pay(invoice: Invoice): void {
    Object.assign(invoice, {
      status: "paid",
      amount_paid: invoice.amount_due,
      amount_remaining: 0,
      next_payment_attempt: null,
    } satisfies Partial<Invoice>);
    invoice.status_transitions.paid_at = this.account.now();
  }

  /**
   * The invoice-level period is Stripe's: the period that just ended for renewals, a zero-length
   * one at creation for the first invoice. Lines carry the billed item periods.
   */
  issue(
    sub: Subscription,
    reason: "subscription_create" | "subscription_cycle" | "subscription_update",
    paid: boolean,
    period: { start: number; end: number },
  ): Invoice {
    const customer = this.account.customers.of(sub);
    const id = newId("in");
    const now = this.account.now();
    const lines = sub.items.data.map((item): InvoiceLine => {
      const quantity = item.quantity ?? 1;
      const amount = (item.price.unit_amount ?? 0) * quantity;
      return {
        id: newId("il"),
        object: "line_item",
        amount,
        currency: item.price.currency,
        description: `${quantity} × ${this.account.catalog.products.get(item.price.product)?.name ?? item.price.product}`,
        discount_amounts: [],
        discountable: true,
        discounts: [],
        invoice: id,
        livemode: false,
        metadata: {},
        parent: {
          invoice_item_details: null,
          subscription_item_details: {
            invoice_item: null,
            proration: false,
            proration_details: { credited_items: null },
            subscription: sub.id,
            subscription_item: item.id,
          },
          type: "subscription_item_details",
        },
        period: { end: item.current_period_end, start: item.current_period_start },
        pretax_credit_amounts: [],
        pricing: {
          price_details: { price: item.price.id, product: item.price.product },
          type: "price_details",
          unit_amount_decimal: item.price.unit_amount_decimal,
        },
        quantity,
        quantity_decimal: String(quantity),
        subscription: sub.id,
        subtotal: amount,
        taxes: [],
      };
    });
    const total = lines.reduce((sum, line) => sum + line.amount, 0);
    const invoice: Invoice = {
      id,
      object: "invoice",
      account_country: ACCOUNT.country,
      account_name: ACCOUNT.name,
      account_tax_ids: null,
      amount_due: total,
      amount_overpaid: 0,
      amount_paid: paid ? total : 0,
      amount_remaining: paid ? 0 : total,
      amount_shipping: 0,
      application: null,
      attempt_count: 1,
      attempted: true,
      // Stripe keeps retrying an unpaid automatic invoice; a paid one has nothing left to advance.
      auto_advance: !paid,
      automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
      automatically_finalizes_at: null,
      billing_reason: reason,
      collection_method: "charge_automatically",
      created: now,
      currency: sub.currency,
      custom_fields: null,
      customer: customer.id,
      customer_account: null,
      customer_address: customer.address ?? null,
      customer_email: customer.email,
      customer_name: customer.name ?? null,
      customer_phone: customer.phone ?? null,
      customer_shipping: customer.shipping,
      customer_tax_exempt: customer.tax_exempt ?? "none",
      customer_tax_ids: [],
      default_payment_method: null,
      default_source: null,
      default_tax_rates: [],
      description: null,
      discounts: [],
      due_date: null, // only `send_invoice` invoices have one
      effective_at: now,
      ending_balance: 0,
      footer: null,
      from_invoice: null,
      // The emulator serves no hosted invoice page or PDF, so it links to none.
      hosted_invoice_url: null,
      invoice_pdf: null,
      issuer: { type: "self" },
      last_finalization_error: null,
      latest_revision: null,
      lines: list(lines, `/v1/invoices/${id}/lines`),
      livemode: false,
      metadata: {},
      next_payment_attempt: paid ? null : now + 3 * 86_400,
      number: `${customer.invoice_prefix}-${String(customer.next_invoice_sequence ?? 1).padStart(4, "0")}`,
      on_behalf_of: null,
      parent: {
        quote_details: null,
        subscription_details: { metadata: { ...sub.metadata }, subscription: sub.id },
        type: "subscription_details",
      },
      payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
      period_end: period.end,
      period_start: period.start,
      post_payment_credit_notes_amount: 0,
      pre_payment_credit_notes_amount: 0,
      receipt_number: null,
      rendering: { amount_tax_display: null, pdf: { page_size: "auto" }, template: null, template_version: null },
      shipping_cost: null,
      shipping_details: null,
      starting_balance: 0,
      statement_descriptor: null,
      status: paid ? "paid" : "open",
      status_transitions: {
        finalized_at: now,
        marked_uncollectible_at: null,
        paid_at: paid ? now : null,
        voided_at: null,
      },
      subtotal: total,
      subtotal_excluding_tax: total,
      test_clock: null,
      total,
      total_discount_amounts: [],
      total_excluding_tax: total,
      total_pretax_credit_amounts: [],
      total_taxes: [],
      webhooks_delivered_at: now,
    };
    customer.next_invoice_sequence = (customer.next_invoice_sequence ?? 1) + 1;
    this.byId.set(id, invoice);
    sub.latest_invoice = id;
    return invoice;
  }

  /** What a state file keeps. */
  all(): Invoice[] {
    return [...this.byId.values()];
  }

  restore(invoices: Invoice[]): void {
    for (const invoice of invoices) this.byId.set(invoice.id, invoice);
  }

  clear(): void {
    this.byId.clear();
  }
}
