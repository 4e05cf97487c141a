// GraphQL over HTTP (yoga, with GraphiQL) and over graphql-ws on the same path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type DocumentNode,
  type ExecutionArgs,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { WebSocket, WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import { LRUCache } from 'lru-cache';
import DataLoader from 'dataloader';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { schema } from '../graphql/schema.ts';
import type { GraphQLContext } from '../graphql/builder.ts';
import { AppError, invalid } from '../domain/errors.ts';
import type { Domain } from '../domain/index.ts';
import type { RateLimits } from '../domain/rate-limits.ts';
import type { Session } from '../domain/accounts.ts';
import { MAX_PRESENCE_IDS } from '../domain/presence.ts';
import type { PresenceView } from '../events/user-event.ts';
import { atExpiry, bearerToken } from '../auth/tokens.ts';
import type { Bus } from '../events/bus.ts';
import type { Logger } from '../observability/logger.ts';
import { initTransportSeries, observeDelivery, type Metrics } from '../observability/metrics.ts';
import { allowedOrigin, clientIp, isEventStream, type OriginPolicy } from './http-util.ts';

function refuse(res: ServerResponse, status: number, error: AppError) {
  const { code, message, retryAfterMs } = error;
  const retryAfter: Record<string, string> = retryAfterMs ? { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) } : {};
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close', ...retryAfter });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code, ...(retryAfterMs ? { retryAfterMs } : {}) } }] }));
}

/** A graphql-ws connection's state: its socket, and the session of connection_init or of the last refresh. */
type SocketAuth = {
  socket: WebSocket;
  session?: Session;
  /** Renews the close-at-expiry timer after the session changed. */
  rearm?(): void;
  /** Notes a stream position written to the socket (acknowledged once the client proved it read it). */
  written?(position: number): void;
};

interface ServerContext {
  req: IncomingMessage;
  res?: ServerResponse;
  /** Set for graphql-ws operations. */
  ws?: SocketAuth;
  /** Set for server-sent event streams: settles once the stream closed. */
  streamClosed?: Promise<void>;
}

/**
 * What one GraphQL document may hold. Real operations of the apps stay far below (the largest, GraphiQL's
 * introspection, has 184 tokens and 2 KiB); tokens are counted while parsing, so an oversized document costs at
 * most this many tokens of work, and the rest are checked on the small tree that came out.
 */
const GRAPHQL_LIMITS = {
  /** Request bodies above this are refused (413) before they are read; graphql-ws frames have the same cap. */
  bodyBytes: 64 * 1024,
  tokens: 1000,
  aliases: 15,
  directives: 10,
  depth: 8,
  cost: 5000,
} as const;

/** Budget of the parse cache: a cached tree keeps its whole token chain, about half a KiB per token. */
const PARSE_CACHE_BYTES = 16 * 1024 * 1024;

function tokenCount(document: DocumentNode): number {
  let count = 0;
  for (let token = document.loc?.startToken ?? null; token; token = token.next) count++;
  return count;
}

// yoga's own caches hold 1024 documents whatever their size: up to ~0.5 GB of trees, or of error keys.
const parseCaches = () => ({
  documentCache: new LRUCache<string, DocumentNode>({
    maxSize: PARSE_CACHE_BYTES,
    sizeCalculation: (doc, source) => 2 * source.length + 512 * tokenCount(doc),
  }),
  errorCache: new LRUCache<string, object>({ maxSize: PARSE_CACHE_BYTES / 4, sizeCalculation: (_, source) => 2 * source.length }),
});

// graphql-armor's rules throw by default, which yoga answers as an execution error (HTTP 200, no code); reported,
// they are validation errors like any other (400, GRAPHQL_VALIDATION_FAILED), on graphql-ws too.
const asValidationError = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

/** Batching is not offered, and a document of many operations is only a way to make the server parse more. */
const oneOperation: ValidationRule = (context) => ({
  Document(node) {
    const operations = node.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION).length;
    if (operations > 1) context.reportError(new GraphQLError(`A document may hold one operation; this one has ${operations}`));
  },
});

const validationRules = (rules: ValidationRule[]): Plugin => ({
  onValidate: ({ addValidationRule }) => rules.forEach(addValidationRule),
});

/** Requests and socket operations whose token is past `exp` are refused, even before the socket is closed. */
function unexpired(session: Session): Session {
  if (session.exp * 1000 <= Date.now()) throw new AppError('UNAUTHORIZED', 'Token expired');
  return session;
}

/** Every operation, on every transport, counts toward its user's limit; unauthenticated ones toward the IP's. */
function operationLimit(limits: RateLimits): Plugin<GraphQLContext & ServerContext & { request?: Request }> {
  async function refusal(context: GraphQLContext & ServerContext & { request?: Request }) {
    const hasToken = context.ws !== undefined || bearerToken(context.request?.headers.get('authorization')) !== undefined;
    const session = hasToken ? await context.session().catch(() => undefined) : undefined;
    try {
      await limits.consume('graphql', session ? `user:${session.userId}` : `ip:${context.clientIp}`);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return { errors: [new GraphQLError(err.message, { extensions: { code: err.code, retryAfterMs: err.retryAfterMs } })] };
    }
  }
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const refused = await refusal(args.contextValue);
      if (refused) setResultAndStopExecution(refused);
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const refused = await refusal(args.contextValue);
      if (refused) setResultAndStopExecution(refused);
    },
  };
}

export interface GraphQLOptions extends OriginPolicy {
  introspection: boolean;
  graphiql: boolean;
}

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
  limits: RateLimits;
  logger: Logger;
  metrics: Metrics;
  options: GraphQLOptions;
  /** Operations one graphql-ws socket may have running at once (subscriptions, mostly). */
  maxSubscriptionsPerSocket: number;
}) {
  const { domain, bus, limits, logger, metrics, options } = deps;
  // graphql-ws counts deliveries by subscription field (`error` for an error result); SSE streams only by latency.
  const subscriptionFields = Object.keys(schema.getSubscriptionType()?.getFields() ?? {});
  initTransportSeries(metrics, 'graphql-ws', { eventTypes: [...subscriptionFields, 'error'], closeReasons: ['slow_consumer', 'token_expired', 'origin'] });
  initTransportSeries(metrics, 'sse', { eventTypes: [], closeReasons: [] });

  /** An event stream counts as a connection of its user (limits and open slots) until it closes. */
  const authenticateStream = async (token: string | undefined, closed: Promise<void>): Promise<Session> => {
    const session = await domain.accounts.authenticateSocket(token);
    void closed.then(session.release);
    return session;
  };

  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: options.graphiql && { title: 'Realtime API', subscriptionsProtocol: 'SSE' },
    // GraphiQL served from the package itself rather than a CDN, so it works on closed networks too. Loaded on the
    // first page view: the bundle is large, and a server that never shows GraphiQL should not carry it.
    renderGraphiQL: async (graphiql) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(graphiql),
    landingPage: false,
    logging: false,
    // yoga's default reflects any Origin and allows credentials.
    cors: (request) => {
      const origin = allowedOrigin(options, request.headers.get('origin'));
      return origin ? { origin, credentials: false } : false;
    },
    parserAndValidationCache: parseCaches(),
    plugins: [
      maxTokensPlugin({ n: GRAPHQL_LIMITS.tokens }),
      maxAliasesPlugin({ n: GRAPHQL_LIMITS.aliases, ...asValidationError }),
      maxDirectivesPlugin({ n: GRAPHQL_LIMITS.directives, ...asValidationError }),
      maxDepthPlugin({ n: GRAPHQL_LIMITS.depth, ...asValidationError }),
      costLimitPlugin({ maxCost: GRAPHQL_LIMITS.cost, ...asValidationError }),
      validationRules(options.introspection ? [oneOperation] : [oneOperation, NoSchemaIntrospectionCustomRule]),
      operationLimit(limits),
    ],
    context: ({ req, request, ws, streamClosed }) => {
      let session: Promise<Session> | undefined;
      const loaded = new Map<string, Promise<unknown>>();
      const sessionOf = async () => {
        if (ws) return unexpired(ws.session!);
        const token = bearerToken(request?.headers.get('authorization'));
        return (session ??= streamClosed ? authenticateStream(token, streamClosed) : domain.accounts.authenticate(token));
      };
      return {
        domain,
        bus,
        clientIp: clientIp(req),
        // graphql-ws sends one event after the other and waits for each write, so a client that stopped reading
        // shows up as a subscription that falls behind: close its socket, as the JSON socket does.
        slowConsumer: ws
          ? () => {
              metrics.connectionErrors.inc({ transport: 'graphql-ws', reason: 'slow_consumer' });
              ws.socket.close(1013, 'Slow consumer');
            }
          : undefined,
        streamWritten: (item) => {
          if (ws && item.position) ws.written?.(item.position);
          observeDelivery(metrics, ws ? 'graphql-ws' : 'sse', item);
        },
        session: sessionOf,
        // User.presence on a list of users: one question per operation for all of them.
        presence: new DataLoader<number, PresenceView>(async (ids) => domain.presence.of((await sessionOf()).userId, [...ids]), {
          maxBatchSize: MAX_PRESENCE_IDS,
        }),
        once: <T>(key: string, load: () => Promise<T>) => {
          if (!loaded.has(key)) loaded.set(key, load());
          return loaded.get(key) as Promise<T>;
        },
        renewSession: ws
          ? async (token: string) => {
              const renewed = await domain.accounts.authenticate(token);
              if (renewed.userId !== unexpired(ws.session!).userId) throw new AppError('UNAUTHORIZED', 'Token belongs to another user');
              ws.session = renewed;
              ws.rearm?.();
              return renewed;
            }
          : undefined,
        streamsEndAtExpiry: !ws,
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
        // A variable's value that does not fit its type (an Int beyond 32 bits, a bad DateTime) is found before
        // execution, so it has no path, and carries the scalar's own error as its cause.
        const { message, path, nodes } = error as GraphQLError;
        if (!path && /^Variable "\$/.test(message)) return new GraphQLError(message, { nodes, extensions: { code: 'BAD_USER_INPUT' } });
        logger.error({ err: original }, 'graphql resolver failed');
        return new GraphQLError('Internal server error', { path: (error as GraphQLError).path, extensions: { code: 'INTERNAL_ERROR' } });
      },
    },
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: GRAPHQL_LIMITS.bodyBytes });
  type Extra = SocketAuth & { request: IncomingMessage; connectedAt?: number; cancelExpiry?(): void };
  // graphql-ws clients take 4401 as "get a new token before reconnecting", as on the JSON socket.
  const closeAtExpiry = (extra: Extra) => {
    extra.cancelExpiry?.();
    extra.cancelExpiry = atExpiry(extra.session!.exp, () => {
      metrics.connectionErrors.inc({ transport: 'graphql-ws', reason: 'token_expired' });
      extra.socket.close(4401, 'Token expired');
    });
  };
  const tooManySubscriptions = () =>
    new GraphQLError(`Too many operations on this socket: at most ${deps.maxSubscriptionsPerSocket} at once`, { extensions: { code: 'RATE_LIMIT' } });
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
          const { release, ...session } = await domain.accounts.authenticateSocket(token);
          // The socket's own close event, not onClose: that one may come while this is still authenticating.
          if (ctx.extra.socket.readyState === WebSocket.CLOSED) release();
          else ctx.extra.socket.once('close', release);
          ctx.extra.session = session;
          ctx.extra.connectedAt = Date.now();
          ctx.extra.written = acknowledgeOnPong(ctx.extra.socket, (position) =>
            domain.streams
              .ack(session.userId, position)
              .catch((err: unknown) => logger.warn({ err, userId: session.userId }, 'could not record what was read')),
          );
          ctx.extra.rearm = () => closeAtExpiry(ctx.extra);
          closeAtExpiry(ctx.extra);
          logger.info({ userId: ctx.extra.session.userId, ip: clientIp(ctx.extra.request), transport: 'graphql-ws' }, 'connected');
          return true;
        } catch (err) {
          if (err instanceof AppError && err.code === 'RATE_LIMIT') ctx.extra.socket.close(4429, 'Too many connections');
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        // graphql-ws has already entered this operation in ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > deps.maxSubscriptionsPerSocket) return [tooManySubscriptions()];
        const enveloped = yoga.getEnveloped({ req: ctx.extra.request, ws: ctx.extra, params: payload });
        let document: DocumentNode;
        try {
          document = enveloped.parse(payload.query);
        } catch (err) {
          // A syntax error or the token limit: the client's to read, on a socket that stays open.
          if ((err as Error).name === 'GraphQLError') return [err as GraphQLError];
          throw err;
        }
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
        ctx.extra.cancelExpiry?.();
        const { session, connectedAt } = ctx.extra;
        if (session)
          logger.info({ userId: session.userId, code, durationMs: Date.now() - (connectedAt ?? Date.now()), transport: 'graphql-ws' }, 'disconnected');
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

  /** Server-sent events are connections like the sockets: the same per-IP attempts limit, counted while open. */
  async function handleEventStream(req: IncomingMessage, res: ServerResponse) {
    try {
      await deps.limits.consume('connection', clientIp(req));
    } catch (err) {
      if (err instanceof AppError && err.code === 'RATE_LIMIT') return refuse(res, 429, err);
      throw err;
    }
    metrics.activeConnections.inc({ transport: 'sse' });
    const streamClosed = new Promise<void>((resolve) => res.once('close', resolve));
    void streamClosed.then(() => metrics.activeConnections.dec({ transport: 'sse' }));
    return yoga(req, res, { req, res, streamClosed });
  }

  return {
    handleRequest(req: IncomingMessage, res: ServerResponse) {
      // The body's size must be declared so it can be refused before it is read; GraphQL clients always declare it.
      if (req.method === 'POST') {
        const declared = req.headers['content-length'];
        if (declared === undefined) return refuse(res, 411, invalid('Content-Length required'));
        if (Number(declared) > GRAPHQL_LIMITS.bodyBytes) return refuse(res, 413, invalid(`Request body over ${GRAPHQL_LIMITS.bodyBytes} bytes`));
        // Forms (urlencoded, multipart, text/plain) are what a foreign page can post without a CORS preflight.
        if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return refuse(res, 415, invalid('POST bodies must be application/json'));
      }
      if (!isEventStream(req)) return yoga(req, res, { req, res });
      return handleEventStream(req, res);
    },
    wss,
  };
}
