// /metrics moves as events flow: connections, messages, deliveries, auth failures, rate limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs, startServer, type TestServer } from './support/server.ts';
import { connectGraphQLWs, gql, gqlOk, registerUser } from './support/graphql.ts';
import * as op from './support/operations.ts';
import { scrape } from './support/metrics.ts';
import { connectJsonSocket } from './support/json-socket.ts';

describe('/metrics', () => {
  let server: TestServer;
  const logs = captureLogs();
  beforeAll(async () => {
    server = await startServer({ env: { RATE_LIMIT_TYPING_PER_MIN: '1' }, logger: logs.logger });
  });
  afterAll(async () => server?.close());

  it('exposes the known series at zero before any traffic, so dashboards and alerts see them from start-up', async () => {
    // A server of its own: nothing has happened on it yet.
    const fresh = await startServer();
    try {
      const text = await (await fetch(`${fresh.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      const series = (name: string, labels: string) => expect(text, `${name}{${labels}}`).toContain(`${name}{${labels}} 0\n`);
      for (const transport of ['graphql-ws', 'json-ws', 'sse']) series('rt_active_connections', `transport="${transport}"`);
      for (const type of [
        'message:new',
        'message:seen',
        'message:typing',
        'message:unread_count',
        'notification:new',
        'notification:seen',
        'notification:unseen_count',
      ]) {
        series('rt_events_delivered_total', `transport="json-ws",type="${type}"`);
      }
      for (const type of [
        'userEvents',
        'messageNew',
        'messageSeen',
        'typing',
        'unreadMessageCount',
        'notificationNew',
        'notificationSeen',
        'unseenCount',
        'error',
      ]) {
        series('rt_events_delivered_total', `transport="graphql-ws",type="${type}"`);
      }
      for (const reason of [
        'idle',
        'unauthorized',
        'token_expired',
        'pong_timeout',
        'rate_limit',
        'internal_error',
        'slow_consumer',
        'frame_too_large',
        'protocol_error',
        'abnormal',
        'origin',
      ]) {
        series('rt_connection_errors_total', `transport="json-ws",reason="${reason}"`);
      }
      for (const reason of ['slow_consumer', 'token_expired', 'origin']) series('rt_connection_errors_total', `transport="graphql-ws",reason="${reason}"`);
      for (const transport of ['graphql-ws', 'json-ws', 'sse']) series('rt_delivery_latency_seconds_count', `transport="${transport}"`);
    } finally {
      await fresh.close();
    }
  });

  it('times deliveries from commit to write on graphql-ws and the JSON socket', async () => {
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const before = await scrape(server.url);
    const socket = await connectGraphQLWs(server.wsUrl, { token: bob.token });
    const json = await connectJsonSocket(server.wsUrl, bob);
    try {
      const inbox = await socket.subscribe(op.SUB_MESSAGE_NEW);
      await gqlOk(server.url, op.SEND, { to: bob.id, c: 'timed' }, alice.token);
      await inbox.next();
      await json.next('message:new');
      const after = await scrape(server.url);
      for (const transport of ['graphql-ws', 'json-ws']) {
        const delivered = after('rt_delivery_latency_seconds_count', { transport }) - before('rt_delivery_latency_seconds_count', { transport });
        expect(delivered, transport).toBe(1);
      }
    } finally {
      await Promise.all([socket.close(), json.close()]);
    }
  });

  it('counts connections, messages, deliveries, auth failures and rate limits, and logs each refusal by a limit', async () => {
    const before = await scrape(server.url);
    expect(before('process_resident_memory_bytes')).toBeGreaterThan(0);
    const [alice, bob] = await Promise.all([registerUser(server.url), registerUser(server.url)]);
    const socket = await connectGraphQLWs(server.wsUrl, { token: bob.token });
    const inbox = await socket.subscribe(op.SUB_MESSAGE_NEW);
    await gqlOk(server.url, op.SEND, { to: bob.id, c: 'counted' }, alice.token);
    await inbox.next();
    await gql(server.url, '{ me { id } }', {}, 'not-a-token');
    await gql(server.url, op.SET_TYPING, { w: bob.id, t: true }, alice.token);
    await gql(server.url, op.SET_TYPING, { w: bob.id, t: true }, alice.token);

    const after = await scrape(server.url);
    expect(after('rt_active_connections', { transport: 'graphql-ws' })).toBe(1);
    expect(after('rt_messages_sent_total') - before('rt_messages_sent_total')).toBe(1);
    expect(after('rt_events_delivered_total', { transport: 'graphql-ws', type: 'messageNew' })).toBeGreaterThanOrEqual(1);
    expect(after('rt_auth_failures_total', { reason: 'invalid' }) - before('rt_auth_failures_total', { reason: 'invalid' })).toBe(1);
    expect(after('rt_rate_limited_total', { kind: 'typing' })).toBe(1);
    expect(logs.records.filter((r) => r.msg === 'rate limit exceeded')).toEqual([expect.objectContaining({ level: 40, kind: 'typing', key: alice.id })]);

    await socket.close();
    // The close is seen by the server shortly after the client's; scrape until it is (bounded).
    for (let i = 0; i < 50 && (await scrape(server.url))('rt_active_connections', { transport: 'graphql-ws' }) !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await scrape(server.url))('rt_active_connections', { transport: 'graphql-ws' })).toBe(0);
  });
});
