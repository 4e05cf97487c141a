// SIGTERM: the process stops accepting, closes every socket with 1012 so clients reconnect elsewhere, and exits 0
// well within the shutdown timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_URL } from './support/env.ts';
import { TEST_SECRET, tempDir } from './support/server.ts';
import { connectGraphQLWs, registerUser, withTimeout } from './support/graphql.ts';

/** Runs `npm start` (so the signal goes through npm, as it does in production) and resolves once it listens. */
async function startProcess(dataDir: string): Promise<{ child: ChildProcess; url: string; logs: string[] }> {
  const child = spawn('npm', ['start', '--silent'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'info', DATABASE_URL: DATABASE_URL ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true, // its own process group, so a failed test can end npm and the server together
  });
  started.push(child);
  const logs: string[] = [];
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter(Boolean)) {
          logs.push(line);
          const entry = JSON.parse(line);
          if (entry.msg === 'listening') resolve(entry.url);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
    }),
    60_000,
    'server start',
  );
  return { child, url, logs };
}

const started: ChildProcess[] = [];

describe('graceful shutdown', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const child of started) if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('closes graphql-ws and JSON sockets with 1012, ends SSE streams and exits 0 on SIGTERM', { timeout: 90_000 }, async () => {
    const dataDir = await tempDir();
    dirs.push(dataDir);
    const { child, url, logs } = await startProcess(dataDir);
    const wsUrl = url.replace(/^http/, 'ws');
    const alice = await registerUser(url);

    const graphql = await connectGraphQLWs(wsUrl, { token: alice.token });
    const graphqlClosed = new Promise<number>((resolve) => graphql.client.on('closed', (event) => resolve((event as { code: number }).code)));
    const json = new WebSocket(`${wsUrl}/api/v1/ws?token=${alice.token}`);
    const jsonClosed = new Promise<number>((resolve) => json.once('close', (code) => resolve(code)));
    await withTimeout(new Promise((resolve) => json.once('message', resolve)), 5000, 'JSON socket connected frame');

    // GraphiQL's kind of subscription: a server-sent event stream, open until the server ends it.
    const sse = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ query: 'subscription { unseenCount }' }),
    });
    const sseEnded = sse.body!.pipeTo(new WritableStream()).then(
      () => 'ended',
      () => 'ended',
    );

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const started = Date.now();
    child.kill('SIGTERM');
    expect(await withTimeout(graphqlClosed, 10_000, 'graphql-ws close')).toBe(1012);
    expect(await withTimeout(jsonClosed, 10_000, 'JSON socket close')).toBe(1012);
    expect(await withTimeout(sseEnded, 10_000, 'SSE stream end')).toBe('ended');
    expect(await withTimeout(exited, 12_000, 'process exit')).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(logs.map((l) => JSON.parse(l).msg)).toContain('stopped');
  });
});
