// What the REST calls accept, checked before the domain is called. Query values arrive as strings, so they are
// matched as decimal text first: `limit=1e1`, `limit= 5` and `limit=` are refused rather than coerced.
import { z } from 'zod';
import { invalid } from '../../domain/errors.ts';
import { CLIENT_MESSAGE_ID_MAX } from '../../domain/messages.ts';
import { DEFAULT_PAGE, MAX_PAGE } from '../../domain/views.ts';
import { MAX_ID, id } from '../inputs.ts';

const queryInt = (max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,10}$/, 'must be a positive integer')
    .transform(Number)
    .pipe(z.number().min(1).max(max));
/** Long polling holds a request at most this long: well under common proxy idle timeouts. */
const MAX_WAIT_SECONDS = 30;
const MAX_EVENTS_PAGE = 500;
const DEFAULT_EVENTS_PAGE = 100;

const queryBool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const PageQuery = z.object({
  limit: queryInt(MAX_PAGE).default(DEFAULT_PAGE),
  before: queryInt(MAX_ID).optional(),
});

export const ConversationQuery = PageQuery.extend({ with: queryInt(MAX_ID) });
export const NotificationsQuery = PageQuery.extend({ unseenOnly: queryBool.default(false) });

export const SendBody = z.object({ receiverId: id, content: z.string(), clientMessageId: z.string().min(1).max(CLIENT_MESSAGE_ID_MAX).nullish() });

export const EventsQuery = z.object({
  after: z.string().max(64).optional(),
  limit: queryInt(MAX_EVENTS_PAGE).default(DEFAULT_EVENTS_PAGE),
  wait: z
    .string()
    .regex(/^[0-9]{1,2}$/, 'must be whole seconds')
    .transform(Number)
    .pipe(z.number().max(MAX_WAIT_SECONDS))
    .default(0),
});
export const PresenceQuery = z.object({
  ids: z
    .string()
    .regex(/^[0-9]{1,10}(,[0-9]{1,10})*$/, 'must be user ids separated by commas')
    .transform((list) => list.split(',').map(Number))
    // How many: the domain counts distinct ids.
    .pipe(z.array(z.number().min(1).max(MAX_ID))),
});

/** `raw` checked against `schema`; the first problem becomes INVALID_MESSAGE naming the field. */
export function parse<S extends z.ZodType>(schema: S, raw: unknown, where: 'query' | 'body'): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.');
  throw invalid(field ? `${where} ${field}: ${issue.message}` : `${where}: ${issue.message}`);
}
