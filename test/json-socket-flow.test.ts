// The JSON socket's connection flow and registry against a scripted domain, over real sockets: the races that a
// real database makes rare (a message published between the queue read and the flush) happen here every time.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBus, type Bus } from '../src/events/bus.ts';
import type { MessageView, UserEvent } from '../src/events/user-event.ts';
import type { Domain } from '../src/domain/index.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { createJsonSocketTransport, type JsonSocketTransport } from '../src/transports/json-socket/index.ts';
import { ConnectionRegistry, type RegisteredConnection } from '../src/transports/json-socket/registry.ts';
import type { EncodedEvent } from '../src/transports/json-socket/frames.ts';
import { connectJsonSocket, type JsonSocket } from './support/json-socket.ts';

const USER = { id: 7, token: 'scripted' };
const logger = createLogger('silent');
const message = (id: number): MessageView => ({ id, senderId: 1, receiverId: USER.id, content: `m${id}`, createdAt: new Date().toISOString(), seen: false, seenAt: null });
const messageNew = (id: number): UserEvent => ({ kind: 'messageNew', message: message(id) });

/** Just enough domain for the connection flow; `undelivered` is the script's hook into the queue read. */
interface Script {
  undelivered: (page: { afterId?: number; limit?: number }) => Promise<MessageView[]>;
  delivered: number[];
}

describe('JSON socket connection flow (scripted domain)', () => {
  const bus: Bus = createBus({ logger, metrics: createMetrics() });
  let script: Script;
  let transport: JsonSocketTransport;
  let server: Server;
  let wsUrl: string;
  const sockets: JsonSocket[] = [];
  const connect = async () => {
    const socket = await connectJsonSocket(wsUrl, USER);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    const domain = {
      counts: async () => ({ unread: 0, unseen: 0 }),
      accounts: { authenticateSocket: async () => ({ userId: USER.id, exp: Math.floor(Date.now() / 1000) + 3600 }) },
      messages: {
        unreadCount: async () => 0,
        undelivered: (_userId: number, page: { afterId?: number; limit?: number }) => script.undelivered(page),
        markDelivered: async (id: number) => void script.delivered.push(id),
      },
      notifications: { unseenCount: async () => 0 },
    } as unknown as Domain;
    transport = createJsonSocketTransport({
      domain,
      bus,
      logger,
      metrics: createMetrics(),
      ws: { pingIntervalMs: 60_000, pongTimeoutMs: 60_000, idleTimeoutMs: 0, maxBufferedBytes: 1 << 20 },
      maxPayloadBytes: 65536,
    });
    server = createServer();
    server.on('upgrade', (req, socket, head) => transport.wss.handleUpgrade(req, socket, head, (ws) => transport.wss.emit('connection', ws, req)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    wsUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    transport.close();
    await new Promise((resolve) => server.close(resolve));
    await bus.close();
  });

  it('holds live events during the queue, drops live copies of queued messages, marks each written message delivered', async () => {
    script = {
      delivered: [],
      async undelivered() {
        // Published after the subscription and before the queue is written: 2 is also in the queue, 3 is not.
        bus.publish(USER.id, messageNew(2));
        bus.publish(USER.id, messageNew(3));
        bus.publish(USER.id, { kind: 'unreadMessageCount', count: 3 });
        return [message(1), message(2)];
      },
    };
    const socket = await connect();
    const next = async () => {
      const frame = await socket.next();
      return frame.type === 'message:new' ? frame.data.id : `${frame.type} ${frame.data.count}`;
    };
    expect([await next(), await next(), await next(), await next()]).toEqual([1, 2, 3, 'message:unread_count 3']);
    // A late live copy of a queued message (another instance, a slow relay) is dropped too.
    bus.publish(USER.id, messageNew(2));
    bus.publish(USER.id, messageNew(4));
    expect(await next()).toBe(4);
    await expect.poll(() => [...script.delivered].sort()).toEqual([1, 2, 3, 4]);
  });

  it('pages through a long queue by id', async () => {
    const pages: ({ afterId?: number; limit?: number } | undefined)[] = [];
    const all = Array.from({ length: 1200 }, (_, i) => message(i + 1));
    script = {
      delivered: [],
      async undelivered(page) {
        pages.push(page);
        const rest = all.filter((m) => m.id > (page.afterId ?? 0));
        return rest.slice(0, page.limit);
      },
    };
    const socket = await connect();
    for (const m of all) expect((await socket.next('message:new')).data.id).toBe(m.id);
    expect(pages.map((p) => p?.afterId ?? 0)).toEqual([0, 500, 1000]);
  });

  it('subscribes once per user however many devices, and leaves no connection behind on any close', async () => {
    script = { delivered: [], undelivered: async () => [] };
    const devices = await Promise.all([connect(), connect(), connect()]);
    expect(transport.registry.stats()).toEqual({ users: 1, connections: 3 });
    bus.publish(USER.id, { kind: 'unseenCount', count: 9 });
    for (const device of devices) expect((await device.next('notification:unseen_count')).data.count).toBe(9);

    devices[0]!.ws.terminate();
    await devices[0]!.closed;
    await devices[1]!.close();
    await expect.poll(() => transport.registry.stats()).toEqual({ users: 1, connections: 1 });
    await devices[2]!.close();
    await expect.poll(() => transport.registry.stats()).toEqual({ users: 0, connections: 0 });
  });
});

describe('ConnectionRegistry', () => {
  function countingBus() {
    const listeners = new Map<number, Set<(event: UserEvent) => void>>();
    let subscribes = 0;
    let release: () => void = () => undefined;
    let gate: Promise<void> = Promise.resolve();
    const bus = {
      publish: (userId: number, event: UserEvent) => listeners.get(userId)?.forEach((l) => l(event)),
      async subscribe(userId: number, listener: (event: UserEvent) => void) {
        subscribes++;
        const set = listeners.get(userId) ?? new Set();
        listeners.set(userId, set.add(listener));
        await gate;
        return () => set.delete(listener);
      },
    } as unknown as Bus;
    return {
      bus,
      subscribes: () => subscribes,
      listening: (userId: number) => listeners.get(userId)?.size ?? 0,
      /** Holds the next subscriptions until the returned function is called. */
      hold() {
        gate = new Promise((resolve) => (release = resolve));
        return () => release();
      },
    };
  }
  const fake = (userId: number) => {
    const got: EncodedEvent[] = [];
    return { userId, got, deliver: (e: EncodedEvent) => void got.push(e) } satisfies RegisteredConnection & { got: EncodedEvent[] };
  };

  it('fans one subscription out to every connection of the user with one encoding per event', async () => {
    const b = countingBus();
    const registry = new ConnectionRegistry(b.bus, logger);
    const [a1, a2, other] = [fake(1), fake(1), fake(2)];
    await Promise.all([registry.add(a1), registry.add(a2), registry.add(other)]);
    expect(b.subscribes()).toBe(2);
    b.bus.publish(1, { kind: 'unreadMessageCount', count: 1 });
    expect(a1.got).toHaveLength(1);
    expect(a2.got[0]).toBe(a1.got[0]);
    expect(a1.got[0]!.json).toBe('{"type":"message:unread_count","data":{"count":1}}');
    expect(other.got).toHaveLength(0);

    registry.remove(a1);
    registry.remove(a1); // idempotent
    expect(b.listening(1)).toBe(1);
    registry.remove(a2);
    await Promise.resolve();
    expect(b.listening(1)).toBe(0);
    expect(registry.stats()).toEqual({ users: 1, connections: 1 });
  });

  it('ends a subscription that was still on its way when the last connection left', async () => {
    const b = countingBus();
    const registry = new ConnectionRegistry(b.bus, logger);
    const release = b.hold();
    const connection = fake(1);
    const added = registry.add(connection);
    registry.remove(connection);
    expect(registry.stats()).toEqual({ users: 0, connections: 0 });
    release();
    await added;
    await Promise.resolve();
    expect(b.listening(1)).toBe(0);
  });
});
