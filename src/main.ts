// The only module with side effects: configuration -> app -> listen -> drain on SIGTERM/SIGINT.
import { ConfigError, loadConfig } from './config.ts';
import { createApp } from './app.ts';
import { DirectoryLockedError } from './db/directory-lock.ts';
import { MigrationError } from './db/migrate.ts';

async function main() {
  const config = loadConfig();
  const app = await createApp(config);
  const url = await app.listen();
  app.logger.info(
    {
      url,
      graphiql: `${url}/graphql`,
      database: config.databaseUrl ? 'postgresql' : 'pglite',
      redis: config.redis ? ('url' in config.redis ? 'server' : 'cluster') : false,
    },
    'listening',
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      app.logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 2000).unref();
    try {
      await app.close();
      clearTimeout(deadline);
      app.logger.info('stopped');
      process.exit(0);
    } catch (err) {
      app.logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  // Expected start-up failures get one clear line; anything else its stack.
  if (err instanceof ConfigError || err instanceof DirectoryLockedError || err instanceof MigrationError) console.error(`Cannot start: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
