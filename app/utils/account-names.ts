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
