// The accounts the user belongs to, with their role in each, the owners and how many belong; each links
// to its own page (its plan, seats and members). The plan above is the user's personal account's.
import { Link } from "@remix-run/react";
import type { UserPage } from "./user.server.ts";

export function AccountsSection({ accounts }: { accounts: UserPage["accounts"] }) {
  return (
    <section className="panel" aria-labelledby="accounts">
      <h2 id="accounts">Accounts</h2>
      {accounts.length ? (
        <div className="table-scroll">
          <table data-testid="user-accounts">
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Role</th>
                <th scope="col">Owners</th>
                <th scope="col">Members</th>
              </tr>
            </thead>
            <tbody>
              {accounts.map((account) => (
                <tr key={account.id}>
                  <td data-label="Account">
                    <Link to={`/admin/accounts/${account.id}`}>{account.name}</Link>{" "}
                    <span className="hint">({account.slug})</span>
                  </td>
                  <td data-label="Role">{account.role}</td>
                  <td data-label="Owners">{account.owners.map((owner) => owner.email).join(", ")}</td>
                  <td data-label="Members">{account.members}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p>This user belongs to no account.</p>
      )}
    </section>
  );
}
