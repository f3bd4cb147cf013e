// The fields of a webhook endpoint (URL and events), for registering one and editing it.
import { getFormProps, getInputProps, type SubmissionResult, useForm } from "@conform-to/react";
import { getZodConstraint, parseWithZod } from "@conform-to/zod/v4";
import { Form } from "@remix-run/react";
import { formatDate } from "~/components/dates.tsx";
import { FieldError } from "~/components/forms.tsx";
import { WEBHOOK_EVENTS, WebhookEndpointFormSchema } from "~/forms/webhook-endpoint-form.ts";

export function WebhookEndpointForm({
  intent,
  submitLabel,
  defaultValue,
  lastResult,
}: {
  intent: "create" | "update";
  submitLabel: string;
  defaultValue?: { url: string; eventTypes: string[] };
  lastResult: SubmissionResult<string[]> | null | undefined;
}) {
  const [form, fields] = useForm({
    id: `webhook-${intent}`,
    lastResult,
    defaultValue: defaultValue ?? { url: "", eventTypes: WEBHOOK_EVENTS.map((event) => event.type) },
    constraint: getZodConstraint(WebhookEndpointFormSchema),
    shouldValidate: "onBlur",
    onValidate: ({ formData }) => parseWithZod(formData, { schema: WebhookEndpointFormSchema }),
  });
  const chosen = new Set(
    ([] as unknown[]).concat(fields.eventTypes.initialValue ?? []).filter((value) => typeof value === "string"),
  );
  return (
    <Form method="post" {...getFormProps(form)}>
      <input type="hidden" name="intent" value={intent} />
      {form.errors?.length ? (
        <p className="form-error" role="alert">
          {form.errors[0]}
        </p>
      ) : null}
      <div className="field">
        <label htmlFor={fields.url.id}>Endpoint URL</label>
        <input
          {...getInputProps(fields.url, { type: "url" })}
          placeholder="https://example.com/webhooks/tierdesk"
          aria-describedby={fields.url.errors ? fields.url.errorId : undefined}
        />
        <FieldError id={fields.url.errorId} errors={fields.url.errors} />
      </div>
      <fieldset className="field" aria-describedby={fields.eventTypes.errors ? fields.eventTypes.errorId : undefined}>
        <legend>Events</legend>
        {WEBHOOK_EVENTS.map((event) => (
          <label key={event.type} className="checkbox-row">
            <input
              type="checkbox"
              name={fields.eventTypes.name}
              value={event.type}
              defaultChecked={chosen.has(event.type)}
            />{" "}
            <code>{event.type}</code> <span className="hint">{event.hint}</span>
          </label>
        ))}
        <FieldError id={fields.eventTypes.errorId} errors={fields.eventTypes.errors} />
      </fieldset>
      <div className="actions">
        <button type="submit">{submitLabel}</button>
      </div>
    </Form>
  );
}

/** An endpoint's state in words: enabled, failing since when, or disabled (by hand or for failing). */
export function endpointState(endpoint: {
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
}) {
  if (!endpoint.enabled) return endpoint.disabledReason === "failing" ? "disabled: kept failing" : "disabled";
  return endpoint.failingSince ? `failing since ${formatDate(endpoint.failingSince)}` : "enabled";
}
