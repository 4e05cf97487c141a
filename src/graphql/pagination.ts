// Relay connections over the domain's newest-first pages. A cursor is the id of the item (for conversations:
// of their last message), so it stays valid while new items arrive.
import { invalid } from '../domain/errors.ts';
import { DEFAULT_PAGE, MAX_PAGE, type Page, type PageRequest } from '../domain/views.ts';

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export function pageRequest(args: ConnectionArgs): PageRequest {
  if (args.last != null || args.before != null) throw invalid('Only forward pagination (first/after) is supported');
  const limit = args.first ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalid(`first must be between 1 and ${MAX_PAGE}`);
  if (args.after == null) return { limit };
  // Ids are PostgreSQL ints: a larger cursor would fail in the database rather than here.
  const before = /^[1-9][0-9]{0,9}$/.test(args.after) ? Number(args.after) : NaN;
  if (!(before <= 2 ** 31 - 1)) throw invalid('after is not a valid cursor');
  return { limit, before };
}

export function toConnection<T>(page: Page<T>, cursorOf: (item: T) => number, args: ConnectionArgs) {
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
