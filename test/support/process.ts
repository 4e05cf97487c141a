// A server in a process of its own (src/main.ts), for tests that kill an instance outright (SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process';
import { TEST_SECRET, tempDir } from './server.ts';
import { DATABASE_URL } from './env.ts';
import { withTimeout } from './graphql.ts';

export async function startProcess(env: Record<string, string>): Promise<{ process: ChildProcess; url: string; wsUrl: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    // As startServer: a loaded machine must not turn shared state into local state by a slow Redis answer.
    env: {
      ...process.env,
      REDIS_COMMAND_TIMEOUT_MS: '5000',
      ...env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: await tempDir(),
      JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: 'info',
      DATABASE_URL: DATABASE_URL!,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter(Boolean)) {
          const entry = JSON.parse(line);
          if (entry.msg === 'listening') resolve(entry.url);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
    }),
    60_000,
    'server start',
  );
  return { process: child, url, wsUrl: url.replace(/^http/, 'ws') };
}
