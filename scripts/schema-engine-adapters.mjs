// Driver adapters for the WebAssembly schema engine (scripts/schema-engine.mjs), with our workarounds for the
// driver-adapter bugs met on the migration path (see docs/prisma-wasm-engine.md). node_modules stays untouched:
// every fix wraps or patches our own adapter instances.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';

const require = createRequire(import.meta.url);
// pg's own URL parser, resolved from pg so we use exactly the version pg uses.
const { parse: parsePgUrl } = createRequire(require.resolve('pg'))('pg-connection-string');

/** `pglite:<dir>` (dir relative to cwd) or a postgres URL. */
export function describeUrl(url) {
  if (url.startsWith('pglite:')) return { kind: 'pglite', dir: path.resolve(url.slice('pglite:'.length) || '.') };
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', ...pgConfig(url) };
  throw Object.assign(new Error(`Unsupported datasource URL scheme in "${url.split(':')[0]}:": use postgresql:// or pglite:<dir>`), { code: 'P1013' });
}

// Bug 2: adapter-pg opens its shadow database with `{ ...config, database }`, but pg lets `connectionString` win
// over `database`, so the "shadow" connection lands on the main database. Separate fields avoid that.
function pgConfig(url) {
  const { schema, ...config } = parsePgUrl(url);
  if (config.port) config.port = Number(config.port);
  return { config: { ...config, Client: CharAsTextClient }, schema };
}

// Bug 1: adapter-pg has no column type for PostgreSQL's internal `"char"` (oid 18), which the schema describer
// reads from pg_catalog (e.g. pg_constraint.contype), and fails with UnsupportedNativeDataType. Its text form is
// a one-character string, so report it as `text` (oid 25) before the adapter maps the columns.
const CHAR_OID = 18;
const TEXT_OID = 25;
function charAsText(result) {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const field of r?.fields ?? []) if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
  }
  return result;
}
class CharAsTextClient extends pg.Client {
  query(config, values, callback) {
    const cb = typeof values === 'function' ? values : callback;
    if (typeof cb === 'function') {
      const wrapped = (err, res) => cb(err, err ? res : charAsText(res));
      return typeof values === 'function' ? super.query(config, wrapped) : super.query(config, values, wrapped);
    }
    const ret = super.query(config, values);
    return typeof ret?.then === 'function' ? ret.then(charAsText) : ret;
  }
}

// Bug 4: adapter-pg's executeScript splits the script on every `;` (breaking `';'` literals and `$$` bodies) and
// runs the pieces one by one (a failure leaves a half-applied migration). Send the script as one simple query
// instead: PostgreSQL runs it as one implicit transaction, like the native engine does.
function wholeScriptPg(adapter) {
  adapter.executeScript = async (script) => {
    try {
      await adapter.underlyingDriver().query(script);
    } catch (error) {
      adapter.onError(error); // rethrows as the adapter's DriverAdapterError (keeps Prisma's error mapping)
    }
  };
  return adapter;
}

function quoteIdent(name) {
  return `"${name.replaceAll('"', '""')}"`;
}

export function postgresFactory({ config, schema }) {
  const options = schema ? { schema } : undefined;
  const main = new PrismaPg(config, options);
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: async () => wholeScriptPg(await main.connect()),
    // Replaces adapter-pg's connectToShadowDb (bugs 2 and 3): a scratch database on the same server, reached with
    // separate connection fields, and dropped only after its own pool is closed (adapter-pg drops it first, which
    // fails with "database is being accessed by other users" and leaks the database).
    async connectToShadowDb() {
      const admin = wholeScriptPg(await main.connect());
      const database = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID()}`;
      await admin.executeScript(`CREATE DATABASE ${quoteIdent(database)}`);
      const shadow = wholeScriptPg(await new PrismaPg({ ...config, database }, options).connect());
      const closeShadow = shadow.dispose.bind(shadow);
      shadow.dispose = async () => {
        await closeShadow();
        try {
          await admin.executeScript(`DROP DATABASE IF EXISTS ${quoteIdent(database)}`);
        } finally {
          await admin.dispose();
        }
      };
      return shadow;
    },
  };
}

// Bug 5: pglite-prisma-adapter 0.7.2's executeScript calls `client.exec(script)` without awaiting it, so a failing
// migration resolves successfully and is recorded as applied. Await it. PGlite's exec is one simple query too.
function awaitedScriptPglite(adapter, client) {
  adapter.executeScript = async (script) => {
    try {
      await client.exec(script);
    } catch (error) {
      adapter.onError(error);
    }
  };
  return adapter;
}

export async function pgliteFactory({ dir }) {
  // Loaded only when needed: PGlite is heavy and the postgres path does not need it.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PrismaPGlite } = await import('pglite-prisma-adapter');
  const release = await lockDataDir(dir);
  const opened = []; // every PGlite we open, closed by `close()` so data reaches the disk cleanly
  const open = async (dataDir) => {
    const db = await PGlite.create(dataDir);
    opened.push(db);
    return db;
  };
  const main = await open(dir);
  const mainFactory = new PrismaPGlite(main);
  return {
    provider: mainFactory.provider,
    adapterName: mainFactory.adapterName,
    connect: async () => awaitedScriptPglite(await mainFactory.connect(), main),
    // A fresh in-memory database, closed on dispose (the stock one reuses the `memory://shadow` name and is never
    // closed). PGlite has no CREATE DATABASE across instances, so a shadow database is a second instance.
    async connectToShadowDb() {
      const db = await open(undefined);
      const adapter = awaitedScriptPglite(await new PrismaPGlite(db).connect(), db);
      adapter.dispose = async () => {
        opened.splice(opened.indexOf(db), 1);
        await db.close();
      };
      return adapter;
    },
    async close() {
      for (const db of opened.splice(0)) await db.close().catch(() => {});
      release();
    },
  };
}

// PGlite is one process per data directory: two processes on one directory both start and corrupt each other's
// view. Hold `<dir>/.lock` (holding our pid; the server's src/db/directory-lock.ts uses the same file, so the server
// and migrations exclude each other) while the directory is open. Wait a little for a previous holder (the CLI kills
// its engine right after use, so the previous engine may still be closing), then refuse clearly.
export async function lockDataDir(dir, waitMs = 15_000) {
  const lockPath = path.join(dir, '.lock');
  fs.mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      let held = true;
      const release = () => {
        if (held) fs.rmSync(lockPath, { force: true });
        held = false;
      };
      process.once('exit', release);
      return release;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const content = readOrEmpty(lockPath);
    const holder = Number(content);
    // An empty file is a lock being taken (created, pid not written yet): give it the same wait as a live holder.
    if (content ? !isAlive(holder) : Date.now() > deadline) {
      fs.rmSync(lockPath, { force: true }); // stale: its process is gone
      continue;
    }
    if (Date.now() > deadline) {
      throw Object.assign(new Error(`The PGlite data directory ${dir} is in use by process ${holder} (lock file ${lockPath}). Stop that process first.`), {
        code: 'P1001',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function readOrEmpty(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return ''; // released meanwhile
  }
}

function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}
