// Client -> server frames of the legacy JSON socket, checked before anything reaches the domain. Unknown fields are
// ignored (older and newer clients keep working); wrong or missing ones are INVALID_MESSAGE naming the field.
import { z } from 'zod';
import { invalid } from '../../domain/errors.ts';
import { MessagesSeenInput, NotificationsSeenInput, id } from '../inputs.ts';

export const ClientFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message:mark_seen'), data: MessagesSeenInput }),
  z.object({ type: z.literal('message:typing'), data: z.object({ conversationWith: id, isTyping: z.boolean() }) }),
  z.object({ type: z.literal('notification:mark_seen'), data: NotificationsSeenInput.nullish() }),
  // The timestamp is the client's own; nothing depends on it, so any or none is fine.
  z.object({ type: z.literal('pong'), timestamp: z.union([z.string(), z.number()]).optional() }),
  // A client checking the connection itself (the requirements' clients do): answered with a pong.
  z.object({ type: z.literal('ping'), timestamp: z.union([z.string(), z.number()]).optional() }),
  z.object({ type: z.literal('auth:refresh'), data: z.object({ token: z.string().min(1) }) }),
]);

export type ClientFrame = z.output<typeof ClientFrame>;

/** The frame in `text`; throws INVALID_MESSAGE when it is not JSON, has an unknown type or bad fields. */
export function parseClientFrame(text: string): ClientFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalid('Frame is not valid JSON');
  }
  const result = ClientFrame.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.path.length === 1 && issue.path[0] === 'type') {
    const type = (raw as { type?: unknown }).type;
    throw invalid(typeof type === 'string' ? `Unknown frame type: ${type.slice(0, 64)}` : 'Frame needs a string type');
  }
  if (!issue.path.length) throw invalid('Frame must be a JSON object with a type');
  throw invalid(`${issue.path.join('.')}: ${issue.message}`);
}
