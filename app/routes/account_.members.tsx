// /account/members: who belongs to the account the session acts for (the header's switcher); a page of
// its own, not nested in /account's (hence account_). Owners invite people by email (a single-use link,
// 7 days), resend or revoke invitations, remove members and change who is an owner; members see the
// list and may leave. The last owner can neither leave nor be removed or made a member. Seats: members
// plus pending invitations, up to the plan's user limit.
import { getFormProps, getInputProps, type SubmissionResult, useForm } from "@conform-to/react";
import { getZodConstraint, parseWithZod } from "@conform-to/zod/v4";
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, useActionData, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { formatDate } from "~/components/dates.tsx";
import { FieldError } from "~/components/forms.tsx";
import { SeatLimitBanner } from "~/components/seat-limit-banner.tsx";
import { INVITE_FORM_MAX, InviteSchema, MemberActionSchema } from "~/forms/member-forms.ts";
import {
  changeMemberRole,
  type InviteOutcome,
  inviteMember,
  membersPage,
  removeMember,
  resendInvitation,
  revokeInvitation,
} from "~/services/customers/members.server.ts";
import { mailLinkOrigin } from "~/services/mail/mail.server.ts";
import { forbidden, getAccountContext, requireUser } from "~/web/auth.server.ts";
import { boundedReply } from "~/utils/forms.ts";
import { readForm } from "~/utils/http.server.ts";

export const meta: MetaFunction = () => [{ title: "Members · Tierdesk" }];

async function currentAccount(request: Request) {
  const user = await requireUser(request);
  const { current } = await getAccountContext(request);
  if (!current) throw json({ error: "You do not belong to any account." }, { status: 404 });
  return { user, account: current };
}

export async function loader({ request }: LoaderFunctionArgs) {
  const { user, account } = await currentAccount(request);
  const page = await membersPage(account, account.role);
  return json({
    account: { name: account.name, role: account.role },
    viewerId: user.id,
    members: page.members.map(({ userId, email, role, createdAt }) => ({
      userId,
      email,
      role,
      createdAt: createdAt.toISOString(),
    })),
    invitations: page.invitations.map(({ id, email, createdAt, expiresAt }) => ({
      id,
      email,
      createdAt: createdAt.toISOString(),
      expiresAt: expiresAt.toISOString(),
    })),
    seats: page.seats,
  });
}

type ActionData = {
  /** The invite form's reply (field errors at the email). */
  result?: SubmissionResult<string[]>;
  /** A button's refusal. */
  error?: string;
  /** No mail can go out from this server: the link to pass on. */
  shown?: { email: string; link: string };
};

const answer = (data: ActionData, status = 200) => json(data, { status });

function afterInvite(outcome: Extract<InviteOutcome, { ok: true }>, notice: "invited" | "resent") {
  if (outcome.delivery === "show-link") return answer({ shown: { email: outcome.email, link: outcome.link } });
  return redirect(`/account/members?${new URLSearchParams({ [notice]: outcome.email })}`, 303);
}

export async function action({ request }: ActionFunctionArgs) {
  const { user, account } = await currentAccount(request);
  const form = await readForm(request, { freeText: ["email"] });
  const owner = account.role === "owner";
  const ownersOnly = () => forbidden(`Only the owners of ${account.name} manage its members.`);
  const origins = { mail: mailLinkOrigin(request), page: new URL(request.url).origin };
  const actor = { userId: user.id, email: user.email };

  if (form.get("intent") === "invite") {
    if (!owner) throw ownersOnly();
    const submission = parseWithZod(form, { schema: InviteSchema });
    if (submission.status !== "success") {
      return answer({ result: boundedReply(submission.reply(), INVITE_FORM_MAX) }, 400);
    }
    const outcome = await inviteMember(account, actor, submission.value.email, origins);
    if (!outcome.ok) {
      return answer(
        { result: boundedReply(submission.reply({ fieldErrors: { email: [outcome.message] } }), INVITE_FORM_MAX) },
        409,
      );
    }
    return afterInvite(outcome, "invited");
  }

  const parsed = MemberActionSchema.safeParse(Object.fromEntries(form));
  if (!parsed.success) return answer({ error: "Unknown action." }, 400);
  const command = parsed.data;
  if (command.intent === "leave") {
    const left = await removeMember(account.id, user.id);
    if (!left.ok) return answer({ error: left.message }, left.status);
    return redirect(`/account/members?${new URLSearchParams({ left: account.name })}`, 303);
  }
  if (!owner) throw ownersOnly();
  switch (command.intent) {
    case "resend": {
      const outcome = await resendInvitation(account, actor, command.invitationId, origins);
      if (!outcome.ok) return answer({ error: outcome.message }, 404);
      return afterInvite(outcome, "resent");
    }
    case "revoke":
      if (!(await revokeInvitation(account.id, command.invitationId))) {
        return answer({ error: "That invitation is no longer pending." }, 404);
      }
      return redirect("/account/members?revoked=1", 303);
    case "remove":
    case "make-owner":
    case "make-member": {
      const change =
        command.intent === "remove"
          ? await removeMember(account.id, command.userId)
          : await changeMemberRole(account.id, command.userId, command.intent === "make-owner" ? "owner" : "member");
      if (!change.ok) return answer({ error: change.message }, change.status);
      // Leaving one's own account as its owner is leaving: the session moves on to another account.
      const notice = command.intent === "remove" ? "removed=1" : "role=changed";
      return redirect(`/account/members?${notice}`, 303);
    }
  }
}

const NOTICES: Record<string, (value: string) => string> = {
  invited: (email) => `Invitation sent to ${email}. The link works once, within 7 days.`,
  resent: (email) => `A new invitation went to ${email}; the earlier link no longer works.`,
  revoked: () => "The invitation is revoked; its link no longer works.",
  removed: () => "The member is removed.",
  role: () => "Their role is changed.",
  left: (name) => `You left ${name}.`,
};

const plural = (count: number, one: string) => `${count} ${one}${count === 1 ? "" : "s"}`;

export default function Members() {
  const data = useLoaderData<typeof loader>();
  const actionData = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const owner = data.account.role === "owner";
  const notice = Object.entries(NOTICES).flatMap(([key, text]) => {
    const value = searchParams.get(key);
    return value ? [text(value)] : [];
  })[0];
  const { seats } = data;
  const ownerCount = data.members.filter((member) => member.role === "owner").length;
  return (
    <div className="account members">
      <h1>Members</h1>
      <p className="lead">
        Who belongs to <strong>{data.account.name}</strong>
        {owner ? "" : " (you are a member)"}.
      </p>
      {notice ? (
        <p className="notice" role="status" data-testid="members-notice">
          {notice}
        </p>
      ) : null}
      {actionData?.error ? (
        <p className="form-error" role="alert" data-testid="members-error">
          {actionData.error}
        </p>
      ) : null}
      {seats.overLimit && seats.limit !== null ? (
        <SeatLimitBanner
          accountName={data.account.name}
          members={seats.used}
          limit={seats.limit}
          planName={seats.overLimit.planName}
        />
      ) : null}

      <section className="card" aria-labelledby="seats-heading">
        <h2 id="seats-heading">Seats</h2>
        <p data-testid="seats">
          {seats.limit === null
            ? `${plural(seats.used, "seat")} used (no limit)`
            : `${seats.used} of ${seats.limit} seats used`}
          {seats.pending ? ` · ${plural(seats.pending, "pending invitation")}` : ""}
        </p>
        {owner ? <InviteForm lastResult={actionData?.result} /> : null}
        {actionData?.shown ? (
          <div className="notice" role="status" data-testid="invitation-link">
            <p>
              This server sends no mail. Pass this link on to {actionData.shown.email}; it works once, within 7 days:
            </p>
            <p className="mail-text">
              <code>{actionData.shown.link}</code>
            </p>
          </div>
        ) : null}
      </section>

      <section className="card" aria-labelledby="members-heading">
        <h2 id="members-heading">Members</h2>
        <ul className="member-list" data-testid="member-list">
          {data.members.map((member) => {
            const self = member.userId === data.viewerId;
            return (
              <li key={member.userId} data-testid="member">
                <div className="member-who">
                  <span className="member-email">
                    {member.email}
                    {self ? " (you)" : ""}
                  </span>
                  <span className="member-meta">
                    <span className="badge small">{member.role === "owner" ? "Owner" : "Member"}</span> since{" "}
                    <time dateTime={member.createdAt}>{formatDate(member.createdAt)}</time>
                  </span>
                </div>
                <div className="member-actions">
                  {owner && member.role === "member" ? (
                    <ActionButton intent="make-owner" userId={member.userId} label="Make owner" />
                  ) : null}
                  {owner && member.role === "owner" && ownerCount > 1 ? (
                    <ActionButton intent="make-member" userId={member.userId} label="Make member" />
                  ) : null}
                  {self && member.role === "owner" && ownerCount === 1 ? (
                    // The server refuses it too; here the way out is said instead of offered.
                    <span className="hint" data-testid="last-owner">
                      Make someone else an owner before you can leave.
                    </span>
                  ) : self ? (
                    <ActionButton intent="leave" label="Leave" danger />
                  ) : owner ? (
                    <ActionButton intent="remove" userId={member.userId} label="Remove" danger />
                  ) : null}
                </div>
              </li>
            );
          })}
        </ul>
      </section>

      {owner ? (
        <section className="card" aria-labelledby="invitations-heading">
          <h2 id="invitations-heading">Pending invitations</h2>
          {data.invitations.length ? (
            <ul className="member-list" data-testid="invitation-list">
              {data.invitations.map((invitation) => (
                <li key={invitation.id} data-testid="invitation">
                  <div className="member-who">
                    <span className="member-email">{invitation.email}</span>
                    <span className="member-meta">
                      Sent <time dateTime={invitation.createdAt}>{formatDate(invitation.createdAt)}</time>, expires{" "}
                      <time dateTime={invitation.expiresAt}>{formatDate(invitation.expiresAt)}</time>
                    </span>
                  </div>
                  <div className="member-actions">
                    <ActionButton intent="resend" invitationId={invitation.id} label="Resend" />
                    <ActionButton intent="revoke" invitationId={invitation.id} label="Revoke" danger />
                  </div>
                </li>
              ))}
            </ul>
          ) : (
            <p>No invitations are pending.</p>
          )}
        </section>
      ) : null}
    </div>
  );
}

function ActionButton({
  intent,
  label,
  userId,
  invitationId,
  danger = false,
}: {
  intent: string;
  label: string;
  userId?: number;
  invitationId?: number;
  danger?: boolean;
}) {
  const navigation = useNavigation();
  return (
    <Form method="post" className="inline">
      <input type="hidden" name="intent" value={intent} />
      {userId !== undefined ? <input type="hidden" name="userId" value={userId} /> : null}
      {invitationId !== undefined ? <input type="hidden" name="invitationId" value={invitationId} /> : null}
      <button
        type="submit"
        className={danger ? "secondary danger" : "secondary"}
        disabled={navigation.state === "submitting"}
      >
        {label}
      </button>
    </Form>
  );
}

function InviteForm({ lastResult }: { lastResult: SubmissionResult<string[]> | undefined }) {
  const navigation = useNavigation();
  const [form, fields] = useForm({
    id: "invite-member",
    lastResult,
    constraint: getZodConstraint(InviteSchema),
    shouldValidate: "onBlur",
    shouldRevalidate: "onInput",
    onValidate: ({ formData }) => parseWithZod(formData, { schema: InviteSchema }),
  });
  const sending = navigation.state === "submitting" && navigation.formData?.get("intent") === "invite";
  return (
    <Form method="post" {...getFormProps(form)} className="inline-form invite-form">
      <input type="hidden" name="intent" value="invite" />
      <div className="field">
        <label htmlFor={fields.email.id}>Invite by email</label>
        <input {...getInputProps(fields.email, { type: "email" })} key={fields.email.key} autoComplete="off" />
        <FieldError id={fields.email.errorId} errors={fields.email.errors} />
      </div>
      <button type="submit" disabled={sending}>
        {sending ? "Sending…" : "Send invitation"}
      </button>
    </Form>
  );
}
