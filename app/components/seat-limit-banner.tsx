import { Link } from "@remix-run/react";

/**
 * For an account's owners while it has more members than its plan allows (after a downgrade): nobody
 * loses access, but nobody new can be invited until members are removed or the plan is upgraded.
 * Members are not shown it: there is nothing for them to do.
 */
export function SeatLimitBanner({
  accountName,
  members,
  limit,
  planName,
}: {
  accountName: string;
  members: number;
  limit: number;
  planName: string;
}) {
  return (
    <div className="banner-inline warning" role="status" data-testid="seat-limit-banner">
      <p>
        {accountName} has {members} member{members === 1 ? "" : "s"} but its {planName} plan allows {limit}. Nobody
        loses access, but you cannot invite anyone until you remove members or upgrade.
      </p>
      <p className="actions">
        <Link to="/account/members">Remove members</Link>
        <Link to="/pricing">Upgrade</Link>
      </p>
    </div>
  );
}
