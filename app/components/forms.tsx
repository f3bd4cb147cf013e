import type { ReactNode } from "react";

/**
 * One message per field: the first problem is the one to fix first ("Email is required.", not also
 * "Enter a valid email address."). For actions answering `fieldErrors`.
 */
export function firstErrorPerField(fieldErrors: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(fieldErrors).flatMap(([field, messages]) => (messages[0] ? [[field, [messages[0]]]] : [])),
  );
}

/** A field's error: its first message only. */
export function FieldError({ id, errors }: { id: string; errors?: string[] | null }) {
  const message = errors?.[0];
  if (!message) return null;
  return (
    <p id={id} className="field-errors" role="alert">
      {message}
    </p>
  );
}

export function Field({
  label,
  name,
  type = "text",
  defaultValue,
  errors,
  autoComplete,
  required,
  hint,
}: {
  label: string;
  name: string;
  type?: string;
  defaultValue?: string;
  errors?: string[] | null;
  autoComplete?: string;
  required?: boolean;
  hint?: ReactNode;
}) {
  const errorId = `${name}-error`;
  return (
    <div className="field">
      <label htmlFor={name}>{label}</label>
      <input
        id={name}
        name={name}
        type={type}
        defaultValue={defaultValue}
        autoComplete={autoComplete}
        required={required}
        aria-invalid={errors?.length ? true : undefined}
        aria-describedby={errors?.length ? errorId : undefined}
      />
      {hint ? <p className="hint">{hint}</p> : null}
      <FieldError id={errorId} errors={errors} />
    </div>
  );
}
