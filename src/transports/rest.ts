// REST fallback under /api/v1 (docs/protocol.md, "REST fallback"): for clients whose socket is down. Each call authenticates,
// checks its input and calls the same domain function as GraphQL, so a message sent here is delivered live exactly
// like one sent through the mutation.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { AppError } from '../domain/errors.ts';
import type { Domain } from '../domain/index.ts';
import type { Page } from '../domain/views.ts';
import { bearerToken } from '../auth/tokens.ts';
import type { Logger } from '../observability/logger.ts';
import { HttpError, readJson, sendError, sendJson } from './rest/http.ts';
import { allowedOrigin, type OriginPolicy } from './http-util.ts';
import * as schemas from './rest/schemas.ts';
import { MessagesSeenInput, NotificationsSeenInput } from './inputs.ts';
import { toFrame } from './json-socket/frames.ts';

const PREFIX = '/api/v1';

type Method = 'GET' | 'POST';
type Call = (userId: number, raw: unknown) => Promise<{ status: number; body: unknown }>;
type Run<S extends z.ZodType> = (userId: number, input: z.output<S>) => Promise<unknown>;

/** GET calls read their input from the query string, POST calls from the JSON body. */
function call<S extends z.ZodType>(where: 'query' | 'body', schema: S, run: Run<S>, status = 200): Call {
  return async (userId, raw) => ({ status, body: await run(userId, schemas.parse(schema, raw, where)) });
}
const get = <S extends z.ZodType>(schema: S, run: Run<S>) => call('query', schema, run);
const post = <S extends z.ZodType>(schema: S, run: Run<S>, status?: number) => call('body', schema, run, status);

/** The id to pass back as `before` for the next page; null on the last one. */
const nextCursor = <T>(page: Page<T>, cursorOf: (item: T) => number) => (page.hasMore ? cursorOf(page.items.at(-1)!) : null);

export function createRestHandler(deps: { domain: Domain; logger: Logger; maxBodyBytes: number; origins: OriginPolicy }) {
  const { messages, notifications, accounts, streams, presence } = deps.domain;

  // Paths without the prefix and without a trailing slash.
  const routes: Record<string, Partial<Record<Method, Call>>> = {
    '/messages/inbox': {
      GET: get(schemas.PageQuery, async (userId, page) => {
        const [inbox, unreadCount] = await Promise.all([messages.inbox(userId, page), messages.unreadCount(userId)]);
        return {
          conversations: inbox.items.map((c) => ({ user: c.with, lastMessage: c.lastMessage, unreadCount: c.unreadCount })),
          unreadCount,
          // A conversation's cursor is its last message's id, which is what the inbox orders by.
          nextCursor: nextCursor(inbox, (c) => c.lastMessage.id),
        };
      }),
    },
    '/messages': {
      GET: get(schemas.ConversationQuery, async (userId, q) => {
        const page = await messages.conversation(userId, q.with, q);
        return { messages: page.items, nextCursor: nextCursor(page, (m) => m.id) };
      }),
      POST: post(schemas.SendBody, (userId, b) => messages.send(userId, b.receiverId, b.content, b.clientMessageId), 201),
    },
    '/messages/seen': {
      POST: post(MessagesSeenInput, (userId, b) => messages.markSeen(userId, b.conversationWith, b.messageIds)),
    },
    '/notifications': {
      GET: get(schemas.NotificationsQuery, async (userId, q) => {
        const [page, unseenCount] = await Promise.all([notifications.list(userId, q), notifications.unseenCount(userId)]);
        return { notifications: page.items, unseenCount, nextCursor: nextCursor(page, (n) => n.id) };
      }),
    },
    '/events': {
      // The same stream as the sockets, for polling clients: follow nextCursor.
      GET: get(schemas.EventsQuery, async (userId, q) => {
        const { resumed, items, cursor } = await streams.poll(userId, q.after, q.limit, q.wait * 1000);
        return { resumed, events: items.map(({ cursor: at, event }) => ({ ...toFrame(event), cursor: at })), nextCursor: cursor };
      }),
    },
    '/presence': {
      GET: get(schemas.PresenceQuery, async (userId, q) => ({ presence: await presence.of(userId, q.ids) })),
    },
    '/notifications/seen': {
      POST: post(NotificationsSeenInput, (userId, b) => notifications.markSeen(userId, b.notificationIds)),
    },
  };

  async function serve(pathname: string, req: IncomingMessage, res: ServerResponse) {
    // Browser apps on another origin may call with their Bearer token: the configured origins, or any outside production.
    const origin = allowedOrigin(deps.origins, req.headers.origin);
    if (origin) res.setHeader('access-control-allow-origin', origin);
    if (origin && origin !== '*') res.setHeader('vary', 'Origin');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, HEAD, POST',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    try {
      const methods = routes[pathname.slice(PREFIX.length).replace(/\/$/, '')];
      if (!methods) throw new AppError('NOT_FOUND', `No such endpoint: ${pathname}`);
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const run = methods[method as Method];
      if (!run) {
        const allow = Object.keys(methods)
          .map((m) => (m === 'GET' ? 'GET, HEAD' : m))
          .join(', ');
        throw new HttpError(405, `${req.method} is not allowed here; use ${allow}`, { allow });
      }
      // Authenticate before reading the body: an anonymous client cannot make the server read anything.
      const { userId } = await accounts.authenticate(bearerToken(req.headers.authorization));
      const raw = method === 'POST' ? await readJson(req, deps.maxBodyBytes) : Object.fromEntries(new URL(req.url ?? '/', 'http://localhost').searchParams);
      const { status, body } = await run(userId, raw);
      sendJson(res, status, body);
    } catch (err) {
      sendError(res, err, deps.logger.child({ method: req.method, path: pathname }));
    }
  }

  /** Answers and returns true when the path is under /api/v1. */
  return (pathname: string, req: IncomingMessage, res: ServerResponse): boolean => {
    if (pathname !== PREFIX && !pathname.startsWith(`${PREFIX}/`)) return false;
    void serve(pathname, req, res);
    return true;
  };
}
