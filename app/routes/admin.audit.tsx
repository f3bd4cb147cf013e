// /admin/audit: every change to tiers, permissions and users' roles or tiers, newest first.
// Filters in the URL: ?entity=tier|permission|user, ?actor=<user id>, ?entityId=<id>; keyset pages
// with ?before=<ISO time>~<entry id>. Read-only for everyone: the app cannot edit or delete entries.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import { Form, Link, useLoaderData, useSearchParams } from "@remix-run/react";
import { AuditTrail } from "~/components/audit-trail.tsx";
import { AUDIT_PAGE_SIZE, type AuditEntity, listAuditActors, listAuditEntries } from "~/models/audit.server.ts";
import { auditEntryView } from "~/web/audit-view.server.ts";
import { requireRole, STAFF_ROLES } from "~/web/auth.server.ts";
import { formatCursor, parseCursor } from "~/utils/keyset-cursor.ts";

export const meta: MetaFunction = () => [{ title: "Audit log · Admin · Tierdesk" }];

const ENTITIES = ["tier", "permission", "user", "api_key"] as const satisfies readonly AuditEntity[];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, STAFF_ROLES);
  const params = new URL(request.url).searchParams;
  const entity = ENTITIES.find((value) => value === params.get("entity"));
  const actorParam = Number(params.get("actor"));
  const actorId = Number.isSafeInteger(actorParam) && actorParam > 0 ? actorParam : undefined;
  const entityId = params.get("entityId")?.slice(0, 64) || undefined;
  const cursor = parseCursor(params.get("before"));
  const before = cursor ? { createdAt: cursor.at, id: cursor.id } : undefined;
  const [rows, actors] = await Promise.all([
    listAuditEntries({ entity, actorId, entityId, before }),
    listAuditActors(),
  ]);
  const page = rows.slice(0, AUDIT_PAGE_SIZE);
  const last = page.at(-1);
  return json({
    entries: page.map(auditEntryView),
    actors,
    next: rows.length > AUDIT_PAGE_SIZE && last ? formatCursor(last.createdAt, last.id) : null,
  });
}

export default function AdminAudit() {
  const { entries, actors, next } = useLoaderData<typeof loader>();
  const [searchParams] = useSearchParams();
  const nextPage = new URLSearchParams(searchParams);
  if (next) nextPage.set("before", next);
  return (
    <section>
      <h1>Audit log</h1>
      <p className="hint">
        Every change to a tier, its prices or permissions, a permission, or a user's role or tier, recorded with the
        change itself. Nobody can edit or delete these entries.
      </p>
      <Form method="get" className="filters">
        <label>
          Entity{" "}
          <select name="entity" defaultValue={searchParams.get("entity") ?? ""}>
            <option value="">all</option>
            {ENTITIES.map((entity) => (
              <option key={entity} value={entity}>
                {entity}
              </option>
            ))}
          </select>
        </label>
        <label>
          Person{" "}
          <select name="actor" defaultValue={searchParams.get("actor") ?? ""}>
            <option value="">anyone</option>
            {actors.map((actor) => (
              <option key={actor.id} value={actor.id}>
                {actor.email}
              </option>
            ))}
          </select>
        </label>
        {searchParams.get("entityId") ? (
          <input type="hidden" name="entityId" value={searchParams.get("entityId") ?? ""} />
        ) : null}
        <button type="submit" className="secondary">
          Filter
        </button>
        {searchParams.size ? <Link to="/admin/audit">Clear</Link> : null}
      </Form>
      <AuditTrail entries={entries} showEntity />
      {searchParams.get("before") || next ? (
        <p className="pager">
          {searchParams.get("before") ? (
            <Link to={`?${new URLSearchParams([...searchParams].filter(([key]) => key !== "before"))}`}>← Newest</Link>
          ) : null}{" "}
          {next ? <Link to={`?${nextPage}`}>Older →</Link> : null}
        </p>
      ) : null}
    </section>
  );
}
