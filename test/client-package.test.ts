// client/ as a JavaScript package: what `npm run client:build` emits runs in plain Node (no TypeScript loader), with
// the ws package as its WebSocket, against a real server.
import { spawn, execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registerUser, withTimeout } from './support/graphql.ts';
import { startServer, tempDir, type TestServer } from './support/server.ts';

const require = createRequire(import.meta.url);
let server: TestServer;
let out: string;

beforeAll(async () => {
  server = await startServer();
  out = await tempDir('client-dist-');
  await promisify(execFile)(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'client', '--outDir', out]);
});
afterAll(async () => {
  await server.close();
  await rm(out, { recursive: true, force: true });
});

it('compiles to JavaScript that connects and receives in plain Node 20 with ws', async () => {
  const alice = await registerUser(server.url, 'alice');
  const bob = await registerUser(server.url, 'bob');
  const script = `
    import WebSocket from 'ws';
    import { connect } from ${JSON.stringify(pathToFileURL(path.join(out, 'index.js')).href)};
    const [url, token] = process.argv.slice(1);
    const client = connect({ url, getToken: () => token, WebSocket });
    client.on('state', (state) => console.log('state ' + state));
    client.on('message:new', (m) => { console.log('message ' + m.content); client.close(); });
  `;
  // Run from the repository, where `ws` resolves.
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, server.url, alice.token], { cwd: process.cwd() });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const opened = new Promise<void>((resolve) =>
    child.stdout.on('data', (chunk: Buffer) => {
      lines.push(...chunk.toString().trim().split('\n'));
      if (lines.includes('state open')) resolve();
    }),
  );
  try {
    await withTimeout(opened, 10_000, `the client to open (stderr: ${stderr})`);
    await fetch(`${server.url}/api/v1/messages/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ receiverId: alice.id, content: 'hello plain node' }),
    });
    expect(await withTimeout(exited, 10_000, 'the client to exit after the message')).toBe(0);
    expect(lines).toEqual(['state open', 'message hello plain node', 'state offline']);
  } finally {
    child.kill();
  }
});
