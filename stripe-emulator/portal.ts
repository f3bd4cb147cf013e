// Customer Portal sessions, and deep links (`flow_data`) that confirm one plan switch.
import type { Account } from "./account.ts";
import { invalid } from "./errors.ts";
import { newId } from "./objects.ts";
import type { PortalFlow, PortalSession, Price, Subscription, SubscriptionItem } from "./types.ts";

/** A portal deep link (`flow_data`) as the emulator supports it: confirming one plan switch. */
export interface PortalFlowInput {
  subscription: Subscription;
  item: SubscriptionItem;
  price: Price;
  quantity: number;
  afterCompletion: PortalFlow["after_completion"];
}

export class PortalSessions {
  private readonly byId = new Map<string, PortalSession>();
  /** Portal sessions whose flow (deep link) has been completed: their page is the portal homepage now. */
  private readonly completedFlows = new Set<string>();

  constructor(private readonly account: Account) {}

  get(id: string): PortalSession | undefined {
    return this.byId.get(id);
  }

  create(
    customer: string,
    returnUrl: string | null,
    hostedUrl: (id: string) => string,
    flowInput: PortalFlowInput | null = null,
  ): PortalSession {
    const id = newId("bps");
    const flow: PortalFlow | null = flowInput && {
      after_completion: flowInput.afterCompletion,
      customer_update: null,
      subscription_cancel: null,
      subscription_pause: null,
      subscription_update: null,
      subscription_update_confirm: {
        discounts: [],
        items: [{ id: flowInput.item.id, price: flowInput.price.id, quantity: flowInput.quantity }],
        subscription: flowInput.subscription.id,
      },
      type: "subscription_update_confirm",
    };
    const session: PortalSession = {
      id,
      object: "billing_portal.session",
      configuration: "bpc_emulator_default",
      created: this.account.now(),
      customer,
      customer_account: null,
      flow,
      livemode: false,
      locale: null,
      on_behalf_of: null,
      return_url: returnUrl,
      url: hostedUrl(id),
    };
    this.byId.set(id, session);
    this.account.changed();
    return session;
  }

  /** The plan switch a portal session's flow asks to confirm, while it has not been completed. */
  pendingFlow(portal: PortalSession) {
    const confirm = portal.flow?.subscription_update_confirm;
    const item = confirm?.items[0];
    if (!confirm || !item?.id || !item.price || this.completedFlows.has(portal.id)) return null;
    const subscription = this.account.subscriptions.get(confirm.subscription);
    const price = this.account.catalog.prices.get(item.price);
    if (!subscription || !price) return null;
    return { subscription, itemId: item.id, price, quantity: item.quantity ?? 1 };
  }

  /** Confirms a portal session's plan switch: the same update as the API's, once. */
  completeFlow(portalId: string) {
    const portal = this.byId.get(portalId);
    const flow = portal && this.pendingFlow(portal);
    if (!portal || !flow)
      throw invalid(undefined, "This plan change has already been confirmed or is no longer available.");
    const result = this.account.subscriptions.update(flow.subscription.id, {
      items: [{ id: flow.itemId, price: flow.price, quantity: flow.quantity }],
    });
    this.completedFlows.add(portal.id);
    this.account.changed();
    return result;
  }

  /** What a state file keeps. */
  state() {
    return { portalSessions: [...this.byId.values()], completedPortalFlows: [...this.completedFlows] };
  }

  restore(state: { portalSessions: PortalSession[]; completedPortalFlows: string[] }): void {
    for (const session of state.portalSessions) this.byId.set(session.id, session);
    for (const id of state.completedPortalFlows) this.completedFlows.add(id);
  }

  clear(): void {
    this.byId.clear();
    this.completedFlows.clear();
  }
}
