// Real servers for tests: createApp on port 0, with a temporary DATA_DIR unless the test passes one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createApp, type App } from '../../src/app.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { loadConfig, type Config, type Env } from '../../src/config.ts';
import { DATABASE_URL } from './env.ts';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  config: Config;
  close(): Promise<void>;
}

export type Backend = 'postgres' | 'pglite';

/** PostgreSQL when DATABASE_URL is set, else PGlite. */
export const defaultBackend: Backend = DATABASE_URL ? 'postgres' : 'pglite';

export async function tempDir(prefix = 'rt-test-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

/** A logger whose records (warn and above) a test can read, e.g. to assert that nothing was logged as an error. */
export function captureLogs(): { logger: Logger; records: { level: number; msg: string }[] } {
  const records: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void records.push(JSON.parse(line)) });
  return { logger, records };
}

/** pino's number for the error level: records at or above it are errors. */
export const ERROR_LEVEL = 50;

export async function startServer(options: { backend?: Backend; dataDir?: string; env?: Env; logger?: Logger } = {}): Promise<TestServer> {
  const backend = options.backend ?? defaultBackend;
  const ownDir = options.dataDir ? undefined : await tempDir();
  const config = loadConfig({
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: options.dataDir ?? ownDir,
    DATABASE_URL: backend === 'postgres' ? DATABASE_URL : undefined,
    // Generous defaults so that only tests about limits meet them.
    RATE_LIMIT_MESSAGES_PER_MIN: '100000',
    RATE_LIMIT_TYPING_PER_MIN: '100000',
    RATE_LIMIT_AUTH_PER_MIN: '0',
    RATE_LIMIT_CONNECTIONS_PER_MIN: '0',
    RATE_LIMIT_GRAPHQL_PER_MIN: '0',
    // A loaded CI machine can delay Redis answers past the production default; only the hanging-Redis test wants it short.
    REDIS_COMMAND_TIMEOUT_MS: '5000',
    ...options.env,
  });
  const app = await createApp(config, { logger: options.logger });
  const url = await app.listen(0, '127.0.0.1');
  return {
    app,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    config,
    async close() {
      await app.close();
      if (ownDir) await rm(ownDir, { recursive: true, force: true });
    },
  };
}
