/**
 * `/_emulator/*`: JSON control endpoints for tests and demos (no auth). They
 * mirror the methods of the StripeEmulator handle so a Playwright test, a
 * separate process or curl can do what an in-process vitest test does.
 */
import type { StripeEmulator } from './emulator.ts';
import { StripeApiError } from './errors.ts';
import { Router, type PathParams } from './http.ts';

export type ControlHandler = (
  emulator: StripeEmulator,
  body: Record<string, unknown>,
  path: PathParams,
  query: URLSearchParams,
) => Promise<object> | object;

/** A 400 for malformed control requests; the envelope matches the API's for consistency. */
export class ControlError extends StripeApiError {
  constructor(message: string, statusCode = 400) {
    super(statusCode, { type: 'invalid_request_error', message });
  }
}

export function buildControlRouter(): Router<ControlHandler> {
  const router = new Router<ControlHandler>();

  router.add('GET', '/_emulator/health', (emu) => ({
    ok: true,
    url: emu.url,
    webhook_url: emu.webhookUrl,
    auto_deliver: emu.autoDeliver,
    webhooks_held: emu.heldEventIds.length,
    counts: {
      customers: emu.state.customers.size,
      subscriptions: emu.state.subscriptions.size,
      checkout_sessions: emu.state.checkoutSessions.size,
      events: emu.state.events.length,
    },
  }));

  router.add('GET', '/_emulator/events', (emu, _body, _path, query) => {
    const type = query.get('type');
    const data = emu.events.filter((r) => !type || r.event.type === type);
    return { object: 'list', data };
  });

  router.add('GET', '/_emulator/events/:id', (emu, _body, { id }) => {
    const record = emu.state.getEvent(id);
    if (!record) throw new ControlError(`No such event: '${id}'`, 404);
    return record;
  });

  router.add('POST', '/_emulator/events', async (emu, body) => {
    const type = body.type;
    const object = body.object;
    if (typeof type !== 'string' || !type) throw new ControlError('`type` must be a non-empty string');
    const created = optionalInteger(body.created, 'created');
    const deliver = optionalBoolean(body.deliver, 'deliver');
    const previous = body.previous_attributes;
    if (previous !== undefined && !isPlainObject(previous)) throw new ControlError('`previous_attributes` must be an object');
    let target: object;
    if (typeof object === 'string') {
      // An id snapshots the emulator's current copy of that object.
      const found = emu.state.findById(object);
      if (!found) throw new ControlError(`No such object: '${object}'`, 404);
      target = found;
    } else if (isPlainObject(object)) {
      target = object;
    } else {
      throw new ControlError('`object` must be an object or the id of a stored object');
    }
    const event = await emu.createEvent(type, target, { created, deliver, previousAttributes: previous });
    return emu.state.getEvent(event.id)!;
  });

  router.add('POST', '/_emulator/events/:id/deliver', async (emu, body, { id }) => {
    const times = optionalInteger(body.times, 'times');
    const concurrent = optionalBoolean(body.concurrent, 'concurrent');
    return { deliveries: await emu.deliver(id, { times, concurrent }) };
  });

  router.add('POST', '/_emulator/deliver', async (emu, body) => {
    const ids = body.event_ids;
    if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) {
      throw new ControlError('`event_ids` must be an array of event ids');
    }
    return { deliveries: await emu.deliverInOrder(ids as string[]) };
  });

  router.add('POST', '/_emulator/subscriptions/:id/fail_payment', (emu, _body, { id }) => emu.failPayment(id));
  router.add('POST', '/_emulator/subscriptions/:id/renew', (emu, _body, { id }) => emu.renewSubscription(id));

  router.add('POST', '/_emulator/checkout/sessions/:id/complete', (emu, body, { id }) => {
    if (body.email !== undefined && typeof body.email !== 'string') throw new ControlError('`email` must be a string');
    return emu.completeCheckout(id, { email: body.email as string | undefined });
  });

  router.add('POST', '/_emulator/webhooks/hold', (emu) => {
    emu.holdWebhooks();
    return { held: true };
  });

  router.add('POST', '/_emulator/webhooks/release', async (emu, body) => {
    const order = body.order ?? 'created';
    if (order !== 'created' && order !== 'reverse') throw new ControlError("`order` must be 'created' or 'reverse'");
    return { deliveries: await emu.releaseWebhooks({ order }) };
  });

  router.add('POST', '/_emulator/reset', (emu) => {
    emu.reset();
    return { ok: true };
  });

  router.add('POST', '/_emulator/config', (emu, body) => {
    if ('webhookUrl' in body) {
      const url = body.webhookUrl;
      if (url !== null && typeof url !== 'string') throw new ControlError('`webhookUrl` must be a URL string or null');
      emu.setWebhookUrl(url || null);
    }
    const autoDeliver = optionalBoolean(body.autoDeliver, 'autoDeliver');
    if (autoDeliver !== undefined) emu.autoDeliver = autoDeliver;
    return { webhookUrl: emu.webhookUrl, autoDeliver: emu.autoDeliver };
  });

  return router;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalInteger(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new ControlError(`\`${name}\` must be an integer`);
  return value;
}

function optionalBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ControlError(`\`${name}\` must be a boolean`);
  return value;
}
