// The emulated Whop company, one resource a file: its catalogue (catalog.json's products and plans),
// memberships and their users, payments, checkout configurations and webhook events. Every state
// change returns the events it caused, oldest first; delivering them is emulator.ts's job. Resources
// reach each other through the account, which also keeps the company and its clock.
import catalog from "./catalog.json" with { type: "json" };
import { Catalog } from "./catalog.ts";
import { CheckoutConfigurations } from "./checkout.ts";
import { EventLog } from "./events.ts";
import { Memberships } from "./memberships.ts";
import { Payments } from "./payments.ts";

export class Account {
  readonly company = { id: catalog.company.id, title: catalog.company.title, route: catalog.company.route };
  readonly catalog = new Catalog(this);
  readonly memberships = new Memberships(this);
  readonly payments = new Payments(this);
  readonly checkoutConfigurations = new CheckoutConfigurations(this);
  readonly events = new EventLog(this);
  /** Milliseconds of the last `updated_at` handed out: each change is strictly later than the one before. */
  private lastStamp = 0;

  /** `publicUrl`: the emulator's URL, for purchase and manage links (known once it listens). */
  constructor(readonly publicUrl: () => string) {
    this.reset();
  }

  /** Forgets everything but the catalogue. */
  reset(): void {
    this.catalog.load();
    this.memberships.clear();
    this.payments.clear();
    this.checkoutConfigurations.clear();
    this.events.clear();
  }

  /** A strictly increasing ISO time, so a membership's `updated_at` orders its states. */
  stamp(): string {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return new Date(this.lastStamp).toISOString();
  }
}
