-- Support's account search (/admin/accounts, app/models/account-admin.server.ts): "starts with" on an
-- account's name (any case) and slug, and on its members' emails. Each is a B-tree on the lower-cased
-- value compared byte-wise (COLLATE "C"), so the search is a range of the index whatever the database's
-- collation, and with bound parameters too (a generic plan cannot turn `LIKE $1` into a range; the
-- model writes the range itself).
--
-- Expression indexes: Prisma's schema cannot express them and `prisma migrate diff` ignores them (no
-- drift reported, checked), unlike the operator-class indexes that 20261122035907 had to drop. They are
-- listed in comments in prisma/schema.prisma so nobody drops them by accident.
CREATE INDEX "accounts_name_search_idx" ON "accounts" ((lower("name") COLLATE "C"));
CREATE INDEX "accounts_slug_search_idx" ON "accounts" ((lower("slug") COLLATE "C"));
CREATE INDEX "users_email_search_idx" ON "users" ((lower("email") COLLATE "C"));
