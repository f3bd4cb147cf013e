// Who belongs to an account (issue 19, seats): owners invite people by email, resend or revoke
// invitations, remove members and make them owners; anyone may leave, except the last owner. Every
// seat decision runs under the account's seat lock (app/models/seats.server.ts), so two of them racing
// for the last seat are decided one after the other. Sending is allowed while members + pending + 1
// fit the limit; accepting while members < limit (the invitation is already among the pending).
import { type AuditActor, recordAudit } from "~/models/audit.server.ts";
import { isOverSeatLimit } from "~/rules/seats.ts";
import { announceAccountChange } from "~/services/webhooks/outbox.server.ts";
import { createHash, randomBytes } from "node:crypto";
import type { MembershipRole } from "~/generated/prisma/enums.ts";
import {
  addMembership,
  countOwners,
  emailOfUser,
  findMemberByEmail,
  findMembershipRole,
  isMemberByEmail,
  listMembers,
  removeMembership,
  setMembershipRole,
} from "~/models/account.server.ts";
import {
  acceptPendingInvitationsOf,
  createInvitation,
  findInvitationByTokenHash,
  hasPendingInvitation,
  type InvitationByToken,
  listPendingInvitations,
  lockInvitationByTokenHash,
  lockPendingInvitation,
  markInvitationAccepted,
  renewInvitation,
  revokeInvitation as revokePendingInvitation,
  revokePendingInvitationsOf,
} from "~/models/invitation.server.ts";
import { getSeats, getSeatsWithPlan, lockSeats, refreshSeatLimitMark, type SeatState } from "~/models/seats.server.ts";
import { inTransaction, type Tx } from "~/models/transaction.server.ts";
import { mailDelivery, sendMail } from "~/services/mail/mail.server.ts";
import { composeMail } from "~/services/mail/message.ts";

const INVITATION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

/** The stored form of an invitation link's token: its SHA-256, hex. */
export function invitationTokenHash(token: string) {
  return createHash("sha256").update(token).digest("hex");
}

// 32 random bytes in base64url: 43 characters. Anything else is not a token we made (and is not looked up).
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

/** "This team has 5 seats: 4 members and 1 pending invitation." */
export function seatsSentence(seats: Pick<SeatState, "limit" | "used" | "pending">) {
  const taken = `${plural(seats.used, "member")} and ${plural(seats.pending, "pending invitation")}`;
  return `This team has ${plural(seats.limit ?? 0, "seat")}: ${taken}.`;
}

export type Actor = { userId: number; email: string };
export type AccountRef = { id: number; name: string };

/** What /account/members shows: members, pending invitations (owners only) and seats. */
export async function membersPage(account: AccountRef, role: MembershipRole) {
  const [members, invitations, seats] = await Promise.all([
    listMembers(account.id),
    role === "owner" ? listPendingInvitations(account.id) : [],
    getSeatsWithPlan(account.id),
  ]);
  return {
    members,
    invitations,
    seats: {
      limit: seats?.limit ?? null,
      used: seats?.used ?? members.length,
      pending: seats?.pending ?? 0,
      // Only owners act on it; members of an over-limit team are not alarmed.
      overLimit: role === "owner" && seats && isOverSeatLimit(seats) ? { planName: seats.planName ?? "current" } : null,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Sending

export type InviteOutcome =
  | { ok: true; email: string; delivery: "mailed" | "outbox"; link: null }
  /** No mail can be sent (production without SMTP_URL, or without APP_URL): the owner passes the link on. */
  | { ok: true; email: string; delivery: "show-link"; link: string }
  | { ok: false; refusal: InviteRefusal; message: string };

/** Why an invitation was not sent: the product API answers each differently. */
export type InviteRefusal =
  | "no-account"
  | "already-member"
  | "already-invited"
  | "over-limit"
  | "no-seat"
  /** Resending: the invitation was accepted, revoked or expired meanwhile. */
  | "not-pending";

type LinkOrigins = {
  /** Where links in mail point (APP_URL, or the request's own outside production); null: no mail with links. */
  mail: string | null;
  /** The page's own origin, for a link shown to the owner who asked for it. */
  page: string;
};

function newToken(now: Date) {
  const token = randomBytes(32).toString("base64url");
  return { token, tokenHash: invitationTokenHash(token), expiresAt: new Date(now.getTime() + INVITATION_LIFETIME_MS) };
}

/** Mails the link (or keeps it in the development outbox); when no mail can go out, gives it back to show. */
async function deliverInvitation(
  { token, email, inviter, account }: { token: string; email: string; inviter: Actor; account: AccountRef },
  origins: LinkOrigins,
): Promise<Extract<InviteOutcome, { ok: true }>> {
  const path = `/invitations/${token}`;
  if (!origins.mail || mailDelivery() === "unavailable") {
    return { ok: true, email, delivery: "show-link", link: `${origins.mail ?? origins.page}${path}` };
  }
  const outcome = await sendMail(
    composeMail({
      to: email,
      subject: `${inviter.email} invited you to ${account.name} on Tierdesk`,
      paragraphs: [
        `${inviter.email} invited you to join ${account.name} on Tierdesk.`,
        `Follow the link to accept. Sign in or sign up with this email (${email}); the link works once, within 7 days.`,
      ],
      link: { label: `Join ${account.name}`, url: `${origins.mail}${path}` },
      footer: "If you did not expect this, ignore this message: nothing happens unless you accept.",
    }),
  );
  return { ok: true, email, delivery: outcome === "outbox" ? "outbox" : "mailed", link: null };
}

/**
 * Invites `email` to the account: refused (at the email field) when it belongs to a member, has a
 * pending invitation, or would take a seat the team does not have, and while the team is over its
 * limit. The check and the insert run under the account's seat lock; the mail goes after the commit.
 */
export async function inviteMember(
  account: AccountRef,
  inviter: Actor,
  email: string,
  origins: LinkOrigins,
  now = new Date(),
): Promise<InviteOutcome> {
  const link = newToken(now);
  const refusal = await inTransaction(async (tx): Promise<Extract<InviteOutcome, { ok: false }> | null> => {
    const refuse = (why: InviteRefusal, message: string) => ({ ok: false as const, refusal: why, message });
    const seats = await lockSeats(tx, account.id);
    if (!seats) return refuse("no-account", "This account no longer exists.");
    if (await isMemberByEmail(tx, account.id, email)) {
      return refuse("already-member", `${email} is already a member of ${account.name}.`);
    }
    if (await hasPendingInvitation(tx, account.id, email, now)) {
      return refuse("already-invited", `${email} is already invited. Resend the invitation below if it got lost.`);
    }
    const noSeat = seatRefusal(account, seats);
    if (noSeat) return noSeat;
    await createInvitation(tx, {
      accountId: account.id,
      email,
      tokenHash: link.tokenHash,
      invitedById: inviter.userId,
      createdAt: now,
      expiresAt: link.expiresAt,
    });
    await announceAccountChange(tx, [account.id], "account.seats.updated");
    return null;
  });
  if (refusal) return refusal;
  return deliverInvitation({ token: link.token, email, inviter, account }, origins);
}

/** Whether one more person may take a seat (members + pending + 1 within the limit, and not over it). */
function seatRefusal(account: AccountRef, seats: SeatState): Extract<InviteOutcome, { ok: false }> | null {
  if (isOverSeatLimit(seats) && seats.limit !== null) {
    return {
      ok: false,
      refusal: "over-limit",
      message: `${account.name} has ${plural(seats.used, "member")} but its plan allows ${seats.limit}. Remove members or upgrade before inviting anyone.`,
    };
  }
  if (seats.limit !== null && seats.used + seats.pending + 1 > seats.limit) {
    return {
      ok: false,
      refusal: "no-seat",
      message: `${seatsSentence(seats)} Remove someone or upgrade to invite more.`,
    };
  }
  return null;
}

export type AddOutcome =
  { ok: true; role: MembershipRole; joined: boolean } | { ok: false; refusal: InviteRefusal; message: string };

/**
 * Adds someone who already has a Tierdesk user to the account (the product API's provisioning), under
 * the same seat rule as invitations: their own pending invitation already holds a seat (it is marked
 * accepted, as if they had followed it); anyone else needs a free one. Already a member: nothing changes.
 */
export function addExistingUser(
  account: AccountRef,
  user: { id: number },
  role: MembershipRole = "member",
  now = new Date(),
): Promise<AddOutcome> {
  return inTransaction((tx) => joinUnderSeatRule(tx, account, user, role, now));
}

/** The same inside the caller's transaction (which a refusal leaves as it was: nothing here is written). */
export async function joinUnderSeatRule(
  tx: Tx,
  account: AccountRef,
  user: { id: number },
  role: MembershipRole = "member",
  now = new Date(),
): Promise<AddOutcome> {
  const seats = await lockSeats(tx, account.id);
  if (!seats) return { ok: false, refusal: "no-account", message: "This account no longer exists." };
  const current = await findMembershipRole(account.id, user.id, tx);
  if (current) {
    if (role === "owner" && current !== "owner") await setMembershipRole(tx, account.id, user.id, "owner");
    return { ok: true, role: role === "owner" ? "owner" : current, joined: false };
  }
  const email = await emailOfUser(tx, user.id);
  if (await hasPendingInvitation(tx, account.id, email, now)) {
    // Their invitation holds a seat already: they may join while members < limit, as on accepting it.
    if (seats.limit !== null && seats.used >= seats.limit) {
      return { ok: false, refusal: "no-seat", message: `${seatsSentence(seats)} Remove someone or upgrade first.` };
    }
    await acceptPendingInvitationsOf(tx, account.id, email, now);
  } else {
    const noSeat = seatRefusal(account, seats);
    if (noSeat) return noSeat;
  }
  await addMembership(tx, account.id, user.id, role);
  await refreshSeatLimitMark(tx, [account.id]);
  await announceAccountChange(tx, [account.id], "account.seats.updated");
  return { ok: true, role, joined: true };
}

export type RemoveByEmailOutcome =
  { ok: true; removed: "member" | "invitation" } | { ok: false; status: 404 | 409; message: string };

/**
 * Takes `email` off the account (the product API): their membership (never the last owner's), or
 * else their pending invitation. Under the account's lock, like every seat decision.
 */
export function removeByEmail(accountId: number, email: string, now = new Date()): Promise<RemoveByEmailOutcome> {
  return inTransaction(async (tx): Promise<RemoveByEmailOutcome> => {
    if (!(await lockSeats(tx, accountId))) return { ok: false, status: 404, message: "This account no longer exists." };
    const member = await findMemberByEmail(tx, accountId, email);
    if (member) {
      if (member.role === "owner" && (await countOwners(tx, accountId)) <= 1) {
        return { ok: false, status: 409, message: `${email} is the account's last owner. ${LAST_OWNER}` };
      }
      await removeMembership(tx, accountId, member.userId);
      await refreshSeatLimitMark(tx, [accountId]);
      await announceAccountChange(tx, [accountId], "account.seats.updated");
      return { ok: true, removed: "member" };
    }
    if ((await revokePendingInvitationsOf(tx, accountId, email, now)) > 0) {
      await announceAccountChange(tx, [accountId], "account.seats.updated");
      return { ok: true, removed: "invitation" };
    }
    return { ok: false, status: 404, message: `${email} is neither a member of this account nor invited to it.` };
  });
}

/** A new link for a pending invitation (new token, 7 more days; the old link stops working), sent again. */
export async function resendInvitation(
  account: AccountRef,
  inviter: Actor,
  invitationId: number,
  origins: LinkOrigins,
  now = new Date(),
): Promise<InviteOutcome> {
  const link = newToken(now);
  const email = await inTransaction(async (tx) => {
    const invitation = await lockPendingInvitation(tx, account.id, invitationId, now);
    if (!invitation) return null;
    await renewInvitation(tx, invitation.id, link.tokenHash, now, link.expiresAt);
    return invitation.email;
  });
  if (!email) return { ok: false, refusal: "not-pending", message: "That invitation is no longer pending." };
  return deliverInvitation({ token: link.token, email, inviter, account }, origins);
}

/** Revokes a pending invitation of the account (its seat is free again); false when there is none. */
export function revokeInvitation(accountId: number, invitationId: number) {
  return inTransaction(async (tx) => {
    const revoked = await revokePendingInvitation(accountId, invitationId, new Date(), tx);
    if (revoked) await announceAccountChange(tx, [accountId], "account.seats.updated");
    return revoked;
  });
}

// ---------------------------------------------------------------------------------------------
// Members

export type MemberChange = { ok: true } | { ok: false; status: 404 | 409; message: string };

const LAST_OWNER =
  "An account needs an owner: make someone else an owner first (or, for your own account, keep it as it is).";

/**
 * Removes a member (an owner's action) or leaves (`userId` is the actor's own): never the last owner.
 * Under the account's lock, so two owners removing each other at once cannot leave it without one.
 */
export function removeMember(accountId: number, userId: number): Promise<MemberChange> {
  return inTransaction(async (tx) => {
    await lockSeats(tx, accountId);
    const role = await findMembershipRole(accountId, userId, tx);
    if (!role) return { ok: false, status: 404, message: "That person is not a member of this account." };
    if (role === "owner" && (await countOwners(tx, accountId)) <= 1) {
      return { ok: false, status: 409, message: `This is the account's last owner. ${LAST_OWNER}` };
    }
    await removeMembership(tx, accountId, userId);
    await refreshSeatLimitMark(tx, [accountId]);
    await announceAccountChange(tx, [accountId], "account.seats.updated");
    return { ok: true };
  });
}

/**
 * Makes a member an owner, or an owner a member (never the last owner). An admin's change (support's
 * console) is audited on the account, in the same transaction.
 */
export function changeMemberRole(
  accountId: number,
  userId: number,
  role: MembershipRole,
  audited?: { actor: AuditActor; accountName: string; memberEmail: string },
): Promise<MemberChange> {
  return inTransaction(async (tx) => {
    await lockSeats(tx, accountId);
    const current = await findMembershipRole(accountId, userId, tx);
    if (!current) return { ok: false, status: 404, message: "That person is not a member of this account." };
    if (current === role) return { ok: true };
    if (current === "owner" && (await countOwners(tx, accountId)) <= 1) {
      return { ok: false, status: 409, message: `This is the account's last owner. ${LAST_OWNER}` };
    }
    await setMembershipRole(tx, accountId, userId, role);
    if (audited) {
      await recordAudit(tx, {
        actor: audited.actor,
        action: "member role changed",
        entity: "account",
        entityId: accountId,
        entityLabel: audited.accountName,
        before: { member: audited.memberEmail, role: current },
        after: { member: audited.memberEmail, role },
      });
    }
    return { ok: true };
  });
}

// ---------------------------------------------------------------------------------------------
// Accepting

type Seats = Pick<SeatState, "limit" | "used" | "pending">;

export type InvitationState =
  | { kind: "unknown" }
  | { kind: "expired" | "used" | "revoked"; accountName: string }
  | { kind: "other-email"; accountName: string; invitedEmail: string; signedInAs: string }
  | { kind: "already-member"; accountId: number; accountName: string }
  | { kind: "full"; accountName: string; seats: Seats }
  /** Live: the invited person may join (signed in as the email), or sign in / sign up to. */
  | { kind: "open"; accountId: number; accountName: string; invitedEmail: string; invitedBy: string | null };

async function judge(
  invitation: InvitationByToken | null,
  viewer: Actor | null,
  now: Date,
  seatsOf: (accountId: number) => Promise<SeatState | null>,
  isMember: (accountId: number, userId: number) => Promise<boolean>,
): Promise<InvitationState> {
  if (!invitation) return { kind: "unknown" };
  const accountName = invitation.accountName;
  if (invitation.acceptedAt) return { kind: "used", accountName };
  if (invitation.revokedAt) return { kind: "revoked", accountName };
  if (invitation.expiresAt.getTime() <= now.getTime()) return { kind: "expired", accountName };
  const open = {
    kind: "open",
    accountId: invitation.accountId,
    accountName,
    invitedEmail: invitation.email,
    invitedBy: invitation.invitedByEmail,
  } as const;
  if (!viewer) return open;
  if (viewer.email !== invitation.email) {
    return { kind: "other-email", accountName, invitedEmail: invitation.email, signedInAs: viewer.email };
  }
  if (await isMember(invitation.accountId, viewer.userId)) {
    return { kind: "already-member", accountId: invitation.accountId, accountName };
  }
  const seats = await seatsOf(invitation.accountId);
  if (seats && seats.limit !== null && seats.used >= seats.limit) {
    return { kind: "full", accountName, seats: { limit: seats.limit, used: seats.used, pending: seats.pending } };
  }
  return open;
}

/** What an invitation link shows to its viewer (signed out: null). Writes nothing. */
export async function invitationState(token: string, viewer: Actor | null, now = new Date()) {
  if (!TOKEN_PATTERN.test(token)) return { kind: "unknown" } as const;
  const invitation = await findInvitationByTokenHash(invitationTokenHash(token));
  return judge(
    invitation,
    viewer,
    now,
    (accountId) => getSeats(accountId),
    async (accountId, userId) => (await findMembershipRole(accountId, userId)) !== null,
  );
}

/**
 * Accepts an invitation as `viewer`: the account's seats locked, then the invitation; joined when it is
 * live, for the viewer's email, and a seat is free. Membership, the invitation's accepted_at and the
 * seat-limit mark are written together; any refusal writes nothing.
 */
export async function acceptInvitation(
  token: string,
  viewer: Actor,
  now = new Date(),
): Promise<InvitationState | { kind: "joined"; accountId: number; accountName: string }> {
  if (!TOKEN_PATTERN.test(token)) return { kind: "unknown" };
  const tokenHash = invitationTokenHash(token);
  const seen = await findInvitationByTokenHash(tokenHash);
  if (!seen) return { kind: "unknown" };
  return inTransaction(async (tx) => {
    // The account first, then the invitation: every seat decision takes the locks in this order.
    await lockSeats(tx, seen.accountId);
    const invitation = await lockInvitationByTokenHash(tx, tokenHash);
    const state = await judge(
      invitation,
      viewer,
      now,
      (accountId) => getSeats(accountId, tx),
      async (accountId, userId) => (await findMembershipRole(accountId, userId, tx)) !== null,
    );
    if (state.kind !== "open" || !invitation) return state;
    await addMembership(tx, invitation.accountId, viewer.userId);
    await markInvitationAccepted(tx, invitation.id, now);
    await refreshSeatLimitMark(tx, [invitation.accountId]);
    await announceAccountChange(tx, [invitation.accountId], "account.seats.updated");
    return { kind: "joined", accountId: invitation.accountId, accountName: invitation.accountName };
  });
}
