// The Prisma client, on embedded PGlite (DATA_DIR) by default or on PostgreSQL through @prisma/adapter-pg.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import { migrate, type SqlSession } from './migrate.ts';
import { acquireDirectoryLock } from './directory-lock.ts';
import type { Logger } from '../observability/logger.ts';

export type Prisma = PrismaClient;

export interface Database {
  prisma: PrismaClient;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openDatabase(options: { databaseUrl?: string; databaseDirectUrl?: string; dataDir: string; logger: Logger }): Promise<Database> {
  const { databaseUrl, databaseDirectUrl, logger } = options;
  return databaseUrl ? openPostgres(databaseUrl, databaseDirectUrl ?? databaseUrl, logger) : openPglite(options.dataDir, logger);
}

async function openPostgres(connectionString: string, migrationUrl: string, logger: Logger): Promise<Database> {
  const client = new pg.Client({ connectionString: migrationUrl });
  await client.connect();
  try {
    await applyMigrations(
      {
        query: async (sql, params) => (await client.query(sql, params)).rows,
        exec: async (script) => void (await client.query(script)),
      },
      logger,
    );
  } finally {
    await client.end();
  }
  const pool = new pg.Pool({ connectionString, max: 10 });
  pool.on('error', (err) => logger.warn({ err: err.message }, 'postgres pool error'));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    ping: async () => void (await pool.query('SELECT 1')),
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPglite(dataDir: string, logger: Logger): Promise<Database> {
  const dir = path.resolve(dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  // PGlite is single-process: a second process on the same directory would silently corrupt it.
  const lock = await acquireDirectoryLock(dir);
  try {
    const pglite = await PGlite.create(dir);
    await applyMigrations(
      {
        query: async (sql, params) => (await pglite.query(sql, params)).rows as never[],
        exec: async (script) => void (await pglite.exec(script)),
      },
      logger,
    );
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
    return {
      prisma,
      ping: async () => void (await pglite.query('SELECT 1')),
      close: async () => {
        await prisma.$disconnect();
        await pglite.close();
        await lock.release();
      },
    };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function applyMigrations(session: SqlSession, logger: Logger) {
  const applied = await migrate(session);
  if (applied.length) logger.info({ applied }, 'database migrated');
}
