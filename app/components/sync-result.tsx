// What "Sync from Stripe" changed (support's user and account pages): Stripe's answer and each field
// before → after, or that nothing changed.
export function SyncResult({
  result,
}: {
  result: { changed: boolean; before: Record<string, unknown>; after: Record<string, unknown>; detail: string };
}) {
  const fields = Object.keys(result.after).filter(
    (key) => JSON.stringify(result.before[key]) !== JSON.stringify(result.after[key]),
  );
  return (
    <div className="notice" role="status" data-testid="sync-result">
      <p>Synced from Stripe. {result.detail}</p>
      {result.changed ? (
        <ul>
          {fields.map((field) => (
            <li key={field}>
              <code>{field}</code>: {JSON.stringify(result.before[field])} → {JSON.stringify(result.after[field])}
            </li>
          ))}
        </ul>
      ) : (
        <p>Nothing changed: Tierdesk already matched Stripe.</p>
      )}
    </div>
  );
}
