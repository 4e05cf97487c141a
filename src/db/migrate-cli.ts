// `npm run db:migrate`: applies the committed migrations to the configured database, then exits.
import { loadConfig } from '../config.ts';
import { openDatabase } from './database.ts';
import { createLogger } from '../observability/logger.ts';

const config = loadConfig();
const db = await openDatabase({
  databaseUrl: config.databaseUrl,
  databaseDirectUrl: config.databaseDirectUrl,
  dataDir: config.dataDir,
  logger: createLogger(config.logLevel),
});
await db.close();
console.log('database is up to date');
