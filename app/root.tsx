import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { json } from "@remix-run/node";
import {
  Form,
  isRouteErrorResponse,
  Link,
  Links,
  Meta,
  Outlet,
  Scripts,
  ScrollRestoration,
  useLocation,
  useRouteError,
  useRouteLoaderData,
} from "@remix-run/react";
import type { ReactNode } from "react";
import { billingMode } from "~/services/stripe/client.server.ts";
import { getAccountContext, getOptionalUser } from "~/web/auth.server.ts";
import { useNonce } from "~/utils/nonce.tsx";
import appStylesHref from "~/styles/app.css";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: appStylesHref },
  { rel: "icon", href: "/favicon.svg", type: "image/svg+xml" },
];

export const meta: MetaFunction = () => [{ title: "Tierdesk" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getOptionalUser(request);
  const accounts = user ? await getAccountContext(request) : null;
  return json({
    user: user ? { id: user.id, email: user.email, role: user.role } : null,
    // The header's switcher: only for people in more than one account.
    accounts:
      accounts && accounts.all.length > 1
        ? {
            currentId: accounts.current?.id ?? null,
            all: accounts.all.map(({ id, name, role }) => ({ id, name, role })),
          }
        : null,
    billingMode: billingMode(),
  });
}

function BillingBanner() {
  const data = useRouteLoaderData<typeof loader>("root");
  if (data?.billingMode === "emulator") {
    return (
      <p className="banner info" data-testid="emulator-banner">
        Stripe emulator: no real payments. Checkout and the customer portal are simulated locally.
      </p>
    );
  }
  // Customers see the 503 message when they try to pay; operators must notice at once.
  if (data?.billingMode === "disabled" && data.user && data.user.role !== "customer") {
    return (
      <p className="banner warning" role="alert" data-testid="billing-disabled-banner">
        Billing is disabled: STRIPE_API_KEY is not set, so customers cannot subscribe or manage their plans.
      </p>
    );
  }
  return null;
}

export function useOptionalUser() {
  return useRouteLoaderData<typeof loader>("root")?.user ?? null;
}

/** Which account the person acts for, when they belong to several: a plain form, works without JavaScript. */
function AccountSwitcher() {
  const accounts = useRouteLoaderData<typeof loader>("root")?.accounts;
  const location = useLocation();
  if (!accounts) return null;
  return (
    <Form method="post" action="/account/switch" className="account-switcher" data-testid="account-switcher">
      <input type="hidden" name="next" value={`${location.pathname}${location.search}`} />
      <label htmlFor="account-switcher-select" className="visually-hidden">
        Account
      </label>
      <select id="account-switcher-select" name="accountId" defaultValue={accounts.currentId ?? undefined}>
        {accounts.all.map((account) => (
          <option key={account.id} value={account.id}>
            {account.name}
            {account.role === "owner" ? "" : " (member)"}
          </option>
        ))}
      </select>
      <button type="submit" className="link-button">
        Switch
      </button>
    </Form>
  );
}

function Header() {
  const user = useOptionalUser();
  return (
    <header className="site-header">
      <Link to="/" className="brand">
        Tierdesk
      </Link>
      <nav aria-label="Main">
        <Link to="/pricing">Pricing</Link>
        {user ? (
          <>
            {user.role === "customer" ? <Link to="/account">Account</Link> : <Link to="/admin">Admin</Link>}
            {user.role === "customer" ? <Link to="/account/members">Members</Link> : null}
            <AccountSwitcher />
            <span className="who" data-testid="signed-in-as">
              {user.email}
            </span>
            <Form method="post" action="/logout">
              <button type="submit" className="link-button">
                Sign out
              </button>
            </Form>
          </>
        ) : (
          <>
            <Link to="/login">Sign in</Link>
            <Link to="/signup">Sign up</Link>
          </>
        )}
      </nav>
    </header>
  );
}

/** The site's frame around every page, error pages included: header, billing banner, main. */
function Page({ children }: { children: ReactNode }) {
  return (
    <>
      <Header />
      <BillingBanner />
      <main>{children}</main>
    </>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  // The server's CSP nonce for Remix's inline scripts (undefined in the browser: see utils/nonce.tsx).
  const nonce = useNonce();
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App() {
  return (
    <Page>
      <Outlet />
    </Page>
  );
}

// Rendered inside Layout on the server and in the browser alike (Remix wraps it), with the same
// header as every page, so a 404 keeps the site around it and hydrates cleanly.
export function ErrorBoundary() {
  const error = useRouteError();
  return (
    <Page>
      <ErrorPanel error={error} />
    </Page>
  );
}

/** A thrown response's message for people; Remix's own ("Error: No route matches…") is not one. */
function messageOf(data: unknown): string | null {
  if (typeof data === "object" && data && "error" in data) return String((data as { error: unknown }).error);
  if (typeof data === "string" && data && !data.startsWith("Error: ")) return data;
  return null;
}

export function ErrorPanel({ error }: { error: unknown }) {
  const viewer = useOptionalUser();
  const staff = viewer?.role === "admin" || viewer?.role === "support";
  if (isRouteErrorResponse(error)) {
    const message = messageOf(error.data);
    const title =
      error.status === 403
        ? "403 Forbidden"
        : error.status === 404
          ? "404 Not found"
          : `${error.status} ${error.statusText}`;
    return (
      <section className="error-panel" role="alert" aria-labelledby="error-title">
        <h1 id="error-title">{title}</h1>
        <p>{message ?? (error.status === 404 ? "There is no page at this address." : "Something went wrong.")}</p>
        <p className="actions">
          {staff ? (
            // Support refused an admin-only page or action: the way back is their own dashboard.
            <Link className="button" to="/admin">
              Back to the admin overview
            </Link>
          ) : null}
          <Link className={staff ? "button secondary" : "button"} to="/">
            Go to the home page
          </Link>
          <Link className="button secondary" to="/pricing">
            See plans and pricing
          </Link>
        </p>
      </section>
    );
  }
  // The server logs it once (entry.server's handleError); in the browser, the console is where developers look.
  if (typeof document !== "undefined") console.error(error);
  return (
    <section className="error-panel" role="alert" aria-labelledby="error-title">
      <h1 id="error-title">Something went wrong</h1>
      <p>An unexpected error occurred. Please try again.</p>
      <p>
        <Link to="/">Go to the home page</Link>
      </p>
    </section>
  );
}
