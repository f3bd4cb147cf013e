// The HTTP side of saving a tier, shared by /admin/tiers/new and /admin/tiers/:key: parse with the
// form's zod schema, ask the service, answer with field errors (400) or a redirect to the saved tier.
import { parseWithZod } from "@conform-to/zod/v4";
import { json, redirect } from "@remix-run/node";
import { saveTier } from "~/services/tiers/tier-admin.server.ts";
import { TIER_FIELD_MAX, TierFormSchema } from "~/forms/tier-form.ts";
import type { User } from "~/models/user.server.ts";
import { boundedReply } from "~/utils/forms.ts";
import { readForm } from "~/utils/http.server.ts";

/** The tier form as posted: its typed fields may hold anything (the schema answers at the field). */
export function readTierForm(request: Request) {
  return readForm(request, { freeText: Object.keys(TIER_FIELD_MAX) });
}

export async function saveTierFromForm(
  formData: FormData,
  user: Pick<User, "id" | "email">,
  existingKey: string | null,
) {
  const submission = parseWithZod(formData, { schema: TierFormSchema });
  if (submission.status !== "success") {
    return json({ result: boundedReply(submission.reply(), TIER_FIELD_MAX) }, { status: 400 });
  }
  const outcome = await saveTier({ id: user.id, email: user.email }, existingKey, submission.value);
  if (!outcome.ok) {
    const status = outcome.notFound ? 404 : outcome.formError ? 409 : 400;
    const reply = boundedReply(
      submission.reply({
        fieldErrors: outcome.fieldErrors,
        formErrors: outcome.formError ? [outcome.formError] : [],
      }),
      TIER_FIELD_MAX,
    );
    return json({ result: reply }, { status });
  }
  return redirect(`/admin/tiers/${encodeURIComponent(outcome.key)}?saved=${outcome.changed ? "1" : "0"}`);
}
