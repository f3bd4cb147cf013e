// /admin/api: the product API's reference for admins, rendered from the OpenAPI document that
// /api/v1/openapi.json serves (no Swagger UI: the CSP allows no outside script, and none is needed).
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { Fragment } from "react";
import type { ReferenceField, ReferenceOperation } from "~/web/api-reference.server.ts";
import { apiReference } from "~/web/api-reference.server.ts";
import { requireRole } from "~/web/auth.server.ts";
import { openApiDocument } from "~/web/openapi.server.ts";

export const meta: MetaFunction = () => [{ title: "API reference · Admin · Tierdesk" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, ["admin"]);
  return json(apiReference(openApiDocument()));
}

/** The document's words, with its `backticked` spans as code and blank lines as paragraphs. */
function Prose({ text }: { text: string }) {
  return text
    .split(/\n\n+/)
    .filter(Boolean)
    .map((paragraph, p) => (
      <p key={p}>
        <Inline text={paragraph} />
      </p>
    ));
}

function Inline({ text }: { text: string }) {
  return text
    .split("`")
    .map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : <Fragment key={i}>{part}</Fragment>));
}

function FieldsTable({
  caption,
  fields,
  showIn = false,
}: {
  caption: string;
  fields: (ReferenceField & { in?: string })[];
  showIn?: boolean;
}) {
  return (
    <table className="api-fields">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          {showIn ? <th scope="col">In</th> : null}
          <th scope="col">Type</th>
          <th scope="col">Required</th>
          <th scope="col">Description</th>
        </tr>
      </thead>
      <tbody>
        {fields.map((field) => (
          <tr key={field.name}>
            <td data-label="Name">
              <code>{field.name}</code>
            </td>
            {showIn ? <td data-label="In">{field.in}</td> : null}
            <td data-label="Type">
              <span className="api-type">{field.type}</span>
            </td>
            <td data-label="Required">{field.required ? "yes" : "no"}</td>
            <td data-label="Description">
              {field.description ? (
                <span>
                  <Inline text={field.description} />
                </span>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Operation({ operation }: { operation: ReferenceOperation }) {
  const headingId = `${operation.id}-heading`;
  return (
    <section
      className="panel api-operation"
      id={operation.id}
      aria-labelledby={headingId}
      data-operation={operation.id}
    >
      <h2 id={headingId}>
        <span className={`api-method api-method-${operation.method.toLowerCase()}`}>{operation.method}</span>{" "}
        <code className="api-path">{operation.path}</code>
      </h2>
      <p className="api-summary">
        <strong>{operation.summary}</strong>{" "}
        <span className="badge small">{operation.scope ? `${operation.scope} scope` : "no key"}</span>
      </p>
      <Prose text={operation.description} />

      {operation.parameters.length > 0 ? (
        <>
          <h3>Parameters</h3>
          <FieldsTable
            caption={`Parameters of ${operation.method} ${operation.path}`}
            fields={operation.parameters}
            showIn
          />
        </>
      ) : null}

      {operation.body ? (
        <>
          <h3>
            Request body <span className="hint">application/json</span>
          </h3>
          <FieldsTable caption={`Request body of ${operation.method} ${operation.path}`} fields={operation.body} />
        </>
      ) : null}

      <h3>Responses</h3>
      <table className="api-responses">
        <caption className="visually-hidden">Responses of {`${operation.method} ${operation.path}`}</caption>
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Meaning</th>
            <th scope="col">Body</th>
          </tr>
        </thead>
        <tbody>
          {operation.responses.map((response) => (
            <tr key={response.status} data-status={response.status}>
              <td data-label="Status">
                <span className={`status ${response.status.startsWith("2") ? "api-status-ok" : "api-status-problem"}`}>
                  {response.status}
                </span>
              </td>
              <td data-label="Meaning">
                <span>
                  <Inline text={response.description} />
                </span>
              </td>
              <td data-label="Body">
                {response.contentType ? <code>{response.contentType}</code> : <span className="hint">none</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {operation.responses
        .filter((response) => response.fields.length > 0)
        .map((response) => (
          <details key={response.status} className="api-response-fields">
            <summary>Fields of the {response.status} answer</summary>
            <FieldsTable
              caption={`Fields of the ${response.status} answer of ${operation.method} ${operation.path}`}
              fields={response.fields}
            />
          </details>
        ))}
    </section>
  );
}

export default function AdminApiReference() {
  const reference = useLoaderData<typeof loader>();
  return (
    <section className="api-reference">
      <h1>API reference</h1>
      <p className="hint">
        {reference.title}, version {reference.version}: what a product&apos;s backend asks Tierdesk under{" "}
        <code>/api/v1</code>. Read out of the OpenAPI 3.1 document, so it says what the server validates.
      </p>
      <div className="panel">
        <h2>Authenticate</h2>
        <p>
          Send an API key with every request as <code>Authorization: Bearer tdk_…</code>. Create and revoke keys on{" "}
          <Link to="/admin/api-keys">API keys</Link>: a <code>read</code> key may call the read operations, a{" "}
          <code>write</code> key every operation. Each key has its own rate limit: over it, <code>429</code> with{" "}
          <code>Retry-After</code>.
        </p>
        <p>
          Every error is <code>application/problem+json</code> (RFC 9457) with a stable <code>code</code> to switch on;
          an invalid request (<code>400 invalid_request</code>) names each field&apos;s problem in <code>errors</code>.
        </p>
        <p>
          The machine-readable document, for generating clients: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>{" "}
          (no key needed). The repository&apos;s typed TypeScript client (<code>client/</code>) is generated from it.
        </p>
      </div>
      <nav aria-label="Operations" className="api-toc">
        <h2>Operations</h2>
        <ul>
          {reference.operations.map((operation) => (
            <li key={operation.id}>
              <a href={`#${operation.id}`}>
                <span className={`api-method api-method-${operation.method.toLowerCase()}`}>{operation.method}</span>{" "}
                <code>{operation.path}</code>
              </a>{" "}
              <span className="hint">{operation.summary}</span>
            </li>
          ))}
        </ul>
      </nav>
      {reference.operations.map((operation) => (
        <Operation key={operation.id} operation={operation} />
      ))}
    </section>
  );
}
