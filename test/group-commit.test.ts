// Group commit (issue #10): sends of one event-loop turn are stored by one statement, yet each caller gets its own
// row or its own error, positions stay gap-free and in order per receiver, and the counts are exact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './support/server.ts';
import { registerUser } from './support/graphql.ts';
import { connectJsonSocket } from './support/json-socket.ts';

describe('group commit of sends', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('stores one turn of sends in one statement; a bad receiver or a repeated clientMessageId fails or dedupes only its own send', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(server.url), registerUser(server.url), registerUser(server.url)]);
    const [bobSocket, carolSocket] = await Promise.all([connectJsonSocket(server.wsUrl, bob), connectJsonSocket(server.wsUrl, carol)]);
    const { messages } = server.app.domain;
    // All in one turn: nothing awaits between the calls.
    const results = await Promise.allSettled([
      messages.send(alice.id, bob.id, 'b1'),
      messages.send(alice.id, carol.id, 'c1', 'same'),
      messages.send(alice.id, 2_000_000_000, 'to no one'),
      messages.send(alice.id, bob.id, 'b2'),
      messages.send(alice.id, carol.id, 'c1 again', 'same'),
      messages.send(carol.id, bob.id, 'b3'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'NOT_FOUND' });
    const [b1, c1, , b2, c1Again, b3] = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    expect(c1Again).toEqual(c1);

    // Bob's three messages arrive in the order they were sent, each with its own position and the exact count.
    const frames = [];
    for (let i = 0; i < 6; i++) frames.push(await bobSocket.next());
    expect(frames.map((f) => (f.type === 'message:new' ? f.data.id : f.data.count))).toEqual([b1!.id, 1, b2!.id, 2, b3!.id, 3]);
    expect(new Set(bobSocket.cursors.slice(-6)).size).toBe(3);
    expect((await carolSocket.next('message:new')).data.id).toBe(c1!.id);
    expect((await carolSocket.next('message:unread_count')).data.count).toBe(1);
  });

  it('stores a clean turn of sends with one statement: they share its timestamp', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => server.app.domain.messages.send(alice.id, bob.id, `m${i}`)));
    expect(new Set(sent.map((m) => m.createdAt)).size).toBe(1);
    expect(sent.map((m) => m.id)).toEqual([...sent.map((m) => m.id)].sort((a, b) => a - b));
  });
});
