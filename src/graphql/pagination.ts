// Relay connections over the domain's newest-first pages, forward only (`first`/`after`): the lists are read from
// the newest end, so `last`/`before` would mean reading them from the other end, which no client of the app needs.
// The arguments are therefore not in the schema at all, rather than offered and refused. A cursor is the id of the
// item (for conversations: of their last message), so it stays valid while new items arrive; clients treat it as
// opaque.
import type { ArgBuilder, ObjectRef } from '@pothos/core';
import { invalid } from '../domain/errors.ts';
import { DEFAULT_PAGE, MAX_PAGE, type Page, type PageRequest } from '../domain/views.ts';
import { builder } from './builder.ts';

type Types = typeof builder.$inferSchemaTypes;

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
}

interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

const PageInfo = builder.objectRef<Connection<unknown>['pageInfo']>('PageInfo').implement({
  description: 'Where a page of a connection lies in the whole list (Relay cursor connections).',
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage', { description: 'Whether older items follow: pass endCursor as `after` to read them.' }),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage', { description: 'Whether newer items precede this page (true when `after` was given).' }),
    startCursor: t.exposeString('startCursor', { nullable: true, description: 'The cursor of the first edge; null on an empty page.' }),
    endCursor: t.exposeString('endCursor', { nullable: true, description: 'The cursor of the last edge; null on an empty page.' }),
  }),
});

/** A `<name>Connection` type and its `<name>Edge` over `node`. */
export function connectionType<T>(name: string, node: ObjectRef<Types, T>, items: string) {
  const Edge = builder.objectRef<Connection<T>['edges'][number]>(`${name}Edge`).implement({
    description: `One of ${items} and its cursor.`,
    fields: (t) => ({
      cursor: t.exposeString('cursor', { description: 'Opaque: pass it as `after` to read the items after this one.' }),
      // A generic T cannot be proven to be its own resolver result; it is by construction.
      node: t.field({ type: node, description: `One of ${items}.`, resolve: (edge) => edge.node as never }),
    }),
  });
  return builder.objectRef<Connection<T>>(`${name}Connection`).implement({
    description: `A page of ${items}, newest first.`,
    fields: (t) => ({
      edges: t.field({ type: [Edge], description: 'The items of this page, newest first.', resolve: (c) => c.edges }),
      pageInfo: t.field({ type: PageInfo, description: 'Where this page lies in the whole list.', resolve: (c) => c.pageInfo }),
    }),
  });
}

/** The arguments of every connection field. */
export const connectionArgs = (t: ArgBuilder<Types>) => ({
  first: t.int({ description: `How many items, 1 to ${MAX_PAGE} (default ${DEFAULT_PAGE}).` }),
  after: t.string({ description: 'The endCursor of the previous page; omit for the newest items.' }),
});

export function pageRequest(args: ConnectionArgs): PageRequest {
  const limit = args.first ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalid(`first must be between 1 and ${MAX_PAGE}`);
  if (args.after == null) return { limit };
  // Ids are PostgreSQL ints: a larger cursor would fail in the database rather than here.
  const before = /^[1-9][0-9]{0,9}$/.test(args.after) ? Number(args.after) : NaN;
  if (!(before <= 2 ** 31 - 1)) throw invalid('after is not a valid cursor');
  return { limit, before };
}

export function toConnection<T>(page: Page<T>, cursorOf: (item: T) => number, args: ConnectionArgs): Connection<T> {
  const edges = page.items.map((node) => ({ cursor: String(cursorOf(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasMore,
      hasPreviousPage: args.after != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
