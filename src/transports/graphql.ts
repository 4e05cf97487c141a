// GraphQL over HTTP (yoga, with GraphiQL) and over graphql-ws on the same path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { schema } from '../graphql/schema.ts';
import type { GraphQLContext } from '../graphql/builder.ts';
import { AppError } from '../domain/errors.ts';
import type { Domain } from '../domain/index.ts';
import type { Session } from '../domain/accounts.ts';
import { bearerToken } from '../auth/tokens.ts';
import type { Bus } from '../events/bus.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { clientIp } from './http-util.ts';

function refuse(res: ServerResponse, status: number, message: string) {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code: 'INVALID_MESSAGE' } }] }));
}

interface ServerContext {
  req: IncomingMessage;
  res?: ServerResponse;
  /** Set for graphql-ws operations: the session authenticated at connection_init, and the socket. */
  wsSession?: Session;
  wsSocket?: WebSocket;
  /** Set for graphql-ws operations: notes a stream position written to the socket. */
  wsWritten?: (position: number) => void;
}

/** GraphQL request bodies above this are refused (413) before they are read. */
export const MAX_GRAPHQL_BODY_BYTES = 1024 * 1024;

/**
 * Acknowledges stream positions once the client proved it read them. graphql-ws pings every 12 s and closes a
 * socket whose pong does not come before the next ping, so what was written before one pong went out before the
 * next ping, and the next pong proves it read.
 */
function acknowledgeOnPong(socket: WebSocket, ack: (position: number) => void): (position: number) => void {
  let written = 0;
  let beforeLastPong = 0;
  socket.on('pong', () => {
    if (beforeLastPong) ack(beforeLastPong);
    beforeLastPong = written;
  });
  return (position) => {
    written = Math.max(written, position);
  };
}

export function createGraphQLTransport(deps: {
  domain: Domain;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  maxPayloadBytes: number;
}) {
  const { domain, bus, logger, metrics } = deps;

  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: { title: 'Realtime API', subscriptionsProtocol: 'SSE' },
    // GraphiQL served from the package itself rather than a CDN, so it works on closed networks too. Loaded on the
    // first page view: the bundle is large, and a server that never shows GraphiQL should not carry it.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    landingPage: false,
    logging: false,
    plugins: [maxDepthPlugin({ n: 8 }), costLimitPlugin({ maxCost: 5000 })],
    context: ({ req, request, wsSession, wsSocket, wsWritten }) => {
      let session: Promise<Session> | undefined;
      return {
        domain,
        bus,
        clientIp: clientIp(req),
        // graphql-ws sends one event after the other and waits for each write, so a client that stopped reading
        // shows up as a subscription that falls behind: close its socket, as the JSON socket does.
        slowConsumer: wsSocket
          ? () => {
              metrics.connectionErrors.inc({ transport: 'graphql-ws', reason: 'slow_consumer' });
              wsSocket.close(1013, 'Slow consumer');
            }
          : undefined,
        streamWritten: wsWritten,
        session: () => (wsSession ? Promise.resolve(wsSession) : (session ??= domain.accounts.authenticate(bearerToken(request?.headers.get('authorization'))))),
      };
    },
    maskedErrors: {
      // Domain errors keep their message and code; anything else is logged and reported without details.
      maskError(error) {
        // Walk to the root cause by shape: graphql's CJS and ESM builds both load here, so instanceof lies.
        let original = error as { originalError?: unknown; path?: readonly (string | number)[] };
        while (original?.originalError) original = original.originalError as typeof original;
        if (original instanceof AppError) {
          const { code, retryAfterMs } = original;
          return new GraphQLError(original.message, { path: (error as GraphQLError).path, extensions: { code, ...(retryAfterMs ? { retryAfterMs } : {}) } });
        }
        // Errors of the request itself (syntax, validation, variables) are the client's to read.
        if (original === error && (error as Error).name === 'GraphQLError') return error as GraphQLError;
        logger.error({ err: original }, 'graphql resolver failed');
        return new GraphQLError('Internal server error', { path: (error as GraphQLError).path, extensions: { code: 'INTERNAL_ERROR' } });
      },
    },
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxPayloadBytes });
  type Extra = { request: IncomingMessage; socket: WebSocket; session?: Session; connectedAt?: number; written?: (position: number) => void };
  useServer<Record<string, unknown>, Extra>(
    {
      // graphql-ws closes with 4403 Forbidden when this returns false; past the per-user connection limit the
      // socket is closed first with 4429, as the JSON socket does.
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        // GraphiQL and some clients send their headers as connectionParams, hence `Authorization` too.
        const header = params.authorization ?? params.Authorization ?? ctx.extra.request.headers.authorization;
        const token = typeof params.token === 'string' ? params.token : bearerToken(typeof header === 'string' ? header : undefined);
        try {
          const session = (ctx.extra.session = await domain.accounts.authenticateSocket(token));
          ctx.extra.connectedAt = Date.now();
          ctx.extra.written = acknowledgeOnPong(ctx.extra.socket, (position) =>
            domain.streams.ack(session.userId, position).catch((err: unknown) => logger.warn({ err, userId: session.userId }, 'could not record what was read')),
          );
          logger.info({ userId: ctx.extra.session.userId, ip: clientIp(ctx.extra.request), transport: 'graphql-ws' }, 'connected');
          return true;
        } catch (err) {
          if (err instanceof AppError && err.code === 'RATE_LIMIT') ctx.extra.socket.close(4429, 'Too many connections');
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const { request: req, session: wsSession, socket: wsSocket, written: wsWritten } = ctx.extra;
        const enveloped = yoga.getEnveloped({ req, wsSession, wsSocket, wsWritten, params: payload });
        const document = enveloped.parse(payload.query);
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length) return errors;
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
        return args;
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        const type = Object.keys(('data' in result && result.data) || {})[0] ?? 'error';
        metrics.eventsDelivered.inc({ transport: 'graphql-ws', type });
      },
      onClose: (ctx, code) => {
        const { session, connectedAt } = ctx.extra;
        if (session) logger.info({ userId: session.userId, code, durationMs: Date.now() - (connectedAt ?? Date.now()), transport: 'graphql-ws' }, 'disconnected');
      },
      execute: (args) => (args.rootValue as { execute: typeof import('graphql').execute }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: typeof import('graphql').subscribe }).subscribe(args),
    },
    wss,
  );
  wss.on('connection', (socket) => {
    metrics.activeConnections.inc({ transport: 'graphql-ws' });
    socket.once('close', () => metrics.activeConnections.dec({ transport: 'graphql-ws' }));
  });

  return {
    handleRequest(req: IncomingMessage, res: ServerResponse) {
      // The body's size must be declared so it can be refused before it is read; GraphQL clients always declare it.
      if (req.method === 'POST') {
        const declared = req.headers['content-length'];
        if (declared === undefined) return refuse(res, 411, 'Content-Length required');
        if (Number(declared) > MAX_GRAPHQL_BODY_BYTES) return refuse(res, 413, `Request body over ${MAX_GRAPHQL_BODY_BYTES} bytes`);
      }
      return yoga(req, res, { req, res });
    },
    wss,
  };
}
