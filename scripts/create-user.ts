// Creates a user, or updates an existing one's role (and password when given). The way to get the
// first admin of a real deployment, where demo users are never seeded.
//   npm run user:create -- --email boss@example.com --role admin [--password '…']
// Without --password a strong one is generated and printed once.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { z } from "zod";
import { deleteUserSessions } from "../app/models/session.server.ts";
import { createUser, getUserByEmail, hashPassword } from "../app/models/user.server.ts";
import { closeDatabase, prepareDatabase } from "../app/db/db.server.ts";
import { EmailSchema, NewPasswordSchema } from "../app/utils/validation.ts";

const { values } = parseArgs({
  options: { email: { type: "string" }, role: { type: "string", default: "customer" }, password: { type: "string" } },
});
const parsed = z
  .object({
    email: EmailSchema,
    role: z.enum(["admin", "support", "customer"]),
    password: NewPasswordSchema.optional(),
  })
  .safeParse(values);
if (!parsed.success) {
  console.error(
    `Cannot create the user:\n  ${parsed.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("\n  ")}`,
  );
  process.exit(1);
}
const { email, role } = parsed.data;
const password = parsed.data.password ?? randomBytes(18).toString("base64url");

const db = await prepareDatabase();
try {
  const existing = await getUserByEmail(email);
  if (existing) {
    await db.prisma.user.update({
      where: { id: existing.id },
      data: { role, ...(parsed.data.password ? { passwordHash: await hashPassword(password) } : {}) },
    });
    // A new role or password must not leave old sessions signed in with the old one.
    const ended = role !== existing.role || parsed.data.password ? await deleteUserSessions(existing.id) : 0;
    console.log(
      `Updated ${email}: role ${role}${parsed.data.password ? ", new password" : ""}; ${ended} session(s) ended.`,
    );
  } else {
    await createUser({ email, password, role });
    console.log(`Created ${email} (${role}).${parsed.data.password ? "" : ` Password: ${password}`}`);
  }
} finally {
  await closeDatabase();
}
