// Prisma CLI configuration (migrate, generate). The server does not read this file: it builds its own
// client from src/config.ts and applies the same migrations at start-up.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'pglite:./data/pglite' },
});
