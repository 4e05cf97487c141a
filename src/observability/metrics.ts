// Prometheus metrics. One registry per app value, so several apps in one process (tests) do not collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { UserEvent } from '../events/user-event.ts';

/** The transports that hold connections open: the `transport` label of the connection and delivery metrics. */
export type Transport = 'graphql-ws' | 'json-ws' | 'sse';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics = {
    registry,
    activeConnections: new Gauge({ name: 'rt_active_connections', help: 'Open sockets by transport', labelNames: ['transport'] as const, registers }),
    eventsDelivered: new Counter({
      name: 'rt_events_delivered_total',
      help: 'Events written to sockets',
      labelNames: ['transport', 'type'] as const,
      registers,
    }),
    onlineUsers: new Gauge({ name: 'rt_online_users', help: 'Users with at least one open connection on this instance', registers }),
    messagesSent: new Counter({ name: 'rt_messages_sent_total', help: 'Messages stored (any transport)', registers }),
    deliveryLatency: new Histogram({
      name: 'rt_delivery_latency_seconds',
      help: 'From commit to socket write, for messages and notifications',
      labelNames: ['transport'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    connectionErrors: new Counter({
      name: 'rt_connection_errors_total',
      help: 'Sockets closed by errors, limits or heartbeats',
      labelNames: ['transport', 'reason'] as const,
      registers,
    }),
    authFailures: new Counter({ name: 'rt_auth_failures_total', help: 'Rejected credentials', labelNames: ['reason'] as const, registers }),
    rateLimited: new Counter({ name: 'rt_rate_limited_total', help: 'Requests refused by a rate limit', labelNames: ['kind'] as const, registers }),
    typingStopsDropped: new Counter({
      name: 'rt_typing_stops_dropped_total',
      help: 'isTyping:false frames dropped: no start was active for the pair',
      registers,
    }),
    busPublished: new Counter({ name: 'rt_bus_published_total', help: 'Events relayed to Redis', registers }),
    busReceived: new Counter({ name: 'rt_bus_received_total', help: 'Events received from other instances', registers }),
    busErrors: new Counter({ name: 'rt_bus_errors_total', help: 'Events not relayed because Redis was unavailable', registers }),
    busReconnects: new Counter({
      name: 'rt_bus_reconnects_total',
      help: 'Subscriber connections back after a possible loss (each triggers a stream repair)',
      registers,
    }),
  };
  for (const transport of ['graphql-ws', 'json-ws', 'sse'] satisfies Transport[]) metrics.activeConnections.set({ transport }, 0);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * A transport's series start at zero, so dashboards and alerts see them from start-up rather than from the first
 * event of each kind: the event types it delivers and the reasons it closes connections for.
 */
export function initTransportSeries(metrics: Metrics, transport: Transport, series: { eventTypes: readonly string[]; closeReasons: readonly string[] }) {
  for (const type of series.eventTypes) metrics.eventsDelivered.inc({ transport, type }, 0);
  for (const reason of series.closeReasons) metrics.connectionErrors.inc({ transport, reason }, 0);
  metrics.deliveryLatency.zero({ transport });
}

/** When a live message or notification is written: replayed ones waited for their receiver, not for the server. */
export function observeDelivery(metrics: Metrics, transport: Transport, item: { event: UserEvent; replayed?: boolean }) {
  if (item.replayed) return;
  const { event } = item;
  const createdAt = event.kind === 'messageNew' ? event.message.createdAt : event.kind === 'notificationNew' ? event.notification.createdAt : undefined;
  if (createdAt) metrics.deliveryLatency.observe({ transport }, Math.max(0, Date.now() - Date.parse(createdAt)) / 1000);
}
