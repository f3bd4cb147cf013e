// The emulator's in-memory Stripe account, one resource a file: the catalogue (catalog.ts),
// customers, subscriptions, invoices, checkout and portal sessions, and the event log. Operations
// return the events they created; callers decide whether to wait for their delivery. Resources reach
// each other through the account, which also keeps the clock and the state a state file saves.
import { Catalog } from "./catalog.ts";
import { type CheckoutRecord, CheckoutSessions } from "./checkout.ts";
import { Customers } from "./customers.ts";
import { EventLog } from "./events.ts";
import { Invoices } from "./invoices.ts";
import { snapshot } from "./objects.ts";
import { PortalSessions } from "./portal.ts";
import { Subscriptions } from "./subscriptions.ts";
import type { Customer, EventRecord, Invoice, PortalSession, Price, Subscription } from "./types.ts";

/** Everything the account holds but the catalogue: what a state file keeps across restarts. */
export interface AccountState {
  customers: Customer[];
  deletedCustomers: string[];
  subscriptions: Subscription[];
  checkoutSessions: CheckoutRecord[];
  portalSessions: PortalSession[];
  completedPortalFlows: string[];
  invoices: Invoice[];
  events: EventRecord[];
  /** Prices created through the API and catalogue prices whose lookup key moved (absent in older files). */
  prices?: Price[];
}

/** Events kept in a state file: the newest ones, enough for support's replays, without growing forever. */
const SAVED_EVENTS = 1000;

export class Account {
  readonly catalog = new Catalog(this);
  readonly customers = new Customers(this);
  readonly subscriptions = new Subscriptions(this);
  readonly invoices = new Invoices(this);
  readonly checkoutSessions = new CheckoutSessions(this);
  readonly portalSessions = new PortalSessions(this);
  readonly events = new EventLog(this);
  /** While an operation dates its steps (a checkout's payment), the second it is at; else the wall clock. */
  private steppedClock: number | null = null;

  /** `onChange` is told after every change of state (the emulator saves its state file then). */
  constructor(
    /** How many endpoints an event is sent to (`pending_webhooks`). */
    readonly webhookEndpoints: () => number,
    private readonly onChange: () => void = () => {},
  ) {
    this.reset();
  }

  now(): number {
    return this.steppedClock ?? Math.floor(Date.now() / 1000);
  }

  /** Runs `step` with the clock at `second`: the objects it builds and the events it records are dated then. */
  at<T>(second: number, step: () => T): T {
    const previous = this.steppedClock;
    this.steppedClock = second;
    try {
      return step();
    } finally {
      this.steppedClock = previous;
    }
  }

  /** Resources call it after every change of state. */
  changed(): void {
    this.onChange();
  }

  /** The state to save: plain JSON, no aliasing of live objects. */
  state(): AccountState {
    return snapshot({
      ...this.customers.state(),
      subscriptions: this.subscriptions.all(),
      checkoutSessions: this.checkoutSessions.all(),
      ...this.portalSessions.state(),
      invoices: this.invoices.all(),
      events: this.events.newest(SAVED_EVENTS),
      prices: this.catalog.changed(),
    });
  }

  /** Replaces everything but the catalogue with a saved state. */
  restore(state: AccountState): void {
    this.clear();
    this.customers.restore(state);
    this.subscriptions.restore(state.subscriptions);
    this.checkoutSessions.restore(state.checkoutSessions);
    this.portalSessions.restore(state);
    this.invoices.restore(state.invoices);
    this.events.restore(state.events);
    this.catalog.restore(state.prices ?? []);
  }

  /** Forgets everything but catalog.json. */
  reset(): void {
    this.clear();
    this.catalog.load();
    this.onChange();
  }

  private clear(): void {
    for (const resource of [this.customers, this.subscriptions, this.checkoutSessions, this.portalSessions]) {
      resource.clear();
    }
    this.invoices.clear();
    this.events.clear();
  }

  /** Stored objects by id, for `expand[]`; a deleted customer expands to its stub. */
  findById(id: string): object | undefined {
    return (
      this.catalog.products.get(id) ??
      this.catalog.prices.get(id) ??
      this.customers.get(id) ??
      this.customers.deleted(id) ??
      this.subscriptions.get(id) ??
      this.invoices.get(id)
    );
  }
}
