// Defence in depth against cross-site form posts (CSRF), on top of SameSite=Lax cookies: a browser
// says where a request comes from (Sec-Fetch-Site, Origin, or else Referer); state-changing requests
// from another site are refused. Clients that send none of them (curl, Stripe's webhooks, API callers)
// are not browsers acting on a victim's cookies and pass.
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * `ownHosts`: the host[:port] names this app answers as (APP_URL's, else the Host header). Only the
 * host is compared, not the scheme, so a TLS-terminating proxy in front does not break sign-in.
 */
export function isCrossSiteRequest(
  method: string,
  headers: { get(name: string): string | null | undefined },
  ownHosts: readonly string[],
): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return false;
  if (headers.get("sec-fetch-site") === "cross-site") return true;
  // Without Origin (older browsers, some form posts), the Referer says the same: another site's page.
  const source = headers.get("origin") || headers.get("referer");
  if (!source) return false;
  try {
    const { host } = new URL(source);
    return !ownHosts.some((own) => own.toLowerCase() === host.toLowerCase());
  } catch {
    return true; // "null" (sandboxed or privacy-stripped) or garbage
  }
}
