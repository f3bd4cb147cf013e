// Buttons that POST to the billing resource routes. With JavaScript they fetch JSON and show errors
// on the page; without it the browser posts the form and follows the redirect.
import { Form, useNavigation } from "@remix-run/react";
import { useState, type FormEvent, type ReactNode } from "react";

export function useBillingRedirect() {
  const [error, setError] = useState<string | null>(null);
  // The 409 for a second checkout names the portal: the error then offers to open it.
  const [offersPortal, setOffersPortal] = useState(false);
  const [pending, setPending] = useState<string | null>(null);
  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const id = form.dataset.id ?? form.action;
    setPending(id);
    setError(null);
    setOffersPortal(false);
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form) as unknown as Record<string, string>),
        headers: { Accept: "application/json" },
      });
      const body = (await response.json().catch(() => ({}))) as { url?: string; error?: string; portal?: string };
      if (response.ok && body.url) {
        window.location.assign(body.url);
        return;
      }
      setError(body.error ?? `Something went wrong (HTTP ${response.status}). Please try again.`);
      setOffersPortal(Boolean(body.portal));
    } catch {
      setError("Could not reach Tierdesk. Check your connection and try again.");
    }
    setPending(null);
  }
  return { error, offersPortal, pending, onSubmit };
}

export function BillingForm({
  action,
  id,
  fields = {},
  onSubmit,
  pending,
  className,
  children,
}: {
  action: "/api/stripe/checkout" | "/api/stripe/portal";
  id: string;
  fields?: Record<string, string>;
  onSubmit: (event: FormEvent<HTMLFormElement>) => void;
  pending: boolean;
  className?: string;
  children: ReactNode;
}) {
  return (
    <form method="post" action={action} data-id={id} onSubmit={onSubmit}>
      {Object.entries(fields).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={value} />
      ))}
      <button type="submit" className={className} disabled={pending}>
        {pending ? "Redirecting…" : children}
      </button>
    </form>
  );
}

/** The last billing request's error, with a way into the customer portal when the answer pointed there. */
export function BillingErrorAlert({ billing }: { billing: ReturnType<typeof useBillingRedirect> }) {
  if (!billing.error) return null;
  return (
    <div className="form-error billing-error" role="alert">
      <p data-testid="billing-error">{billing.error}</p>
      {billing.offersPortal ? (
        <BillingForm
          action="/api/stripe/portal"
          id="error-portal"
          onSubmit={billing.onSubmit}
          pending={billing.pending === "error-portal"}
          className="secondary"
        >
          Open the customer portal
        </BillingForm>
      ) : null}
    </div>
  );
}

/**
 * "Resume subscription": undoes a cancellation at period end through /account's action, wherever
 * the customer meets it (/account, and /pricing, which refuses plan changes until then).
 */
export function ResumeSubscriptionForm() {
  const navigation = useNavigation();
  const busy = navigation.state === "submitting" && navigation.formData?.get("intent") === "resume";
  return (
    <Form method="post" action="/account">
      <input type="hidden" name="intent" value="resume" />
      <button type="submit" disabled={busy}>
        {busy ? "Resuming…" : "Resume subscription"}
      </button>
    </Form>
  );
}
