// The HTTP side of saving a tier, shared by /admin/tiers/new and /admin/tiers/:key: parse with the
// form's zod schema, ask the service, answer with field errors (400) or a redirect to the saved tier.
import { parseWithZod } from "@conform-to/zod/v4";
import { json, redirect } from "@remix-run/node";
import { saveTier } from "~/billing/tier-admin.server.ts";
import { TierFormSchema } from "~/billing/tier-form.ts";
import type { User } from "~/models/user.server.ts";

export async function saveTierFromForm(
  formData: FormData,
  user: Pick<User, "id" | "email">,
  existingKey: string | null,
) {
  const submission = parseWithZod(formData, { schema: TierFormSchema });
  if (submission.status !== "success") return json({ result: submission.reply() }, { status: 400 });
  const outcome = await saveTier({ id: user.id, email: user.email }, existingKey, submission.value);
  if (!outcome.ok) {
    const status = outcome.notFound ? 404 : outcome.formError ? 409 : 400;
    const reply = submission.reply({
      fieldErrors: outcome.fieldErrors,
      formErrors: outcome.formError ? [outcome.formError] : [],
    });
    return json({ result: reply }, { status });
  }
  return redirect(`/admin/tiers/${encodeURIComponent(outcome.key)}?saved=${outcome.changed ? "1" : "0"}`);
}
