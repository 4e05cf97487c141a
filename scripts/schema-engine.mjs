#!/usr/bin/env node
// Stand-in for Prisma's native schema engine binary, which the CLI downloads on first use (impossible offline).
// scripts/prisma.mjs points PRISMA_SCHEMA_ENGINE_BINARY here. The CLI spawns us as
//   schema-engine --datamodels <file>... --datasource <json>      line-delimited JSON-RPC 2.0 over stdio
//   schema-engine --datasource <json> cli <command>                one-shot: can-connect-to-database, create-database,
//                                                                  drop-database
//   schema-engine --version
// and we forward each RPC method to the same engine compiled to WebAssembly (@prisma/schema-engine-wasm), bound to
// a driver adapter: @prisma/adapter-pg for postgres URLs, PGlite for `pglite:<dir>`. See docs/prisma-wasm-engine.md.
import fs from 'node:fs';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { describeUrl, postgresFactory, pgliteFactory, lockDataDir } from './schema-engine-adapters.mjs';

const require = createRequire(import.meta.url);
let lastPanic; // message of the last Rust panic inside the wasm engine

// Load the wasm engine by hand: its main entry imports the `.wasm` file as an ES module, which Node 20 only
// allows behind a flag.
async function loadWasm() {
  // A Rust panic hands its message to this global before the wasm traps (RuntimeError: unreachable); without it
  // the panic hook itself throws and the message is lost.
  globalThis.PRISMA_WASM_PANIC_REGISTRY ??= { set_message: (message) => (lastPanic = message) };
  const bg = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const wasmFile = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/\.js$/, '.wasm');
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmFile), { './schema_engine_bg.js': bg });
  bg.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  return bg;
}

const { values: args, positionals } = parseArgs({
  options: {
    datamodels: { type: 'string', multiple: true, default: [] },
    datasource: { type: 'string' },
    version: { type: 'boolean', short: 'V' },
    'enabled-preview-features': { type: 'string' },
    'extension-types': { type: 'string' },
  },
  allowPositionals: true,
  strict: false,
});
const datasource = args.datasource ? JSON.parse(args.datasource) : undefined;

if (args.version) {
  const bg = await loadWasm();
  console.log(`schema-engine-cli ${bg.version()} (wasm)`);
} else if (positionals[0] === 'cli') {
  await oneShot(positionals[1]);
} else {
  await serveRpc();
}

// ---------------------------------------------------------------------------------------------------------------
// One-shot commands. The CLI reads errors from stderr: it skips the first line, then expects JSON log lines, and
// takes the ERROR line of target `schema_engine::logger` as `<error_code>: <message>` (P1003 = "database does not
// exist", which makes `migrate dev` run create-database).

async function oneShot(command) {
  log('INFO', `schema engine shim: ${command}`);
  try {
    const target = describeUrl(datasource?.url ?? '');
    const run = { 'can-connect-to-database': canConnect, 'create-database': createDatabase, 'drop-database': dropDatabase }[command];
    if (!run) throw new Error(`Unknown command: cli ${command}`);
    await run(target);
    process.exit(0);
  } catch (error) {
    log('ERROR', error.message, { error_code: error.code?.startsWith?.('P') ? error.code : undefined, target: 'schema_engine::logger' });
    process.exit(1);
  }
}

async function withPgClient({ config }, database, fn) {
  const { Client: _, ...fields } = config;
  const client = new (await import('pg')).default.Client({ ...fields, database });
  try {
    await client.connect();
    return await fn(client);
  } catch (error) {
    throw pgError(error, fields, database);
  } finally {
    await client.end().catch(() => {});
  }
}

// The same user-facing codes and messages as the native engine for the errors the CLI acts on.
function pgError(error, { host = 'localhost', port = 5432, user }, database) {
  if (error.code?.startsWith?.('P')) return error;
  const at = `${host}:${port}`;
  const known = {
    '3D000': ['P1003', `Database \`${database}\` does not exist on the database server at \`${at}\`.`],
    '28P01': ['P1000', `Authentication failed against database server at \`${host}\`, the provided database credentials for \`${user}\` are not valid.`],
    28000: ['P1000', `Authentication failed against database server at \`${host}\`, the provided database credentials for \`${user}\` are not valid.`],
    '42P04': ['P1009', `Database \`${database}\` already exists on the database server at \`${at}\``],
    ECONNREFUSED: ['P1001', `Can't reach database server at \`${at}\``],
    ENOTFOUND: ['P1001', `Can't reach database server at \`${at}\``],
    ETIMEDOUT: ['P1002', `The database server at \`${at}\` was reached but timed out.`],
  }[error.code];
  return known ? Object.assign(new Error(known[1]), { code: known[0] }) : error;
}

async function canConnect(target) {
  // PGlite creates its directory on first open; opening it here would cost seconds for nothing.
  if (target.kind === 'pglite') return;
  await withPgClient(target, target.config.database, (c) => c.query('SELECT 1'));
}

async function createDatabase(target) {
  if (target.kind === 'pglite') return void fs.mkdirSync(target.dir, { recursive: true });
  const name = target.config.database;
  await withPgClient(target, 'postgres', (c) => c.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`));
}

async function dropDatabase(target) {
  if (target.kind === 'pglite') {
    const release = await lockDataDir(target.dir);
    fs.rmSync(target.dir, { recursive: true, force: true });
    return release();
  }
  const name = target.config.database;
  await withPgClient(target, 'postgres', (c) => c.query(`DROP DATABASE "${name.replaceAll('"', '""')}"`));
}

// ---------------------------------------------------------------------------------------------------------------
// JSON-RPC server.

async function serveRpc() {
  const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
  let factory; // kept to close PGlite cleanly at the end
  let shuttingDown = false;

  // Built on the first request rather than at start-up, so that a failure (database unreachable, PGlite directory
  // locked) is answered as that request's error, which the CLI shows to the user.
  let enginePromise;
  const engine = () =>
    (enginePromise ??= (async () => {
      const bg = await loadWasm();
      const { bindMigrationAwareSqlAdapterFactory } = await import('@prisma/driver-adapter-utils');
      const target = datasource?.url ? describeUrl(datasource.url) : undefined;
      factory = !target
        ? (await import('@prisma/driver-adapter-utils')).mockMigrationAwareAdapterFactory('postgres')
        : target.kind === 'pglite'
          ? await pgliteFactory(target)
          : postgresFactory(target);
      if (datasource?.shadowDatabaseUrl) {
        log('WARN', 'shadowDatabaseUrl is ignored by the wasm schema engine shim: it creates a temporary shadow database itself.');
      }
      // No --datamodels (e.g. `migrate diff --from-empty`) must be `undefined`: an empty list panics in the engine.
      const files = args.datamodels.map((file) => [file, fs.readFileSync(file, 'utf8')]);
      const datamodels = files.length ? files : undefined;
      return bg.SchemaEngine.new({ datamodels }, (line) => process.stderr.write(`${line.trimEnd()}\n`), bindMigrationAwareSqlAdapterFactory(factory));
    })());

  // Requests we send to the CLI (only `print`), by id.
  const pending = new Map();
  let nextId = 1;
  const request = (method, params) =>
    new Promise((resolve, reject) => {
      const id = `shim-${nextId++}`;
      pending.set(id, { resolve, reject });
      send({ jsonrpc: '2.0', id, method, params });
    });

  // Methods whose wasm counterpart differs from the native engine's RPC.
  const special = {
    // The native engine prints the diff itself through a `print` request to the CLI, and answers only the exit code;
    // the wasm engine returns the text instead.
    async diff(e, params) {
      const { exitCode, stdout } = await e.diff(params);
      if (stdout) await request('print', { content: stdout });
      return { exitCode };
    },
    // evaluateDataLoss and createMigration need the schema that the migrations folder produces. The wasm engine
    // takes it from a per-process cache that diagnoseMigrationHistory/devDiagnostic fill when the database is in
    // sync (they replay the migrations on a shadow database from our factory); computing it directly fails with
    // "shadow DB must be provided through an external factory". `migrate dev` on a database that had pending
    // migrations reaches evaluateDataLoss with that cache empty, so fill it and retry once.
    evaluateDataLoss: (e, params) => withMigrationsSchema(e, params, () => e.evaluateDataLoss(params)),
    createMigration: (e, params) => withMigrationsSchema(e, params, () => e.createMigration(params)),
    // Removed from the wasm engine under this name.
    getDatabaseVersion: (e, params) => e.version(params),
  };

  async function withMigrationsSchema(e, { migrationsList, filters }, call) {
    try {
      return await call();
    } catch (error) {
      if (!/shadow DB must be provided through an external factory/.test(error?.message)) throw error;
      await e.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: true, filters });
      return call();
    }
  }

  let current; // id of the request in hand
  async function handle({ id, method, params }) {
    current = id;
    try {
      const e = await engine();
      let result;
      if (special[method]) result = await special[method](e, params);
      else if (typeof e[method] === 'function' && method !== 'free') result = await e[method](params);
      else return send({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${method}` } });
      send({ jsonrpc: '2.0', id, result: result ?? {} });
    } catch (error) {
      send({ jsonrpc: '2.0', id, error: rpcError(error) });
      // A panic leaves the wasm instance unusable: exit like the native engine (code 101) once answered.
      if (error instanceof WebAssembly.RuntimeError) await shutdown(101);
    } finally {
      current = undefined;
    }
  }
  // Some panics trap inside a wasm callback and surface here rather than as the request's rejection.
  process.on('uncaughtException', async (error) => {
    if (current !== undefined) send({ jsonrpc: '2.0', id: current, error: rpcError(error) });
    else log('ERROR', String(error?.stack ?? error));
    await factory?.close?.().catch(() => {});
    process.exit(101);
  });

  async function shutdown(code = 0) {
    if (shuttingDown) return;
    shuttingDown = true;
    // Finish the request in hand, but do not hang on it (e.g. a `print` the gone CLI will never answer).
    await Promise.race([queue.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 10_000))]);
    await factory?.close?.();
    process.exit(code);
  }

  let queue = Promise.resolve(); // one request at a time, in order, like the native engine
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      return send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    }
    if (message.method) queue = queue.then(() => handle(message));
    else if (pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(message.error.message));
      else resolve(message.result);
    }
  });
  // The CLI ends stdin and then sends SIGTERM straight away: finish the work in hand and close PGlite on both.
  lines.on('close', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(130));
}

// The native engine's error shape, which the CLI unpacks: data.message, data.error_code (Prisma's P-codes),
// data.is_panic.
function rpcError(error) {
  const panic = error instanceof WebAssembly.RuntimeError;
  if (panic && lastPanic) error = new Error(lastPanic);
  // The wasm engine appends a span trace ("   0: schema_engine_wasm::...") that the native one keeps out.
  const message = String(error?.message ?? error)
    .replace(/\n\s*0: [\s\S]*$/, '')
    .trimEnd();
  return {
    code: 4466,
    message: panic ? message : 'An error happened. Check the data field for details.',
    data: { is_panic: panic, message, error_code: typeof error?.code === 'string' && error.code.startsWith('P') ? error.code : undefined, meta: {} },
  };
}

// Log lines in the native engine's JSON format (the CLI parses stderr).
function log(level, message, { target = 'schema_engine_shim', ...fields } = {}) {
  process.stderr.write(`${JSON.stringify({ timestamp: new Date().toISOString(), level, fields: { message, ...fields }, target })}\n`);
}
