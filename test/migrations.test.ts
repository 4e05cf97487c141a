// The committed migrations must produce exactly prisma/schema.prisma. Prisma itself checks it: `migrate diff
// --from-migrations` replays prisma/migrations on a temporary shadow database and compares the result with the
// schema. Against PostgreSQL when DATABASE_URL names a server (the shadow database is created there and dropped by
// the schema engine shim), otherwise against PGlite in a temporary directory (shadow database in memory).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const schemaPath = path.join(root, 'prisma/schema.prisma');
const migrationsPath = path.join(root, 'prisma/migrations');

// Creating a PGlite database costs 3-13 s on our 2-core machines and the check creates two (main + shadow).
const COMMAND_TIMEOUT_MS = 150_000;
const TEST_TIMEOUT_MS = 180_000;

const serverUrl = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '') ? process.env.DATABASE_URL : undefined;
let tmp: string;
let databaseUrl: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-test-'));
  databaseUrl = serverUrl ?? `pglite:${path.join(tmp, 'pglite')}`;
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** `prisma migrate diff --from-migrations ... --to-schema <schema> --exit-code`: 0 = same, 2 = differs. */
function diffMigrationsAgainst(schema: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['scripts/prisma.mjs', 'migrate', 'diff', '--from-migrations', migrationsPath, '--to-schema', schema, '--exit-code'],
      { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`prisma migrate diff timed out after ${COMMAND_TIMEOUT_MS} ms:\n${output}`));
    }, COMMAND_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe(`migrations (${serverUrl ? 'PostgreSQL from DATABASE_URL' : 'PGlite in a temp dir'})`, () => {
  it(
    'replay to exactly prisma/schema.prisma',
    async () => {
      const { code, output } = await diffMigrationsAgainst(schemaPath);
      // On failure, the output is the SQL/summary of what the migrations lack: run `npm run prisma -- migrate dev`.
      expect(output).not.toMatch(/\[[+*-]\]/);
      expect(code, output).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'would notice a schema change that has no migration (the check can fail)',
    async () => {
      const changed = path.join(tmp, 'schema.prisma');
      const schema = fs.readFileSync(schemaPath, 'utf8');
      const withField = schema.replace(/^model User \{\n/m, '$&  migrationsTestProbe String?\n');
      expect(withField).not.toBe(schema);
      fs.writeFileSync(changed, withField);

      const { code, output } = await diffMigrationsAgainst(changed);
      expect(output).toContain('migrationsTestProbe');
      expect(code, output).toBe(2);
    },
    TEST_TIMEOUT_MS,
  );
});
