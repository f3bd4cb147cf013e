// /invitations/<token>: a mailed invitation to join an account. Signed out: sign in or sign up with the
// invited email, and come back here. Signed in as that email: "Join <account>" (a POST) makes them a
// member and the session acts for the account. Anything else is refused with a page saying why, and
// nothing is written: an unknown, expired, used or revoked link, another email signed in, a full team.
import type { ActionFunctionArgs, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json, redirect } from "@remix-run/node";
import { Form, Link, useActionData, useLoaderData, useLocation, useNavigation } from "@remix-run/react";
import type { ReactNode } from "react";
import {
  acceptInvitation,
  type InvitationState,
  invitationState,
  seatsSentence,
} from "~/services/customers/members.server.ts";
import { getOptionalUser } from "~/web/auth.server.ts";
import { chooseAccountFor } from "~/web/session.server.ts";

export const meta: MetaFunction = () => [
  { title: "Invitation · Tierdesk" },
  // The token is in the URL: no referrer carries it to another site.
  { name: "referrer", content: "no-referrer" },
];

const STATUS: Record<InvitationState["kind"], number> = {
  unknown: 404,
  expired: 410,
  used: 410,
  revoked: 410,
  "other-email": 403,
  "already-member": 200,
  full: 409,
  open: 200,
};

const answer = (state: InvitationState, signedIn: boolean) =>
  json({ state, signedIn }, { status: STATUS[state.kind], headers: { "Cache-Control": "no-store" } });

const viewerOf = async (request: Request) => {
  const user = await getOptionalUser(request);
  return user ? { userId: user.id, email: user.email } : null;
};

export async function loader({ request, params }: LoaderFunctionArgs) {
  const viewer = await viewerOf(request);
  return answer(await invitationState(params.token ?? "", viewer), viewer !== null);
}

export async function action({ request, params }: ActionFunctionArgs) {
  const token = params.token ?? "";
  const viewer = await viewerOf(request);
  if (!viewer) throw redirect(`/login?${new URLSearchParams({ next: `/invitations/${token}` })}`);
  const outcome = await acceptInvitation(token, viewer);
  if (outcome.kind === "joined" || outcome.kind === "already-member") {
    await chooseAccountFor(request, outcome.accountId);
    return redirect("/account", 303);
  }
  return answer(outcome, true);
}

export default function Invitation() {
  const loaded = useLoaderData<typeof loader>();
  const acted = useActionData<typeof action>();
  const { state, signedIn } = acted ?? loaded;
  return <InvitationPanel state={state} signedIn={signedIn} />;
}

function Refusal({ title, children, testId }: { title: string; children: ReactNode; testId: string }) {
  return (
    <section className="card narrow error-panel invitation" role="alert" data-testid={testId}>
      <h1>{title}</h1>
      {children}
      <p className="actions">
        <Link className="button secondary" to="/">
          Go to the home page
        </Link>
      </p>
    </section>
  );
}

const ASK_AGAIN = "Ask whoever invited you to send a new invitation.";

function InvitationPanel({ state, signedIn }: { state: InvitationState; signedIn: boolean }) {
  switch (state.kind) {
    case "unknown":
      return (
        <Refusal title="This invitation link is not valid" testId="invitation-unknown">
          <p>Check that the whole link was copied from the message. {ASK_AGAIN}</p>
        </Refusal>
      );
    case "expired":
      return (
        <Refusal title="This invitation has expired" testId="invitation-expired">
          <p>
            Invitations to {state.accountName} work within 7 days. {ASK_AGAIN}
          </p>
        </Refusal>
      );
    case "used":
      return (
        <Refusal title="This invitation was already used" testId="invitation-used">
          <p>
            An invitation link works once. If you joined {state.accountName}, pick it in the account switcher at the
            top.
          </p>
        </Refusal>
      );
    case "revoked":
      return (
        <Refusal title="This invitation was withdrawn" testId="invitation-revoked">
          <p>
            An owner of {state.accountName} revoked it, or sent a newer one. {ASK_AGAIN}
          </p>
        </Refusal>
      );
    case "other-email":
      return (
        <Refusal title="This invitation is for someone else" testId="invitation-other-email">
          <p>
            This invitation is for {state.invitedEmail}; you are signed in as {state.signedInAs}. Sign out, then open
            the link again and sign in (or sign up) as {state.invitedEmail}.
          </p>
          <Form method="post" action="/logout">
            <button type="submit" className="secondary">
              Sign out
            </button>
          </Form>
        </Refusal>
      );
    case "full":
      return (
        <Refusal title="This team is full" testId="invitation-full">
          <p>
            {seatsSentence(state.seats).replace("This team", state.accountName)} Ask an owner of {state.accountName} to
            remove someone or upgrade its plan, then open this link again.
          </p>
        </Refusal>
      );
    case "already-member":
      return (
        <section className="card narrow invitation" data-testid="invitation-already-member">
          <h1>You already belong to {state.accountName}</h1>
          <JoinForm label={`Go to ${state.accountName}`} />
        </section>
      );
    case "open":
      return <OpenInvitation state={state} signedIn={signedIn} />;
  }
}

function OpenInvitation({ state, signedIn }: { state: Extract<InvitationState, { kind: "open" }>; signedIn: boolean }) {
  return (
    <section className="card narrow invitation" data-testid="invitation-open">
      <h1>Join {state.accountName}</h1>
      <p>
        {state.invitedBy ? `${state.invitedBy} invited you` : "You are invited"} to join {state.accountName} on
        Tierdesk, as {state.invitedEmail}.
      </p>
      {signedIn ? <JoinForm label={`Join ${state.accountName}`} /> : <SignInChoices email={state.invitedEmail} />}
    </section>
  );
}

/** Sign up or sign in with the invited email (pre-filled), then back to this page to join. */
function SignInChoices({ email }: { email: string }) {
  const { pathname } = useLocation();
  const query = (path: string) => `${path}?${new URLSearchParams({ next: pathname, email })}`;
  return (
    <>
      <p>Sign in with {email}, or create an account with it; you then come back here to join.</p>
      <p className="actions">
        <Link className="button" to={query("/signup")}>
          Sign up as {email}
        </Link>
        <Link className="button secondary" to={query("/login")}>
          Sign in
        </Link>
      </p>
    </>
  );
}

function JoinForm({ label }: { label: string }) {
  const navigation = useNavigation();
  return (
    <Form method="post">
      <button type="submit" disabled={navigation.state === "submitting"}>
        {label}
      </button>
    </Form>
  );
}
