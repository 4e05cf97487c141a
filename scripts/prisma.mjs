#!/usr/bin/env node
// Runs the stock Prisma CLI with the WebAssembly schema engine standing in for the native binary, which
// Prisma downloads on first use: that download is impossible in air-gapped networks (and on our CI machines).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const engine = fileURLToPath(new URL('./schema-engine.mjs', import.meta.url));
const cli = require.resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { PRISMA_SCHEMA_ENGINE_BINARY: engine, PRISMA_HIDE_UPDATE_MESSAGE: '1', ...process.env },
});
process.exit(result.status ?? 1);
