// Accounts' naming rules, shared by sign-up, the seed and (in SQL) the migration that gave every
// existing user a personal account (prisma/migrations/20261206191000_accounts_memberships).

const SLUG_BASE_MAX = 60;
const NAME_MAX = 120;

const localPart = (email: string) => email.split("@")[0] ?? "";

/** A personal account's name: the email's local part ("ada" for ada@example.com). */
export function personalAccountName(email: string) {
  return (localPart(email) || email).slice(0, NAME_MAX);
}

/**
 * A personal account's slug: the email's local part made URL-safe, then the user's id. Only the id
 * is after the last "-", so two personal slugs never collide.
 */
export function personalSlug(email: string, userId: number) {
  const trimDashes = (text: string) => text.replace(/^-+|-+$/g, "");
  const base = trimDashes(
    trimDashes(
      localPart(email)
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-"),
    ).slice(0, SLUG_BASE_MAX),
  );
  return `${base || "account"}-${userId}`;
}

/**
 * The slug of an account the product made through the API (`PUT /api/v1/accounts/ext:…`): its name
 * made URL-safe, then `x` and 12 hex digits of the external id's SHA-256 (`sha256Hex`, passed in: this
 * module stays free of Node's crypto). Never all digits after the last "-", so never a personal slug.
 */
export function externalAccountSlug(name: string, externalIdSha256Hex: string) {
  const base = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, SLUG_BASE_MAX)
    .replace(/-+$/g, "");
  return `${base || "account"}-x${externalIdSha256Hex.slice(0, 12)}`;
}
