// /dev/mail: the development outbox. Without SMTP_URL outside production, mail is kept here instead of
// sent (newest first, links clickable). A 404 in production, and wherever mail goes to an SMTP server.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { Fragment } from "react";
import { listDevMail } from "~/models/dev-mail.server.ts";
import { devOutboxEnabled } from "~/services/mail/mail.server.ts";

export const meta: MetaFunction = () => [{ title: "Outbox · Development · Tierdesk" }];

export async function loader(_: LoaderFunctionArgs) {
  if (!devOutboxEnabled()) throw new Response("There is no page at this address.", { status: 404 });
  const messages = await listDevMail();
  return json(
    { messages: messages.map((message) => ({ ...message, createdAt: message.createdAt.toISOString() })) },
    { headers: { "Cache-Control": "no-store" } },
  );
}

// In UTC, so server and browser render the same text.
const sentAt = (iso: string) =>
  new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium", timeZone: "UTC" }).format(
    new Date(iso),
  ) + " UTC";

/** Text with its http(s) URLs as links. */
function Linked({ text }: { text: string }) {
  const parts = text.split(/(https?:\/\/[^\s<>"]+)/g);
  return (
    <>
      {parts.map((part, index) => (
        <Fragment key={index}>{index % 2 ? <a href={part}>{part}</a> : part}</Fragment>
      ))}
    </>
  );
}

export default function DevMail() {
  const { messages } = useLoaderData<typeof loader>();
  return (
    <section>
      <h1>Outbox</h1>
      <p className="hint">
        Development only: without <code>SMTP_URL</code>, mail is kept here instead of sent. Newest first.
      </p>
      {messages.length ? (
        <ol className="outbox" data-testid="outbox">
          {messages.map((message) => (
            <li key={message.id} className="card" data-testid="outbox-message">
              <h2>{message.subject}</h2>
              <dl className="facts">
                <dt>To</dt>
                <dd>{message.to}</dd>
                <dt>Sent</dt>
                <dd>
                  <time dateTime={message.createdAt}>{sentAt(message.createdAt)}</time>
                </dd>
              </dl>
              <pre className="mail-text">
                <Linked text={message.text} />
              </pre>
            </li>
          ))}
        </ol>
      ) : (
        <p>No mail yet.</p>
      )}
    </section>
  );
}
