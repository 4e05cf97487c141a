// A small GraphQL client over fetch and graphql-ws, with timeouts on every wait.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { print, type DocumentNode } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { SignJWT } from 'jose';
import { TEST_SECRET } from './server.ts';

export interface GraphQLResult<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; retryAfterMs?: number } }[];
}

/**
 * An operation: a typed document from ./operations.ts (result and variables types are inferred from it), or a
 * plain string (typed by the caller). Variables below are NoInfer, so a typed document alone decides their type
 * and the object passed is checked against it.
 */
export type Operation<TResult, TVariables> = TypedDocumentNode<TResult, TVariables> | string;

const source = (query: DocumentNode | string) => (typeof query === 'string' ? query : print(query));

export async function gql<T = Record<string, any>, V = Record<string, unknown>>(
  url: string,
  query: Operation<T, V>,
  variables?: NoInfer<V>,
  token?: string,
  headers: Record<string, string> = {},
): Promise<GraphQLResult<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify({ query: source(query), variables }),
    signal: AbortSignal.timeout(15_000),
  });
  return (await res.json()) as GraphQLResult<T>;
}

/** The data of a successful operation; throws with the errors otherwise. */
export async function gqlOk<T = Record<string, any>, V = Record<string, unknown>>(
  url: string,
  query: Operation<T, V>,
  variables?: NoInfer<V>,
  token?: string,
): Promise<T> {
  const result = await gql(url, query, variables, token);
  if (result.errors?.length || !result.data) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/** The error code of a failed operation. */
export async function gqlErrorCode<V = Record<string, unknown>>(
  url: string,
  query: Operation<unknown, V>,
  variables?: NoInfer<V>,
  token?: string,
): Promise<string | undefined> {
  const result = await gql(url, query, variables, token);
  return result.errors?.[0]?.extensions?.code;
}

export interface TestUser {
  id: number;
  username: string;
  token: string;
}

export const uniqueName = (prefix = 'u') => `${prefix}_${randomBytes(5).toString('hex')}`;

export async function registerUser(url: string, prefix = 'u', avatarUrl?: string): Promise<TestUser> {
  const username = uniqueName(prefix);
  const data = await gqlOk<{ register: { token: string; user: { id: number } } }>(
    url,
    'mutation($u: String!, $p: String!, $a: String) { register(username: $u, password: $p, avatarUrl: $a) { token user { id } } }',
    { u: username, p: 'correct horse battery', a: avatarUrl },
  );
  return { id: data.register.user.id, username, token: data.register.token };
}

export async function mintToken(claims: Record<string, unknown>, options: { expiresIn?: string | number; secret?: string; alg?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}

/** Values pushed by a subscription, awaited one at a time with a timeout. */
export class Inbox<T> {
  private items: T[] = [];
  private waiters: ((item: T) => void)[] = [];
  error: unknown;

  push(item: T) {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  next(timeoutMs = 5000): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`nothing arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (value: T) => {
        clearTimeout(timer);
        resolve(value);
      };
      this.waiters.push(waiter);
    });
  }

  /** Puts items back in front, to be taken first. */
  unshift(...items: T[]) {
    this.items.unshift(...items);
  }

  /** Items that arrived and were not taken yet. */
  get pending(): readonly T[] {
    return this.items;
  }
}

export interface GraphQLSocket {
  client: Client;
  /** The underlying WebSocket (e.g. to send protocol-level pongs). */
  socket(): WebSocket;
  /** Starts a subscription; resolves once it is live on the server. */
  subscribe<T = any, V = Record<string, unknown>>(query: Operation<T, V>, variables?: NoInfer<V>): Promise<Inbox<T> & { stop(): void }>;
  close(): Promise<void>;
}

/** A graphql-ws connection; resolves once the server acknowledged connection_init. */
export async function connectGraphQLWs(wsUrl: string, connectionParams: Record<string, unknown>): Promise<GraphQLSocket> {
  let acknowledged!: () => void;
  let socket: WebSocket | undefined;
  let failed!: (reason: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    acknowledged = resolve;
    failed = reject;
  });
  const client = createClient({
    url: `${wsUrl}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    // Closes are observed through `on.closed`; the default handler would print every one.
    onNonLazyError: () => undefined,
    on: {
      connected: (connected) => {
        socket = connected as WebSocket;
        acknowledged();
      },
      closed: (event) => failed(event),
    },
  });
  await withTimeout(ready, 5000, 'graphql-ws connection');
  const start = (query: DocumentNode | string, variables?: unknown) => {
    const inbox = new Inbox<any>() as Inbox<any> & { stop(): void };
    inbox.stop = client.subscribe(
      { query: source(query), variables: variables as Record<string, unknown> | undefined },
      {
        next: (value) => inbox.push(value.errors ? { errors: value.errors } : value.data),
        error: (err) => (inbox.error = err),
        complete: () => undefined,
      },
    );
    return inbox;
  };
  return {
    client,
    socket: () => socket!,
    async subscribe(query, variables) {
      const inbox = start(query, variables);
      // graphql-ws does not acknowledge a started subscription. The server handles a socket's subscribe frames
      // in order, so once a later subscription has answered with its first value, this one is live too.
      const probe = start('subscription { unreadMessageCount }');
      await probe.next(5000);
      probe.stop();
      return inbox;
    },
    close: () => client.dispose() as Promise<void>,
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms))),
  ]);
}

/** An SSE subscription as GraphiQL opens one; resolves once its first event arrived (the stream is open). */
export async function openEventStream(url: string, token: string, query = 'subscription { unreadMessageCount }') {
  const abort = new AbortController();
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
    signal: abort.signal,
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await withTimeout(reader.read(), 5000, 'SSE event');
    if (done) throw new Error(`SSE stream ended without an event: ${buffer}`);
    buffer += value;
    const match = /^data: (.+)$/m.exec(buffer);
    if (match)
      return {
        status: res.status,
        first: JSON.parse(match[1]!) as { data?: unknown; errors?: { extensions: { code: string } }[] },
        close: () => abort.abort(),
      };
  }
}
