// The tier page's "Delete this tier" (admins): refused for the free tier and while accounts are on it,
// asked twice otherwise.
import { Form, Link } from "@remix-run/react";

export function DeleteTier({
  tierKey,
  isFree,
  users,
  confirm,
  error,
}: {
  tierKey: string;
  isFree: boolean;
  users: number;
  confirm: boolean;
  error: string | null;
}) {
  return (
    <section className="panel danger-zone" aria-labelledby="delete-tier">
      <h2 id="delete-tier">Delete this tier</h2>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      {isFree ? (
        <p className="hint">The free tier cannot be deleted: accounts whose subscription lapses fall back to it.</p>
      ) : users > 0 ? (
        <p>
          {users} account{users === 1 ? " is" : "s are"} on this tier, so it cannot be deleted.{" "}
          <Link to={`/admin/accounts?tier=${encodeURIComponent(tierKey)}`}>See who</Link>.
        </p>
      ) : confirm ? (
        <Form method="post" className="confirm">
          <p role="alert">
            Delete tier <strong>{tierKey}</strong> for good? Its lookup keys and permission grants go with it. This is
            recorded in the audit log.
          </p>
          <input type="hidden" name="intent" value="delete" />
          <input type="hidden" name="confirm" value="yes" />
          <div className="actions">
            <button type="submit" className="danger">
              Yes, delete {tierKey}
            </button>
            <Link className="button secondary" to={`/admin/tiers/${encodeURIComponent(tierKey)}`}>
              Keep it
            </Link>
          </div>
        </Form>
      ) : (
        <Form method="post">
          <input type="hidden" name="intent" value="delete" />
          <button type="submit" className="danger">
            Delete tier…
          </button>
        </Form>
      )}
    </section>
  );
}
