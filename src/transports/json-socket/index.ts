// The legacy JSON WebSocket at /api/v1/ws (docs/protocol.md): an adapter over the same domain
// and user streams as GraphQL. app.ts admits upgrades to `wss` and closes its sockets with 1012 on shutdown.
import { WebSocketServer } from 'ws';
import type { Domain } from '../../domain/index.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { initTransportSeries } from '../../observability/metrics.ts';
import { Connection, type ConnectionDeps } from './connection.ts';
import { TRANSPORT } from './delivery.ts';
import { CONNECTION_ERROR_REASONS } from './close-reasons.ts';
import { EVENT_FRAME_TYPES } from './frames.ts';

export interface JsonSocketDeps {
  domain: Domain;
  logger: Logger;
  metrics: Metrics;
  ws: ConnectionDeps['ws'];
  /** Larger client frames close the socket with 1009. */
  maxPayloadBytes: number;
}

export function createJsonSocketTransport(deps: JsonSocketDeps) {
  const logger = deps.logger.child({ transport: TRANSPORT });
  initTransportSeries(deps.metrics, TRANSPORT, { eventTypes: EVENT_FRAME_TYPES, closeReasons: CONNECTION_ERROR_REASONS });
  const connections = new Set<Connection>();
  // Path, draining, browser Origin and per-IP attempts are checked before the upgrade (transports/upgrade.ts).
  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxPayloadBytes });
  const connectionDeps: ConnectionDeps = { domain: deps.domain, connections, logger, metrics: deps.metrics, ws: deps.ws };
  wss.on('connection', (ws, req) => new Connection(ws, req, connectionDeps));

  return {
    wss,
    connections,
    /** Stops every connection's timers and subscription; app.close() has already closed the sockets. */
    close() {
      for (const connection of [...connections]) connection.dispose();
    },
  };
}

export type JsonSocketTransport = ReturnType<typeof createJsonSocketTransport>;
