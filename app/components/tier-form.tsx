// The tier form (create and edit). conform + zod: the browser checks as the admin types, the
// server checks again (and what needs the database), and on any error the form comes back with
// everything the admin typed and a message at each field.
import {
  getCollectionProps,
  getFormProps,
  getInputProps,
  getSelectProps,
  getTextareaProps,
  type SubmissionResult,
  useForm,
} from "@conform-to/react";
import { getZodConstraint, parseWithZod } from "@conform-to/zod/v4";
import { Form, useNavigation } from "@remix-run/react";
import type { ReactNode } from "react";
import { BILLING_PROVIDER_OPTIONS, TierFormSchema } from "~/forms/tier-form.ts";
import { FieldError } from "./forms.tsx";

export type TierFormDefaults = {
  name: string;
  key: string;
  description: string;
  userLimit: string;
  isCustomerFacing: boolean;
  billingProvider: string;
  isBillingExempt: boolean;
  whopProductKey: string;
  fallbackPrice: string;
  lookupKeys: string;
  permissions: string[];
};

export const EMPTY_TIER: TierFormDefaults = {
  name: "",
  key: "",
  description: "",
  userLimit: "1",
  isCustomerFacing: true,
  billingProvider: "stripe",
  isBillingExempt: false,
  whopProductKey: "",
  fallbackPrice: "",
  lookupKeys: "",
  permissions: [],
};

function Row({ children, hidden = false }: { children: ReactNode; hidden?: boolean }) {
  return (
    <div className="field" hidden={hidden}>
      {children}
    </div>
  );
}

export function TierForm({
  defaults,
  lastResult,
  permissions,
  submitLabel,
  readOnly = false,
}: {
  defaults: TierFormDefaults;
  lastResult: SubmissionResult<string[]> | null | undefined;
  permissions: Array<{ name: string; description: string }>;
  submitLabel: string;
  readOnly?: boolean;
}) {
  const navigation = useNavigation();
  const [form, fields] = useForm({
    id: "tier-form",
    lastResult,
    defaultValue: {
      ...defaults,
      isCustomerFacing: defaults.isCustomerFacing ? "on" : undefined,
      isBillingExempt: defaults.isBillingExempt ? "on" : undefined,
    },
    constraint: getZodConstraint(TierFormSchema),
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseWithZod(formData, { schema: TierFormSchema }),
  });
  const describedBy = (errorId: string, errors: string[] | undefined, hintId?: string) =>
    [errors?.length ? errorId : null, hintId].filter(Boolean).join(" ") || undefined;
  const permissionOptions = permissions.map((permission) => permission.name);
  const busy = navigation.state === "submitting" && navigation.formData?.get("intent") === "save";
  // Each provider's own field shows only for it: the one typed (with JavaScript), else the one stored or
  // submitted. The other stays in the form, hidden, so switching back and forth loses nothing.
  const provider = fields.billingProvider.value ?? defaults.billingProvider;

  return (
    <Form method="post" {...getFormProps(form)} className="tier-form">
      <input type="hidden" name="intent" value="save" />
      {form.errors?.length ? (
        <p className="form-error" role="alert" id={form.errorId}>
          {form.errors.join(" ")}
        </p>
      ) : null}
      <fieldset disabled={readOnly}>
        <Row>
          <label htmlFor={fields.name.id}>Name</label>
          <input
            {...getInputProps(fields.name, { type: "text" })}
            key={fields.name.key}
            aria-describedby={describedBy(fields.name.errorId, fields.name.errors)}
          />
          <FieldError id={fields.name.errorId} errors={fields.name.errors} />
        </Row>
        <Row>
          <label htmlFor={fields.key.id}>Key</label>
          <input
            {...getInputProps(fields.key, { type: "text" })}
            key={fields.key.key}
            autoCapitalize="off"
            spellCheck={false}
            aria-describedby={describedBy(fields.key.errorId, fields.key.errors, "key-hint")}
          />
          <p className="hint" id="key-hint">
            A lowercase slug (up to 32 characters) that code and URLs use, e.g. <code>pro</code>.
          </p>
          <FieldError id={fields.key.errorId} errors={fields.key.errors} />
        </Row>
        <Row>
          <label htmlFor={fields.description.id}>Description</label>
          <textarea {...getTextareaProps(fields.description)} key={fields.description.key} rows={2} />
          <FieldError id={fields.description.errorId} errors={fields.description.errors} />
        </Row>
        <Row>
          <label htmlFor={fields.userLimit.id}>User limit</label>
          <input {...getInputProps(fields.userLimit, { type: "number" })} key={fields.userLimit.key} min={1} step={1} />
          <FieldError id={fields.userLimit.errorId} errors={fields.userLimit.errors} />
        </Row>
        <div className="field checkbox">
          <label htmlFor={fields.isCustomerFacing.id}>
            <input
              {...getInputProps(fields.isCustomerFacing, { type: "checkbox" })}
              key={fields.isCustomerFacing.key}
            />{" "}
            Customer-facing
          </label>
          <p className="hint">Shown on /pricing.</p>
        </div>
        <Row>
          <label htmlFor={fields.billingProvider.id}>Billing provider</label>
          <select {...getSelectProps(fields.billingProvider)} key={fields.billingProvider.key}>
            {BILLING_PROVIDER_OPTIONS.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
          <FieldError id={fields.billingProvider.errorId} errors={fields.billingProvider.errors} />
        </Row>
        <div className="field checkbox">
          <label htmlFor={fields.isBillingExempt.id}>
            <input {...getInputProps(fields.isBillingExempt, { type: "checkbox" })} key={fields.isBillingExempt.key} />{" "}
            Billing exempt
          </label>
          <p className="hint">Accounts on an exempt tier keep it without paying (e.g. partners).</p>
        </div>
        <Row hidden={provider !== "whop"}>
          <label htmlFor={fields.whopProductKey.id}>Whop product key</label>
          <input
            {...getInputProps(fields.whopProductKey, { type: "text" })}
            key={fields.whopProductKey.key}
            placeholder="prod_…"
          />
          <FieldError id={fields.whopProductKey.errorId} errors={fields.whopProductKey.errors} />
        </Row>
        <Row>
          <label htmlFor={fields.fallbackPrice.id}>Fallback price</label>
          <input
            {...getInputProps(fields.fallbackPrice, { type: "text" })}
            key={fields.fallbackPrice.key}
            aria-describedby="fallback-hint"
          />
          <p className="hint" id="fallback-hint">
            Shown on /pricing only while Stripe cannot be asked, marked as indicative.
          </p>
          <FieldError id={fields.fallbackPrice.errorId} errors={fields.fallbackPrice.errors} />
        </Row>
        <Row hidden={provider !== "stripe"}>
          <label htmlFor={fields.lookupKeys.id}>Lookup keys</label>
          <textarea
            {...getTextareaProps(fields.lookupKeys)}
            key={fields.lookupKeys.key}
            rows={4}
            spellCheck={false}
            aria-describedby={describedBy(fields.lookupKeys.errorId, fields.lookupKeys.errors, "lookup-keys-hint")}
          />
          <p className="hint" id="lookup-keys-hint">
            One Stripe price lookup key per line, in the order /pricing shows them. Stripe keeps the prices; Tierdesk
            keeps only these keys.
          </p>
          <FieldError id={fields.lookupKeys.errorId} errors={fields.lookupKeys.errors} />
        </Row>
        <fieldset
          className="field permissions"
          aria-describedby={fields.permissions.errors?.length ? fields.permissions.errorId : undefined}
        >
          <legend>Permissions</legend>
          {permissionOptions.length ? (
            getCollectionProps(fields.permissions, { type: "checkbox", options: permissionOptions }).map((props) => {
              const permission = permissions.find((candidate) => candidate.name === props.value);
              return (
                <div key={props.key} className="checkbox-row">
                  <input
                    {...props}
                    key={props.key}
                    aria-describedby={permission?.description ? `${props.id}-description` : undefined}
                  />{" "}
                  <label htmlFor={props.id}>{props.value}</label>
                  {permission?.description ? (
                    <span className="hint" id={`${props.id}-description`}>
                      {" "}
                      — {permission.description}
                    </span>
                  ) : null}
                </div>
              );
            })
          ) : (
            <p className="hint">No permissions yet: create them under Permissions.</p>
          )}
          <FieldError id={fields.permissions.errorId} errors={fields.permissions.errors} />
        </fieldset>
      </fieldset>
      {readOnly ? null : (
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
      )}
    </Form>
  );
}
