// Prisma CLI configuration. The CLI talks to PostgreSQL (DATABASE_URL); the embedded PGlite
// database is migrated by the app itself (app/db/migrations.server.ts).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: {
    path: "prisma/migrations",
    seed: "tsx prisma/seed.ts",
  },
  datasource: {
    url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/tierdesk",
  },
});
