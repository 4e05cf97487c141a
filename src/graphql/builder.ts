import SchemaBuilder from '@pothos/core';
import type { Domain } from '../domain/index.ts';
import type { Session } from '../domain/accounts.ts';
import type DataLoader from 'dataloader';
import type { Bus } from '../events/bus.ts';
import type { StreamItem } from '../domain/streams.ts';
import type { PresenceView } from '../events/user-event.ts';

export interface GraphQLContext {
  domain: Domain;
  bus: Bus;
  clientIp: string;
  /** The caller's session; throws UNAUTHORIZED when the request carries no valid token. */
  session(): Promise<Session>;
  /** On a socket: closes it when a subscription's reader fell too far behind (a client that stopped reading). */
  slowConsumer?(): void;
  /** An item of the user's stream was handed to the transport (which acknowledges positions once read). */
  streamWritten?(item: StreamItem): void;
  /** The caller's view of users' presence (User.presence), batched per operation. */
  presence: DataLoader<number, PresenceView>;
  /** `load` run once per operation and key: repeats of a field under aliases read the database once. */
  once<T>(key: string, load: () => Promise<T>): Promise<T>;
  /** On a graphql-ws socket: checks a newer token of the same user and moves the socket's expiry to it. */
  renewSession?(token: string): Promise<Session>;
  /** Over HTTP (SSE) subscriptions end at the token's expiry; a graphql-ws socket is closed then instead. */
  streamsEndAtExpiry: boolean;
}

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  Scalars: { DateTime: { Input: Date; Output: Date | string } };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
});

builder.scalarType('DateTime', {
  description: 'An ISO-8601 UTC timestamp, e.g. 2024-01-15T10:30:00.000Z',
  serialize: (value) => (typeof value === 'string' ? value : value.toISOString()),
  parseValue: (value) => {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new TypeError('DateTime must be an ISO-8601 timestamp');
    return date;
  },
});

/**
 * The resolver of a field that needs a signed-in caller: `resolve` gets the caller's user id first, and the field
 * fails with UNAUTHORIZED when the request carries no valid token.
 */
export const authed =
  <A, R>(resolve: (userId: number, args: A, ctx: GraphQLContext) => Promise<R> | R) =>
  async (_parent: unknown, args: A, ctx: GraphQLContext): Promise<R> =>
    resolve((await ctx.session()).userId, args, ctx);
