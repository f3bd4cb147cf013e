// A list of audit entries: when, who, what, and each changed field before → after.
import type { AuditEntryView } from "~/web/audit-view.server.ts";

const timeFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

export function AuditTrail({ entries, showEntity = false }: { entries: AuditEntryView[]; showEntity?: boolean }) {
  if (!entries.length) return <p className="hint">No changes recorded yet.</p>;
  return (
    <ol className="audit-trail" data-testid="audit-trail">
      {entries.map((entry) => (
        <li key={entry.id} data-action={entry.action} data-entity={entry.entity}>
          <p className="audit-head">
            <time dateTime={entry.createdAt}>{timeFormat.format(new Date(entry.createdAt))} UTC</time> ·{" "}
            <strong>{entry.actorEmail}</strong> {entry.action}{" "}
            {showEntity ? (
              <>
                {entry.entity} <code>{entry.entityLabel}</code>
              </>
            ) : (
              <code>{entry.entityLabel}</code>
            )}
          </p>
          {entry.changes.length ? (
            <ul className="audit-changes">
              {entry.changes.map((change) => (
                <li key={change.field}>
                  <code>{change.field}</code>: <span className="before">{change.before ?? "—"}</span> →{" "}
                  <span className="after">{change.after ?? "—"}</span>
                </li>
              ))}
            </ul>
          ) : null}
          <details>
            <summary>Before and after (JSON)</summary>
            <div className="audit-json">
              <pre aria-label="before">{entry.before ?? "null"}</pre>
              <pre aria-label="after">{entry.after ?? "null"}</pre>
            </div>
          </details>
        </li>
      ))}
    </ol>
  );
}
