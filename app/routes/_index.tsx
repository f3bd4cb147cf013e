import { Link } from "@remix-run/react";
import { useOptionalUser } from "~/root.tsx";

export default function Index() {
  const user = useOptionalUser();
  return (
    <section className="hero">
      <h1>Subscription tiers, run on Stripe.</h1>
      <p>
        Tierdesk keeps your product's tiers, their permissions and their Stripe prices in one place. Stripe stays the
        source of truth for prices; Tierdesk decides what each subscriber may do.
      </p>
      <p className="actions">
        <Link className="button" to="/pricing">
          See pricing
        </Link>
        {user ? (
          <Link className="button secondary" to={user.role === "customer" ? "/account" : "/admin"}>
            {user.role === "customer" ? "Your account" : "Admin"}
          </Link>
        ) : (
          <Link className="button secondary" to="/login">
            Sign in
          </Link>
        )}
      </p>
    </section>
  );
}
