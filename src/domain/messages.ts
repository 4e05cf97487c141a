// Direct messages: send (idempotent with a clientMessageId), read, receipts and the unread count.
import type { Prisma } from '../db/database.ts';
import type { MessageView, MessagesSeenView, UserView } from '../events/user-event.ts';
import { AppError, invalid, isForeignKeyViolation } from './errors.ts';
import { cleanText } from './content.ts';
import { messageView, toPage, userView, type Page, type PageRequest } from './views.ts';
import type { RateLimits } from './rate-limits.ts';
import type { StreamChange, Streams } from './streams.ts';
import { createMessageBatch, type StoredMessage } from './message-batch.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';

export interface ConversationView {
  with: UserView;
  lastMessage: MessageView;
  unreadCount: number;
}

export type Messages = ReturnType<typeof createMessages>;

export const CLIENT_MESSAGE_ID_MAX = 64;

export function createMessages(deps: { prisma: Prisma; streams: Streams; limits: RateLimits; metrics: Metrics; logger: Logger; maxLength: number }) {
  const { prisma, streams, limits, metrics, logger } = deps;
  const batch = createMessageBatch(prisma);

  /** The message a retried send stored the first time (or a concurrent copy of the same send is storing). */
  async function retried(senderId: number, clientMessageId: string): Promise<MessageView> {
    const original = await prisma.message.findUnique({ where: { senderId_clientMessageId: { senderId, clientMessageId } } });
    if (!original) throw new Error('clientMessageId conflicted but no message holds it');
    return messageView(original);
  }

  return {
    unreadCount: async (userId: number) => (await streams.head(userId)).unread,

    /**
     * Stores a message and appends it, with the receiver's new unread count, to the receiver's stream. A retry with
     * the same `clientMessageId` returns the message stored the first time and stores and delivers nothing again.
     */
    async send(senderId: number, receiverId: number, content: unknown, clientMessageId?: string | null): Promise<MessageView> {
      const started = performance.now();
      const text = cleanText(content, 'content', deps.maxLength);
      if (receiverId === senderId) throw invalid('You cannot message yourself');
      if (clientMessageId != null && (clientMessageId.length < 1 || clientMessageId.length > CLIENT_MESSAGE_ID_MAX)) {
        throw invalid(`clientMessageId must be 1-${CLIENT_MESSAGE_ID_MAX} characters`);
      }
      // Only valid sends count (docs/decisions.md): a send to no one gives its point back.
      const refund = await limits.consume('message', senderId);
      // One round trip, shared with the other sends of this turn (message-batch.ts): the message, the receiver's next
      // stream position with the unread count, and the stream event. The receiver's existence comes from the foreign
      // key; a known clientMessageId stores nothing at all.
      let row: StoredMessage;
      try {
        row = await batch.store({ senderId, receiverId, content: text, clientMessageId: clientMessageId ?? null });
      } catch (err) {
        if (isForeignKeyViolation(err)) {
          await refund();
          throw new AppError('NOT_FOUND', 'User not found');
        }
        throw err;
      }
      if (!row) return retried(senderId, clientMessageId!);
      streams.publish(new Map([[receiverId, { position: row.position, events: row.events }]]));
      metrics.messagesSent.inc();
      logger.info({ messageId: row.id, senderId, receiverId, ms: Math.round(performance.now() - started) }, 'message sent');
      return messageView(row);
    },

    /** Marks messages from `conversationWith` to the reader as seen: all unread ones, or only `messageIds`. */
    async markSeen(readerId: number, conversationWith: number, messageIds?: number[] | null): Promise<MessagesSeenView> {
      const seenAt = new Date();
      const receipt: MessagesSeenView = { messageIds: [], seenBy: readerId, seenAt: seenAt.toISOString() };
      // The reader's devices always get the count, even when nothing changed: it answers the request.
      const entries = await prisma.$transaction(async (tx) => {
        const rows =
          messageIds?.length === 0
            ? []
            : await tx.message.updateManyAndReturn({
                where: { receiverId: readerId, senderId: conversationWith, seenAt: null, ...(messageIds ? { id: { in: messageIds } } : {}) },
                data: { seenAt },
                select: { id: true },
              });
        receipt.messageIds = rows.map((r) => r.id).sort((x, y) => x - y);
        const changes: StreamChange[] = [{ userId: readerId, unread: -rows.length, events: [], countAfter: 'unreadMessageCount' }];
        if (rows.length) changes.push({ userId: conversationWith, events: [{ kind: 'messageSeen', receipt }] });
        return streams.append(tx, changes);
      });
      streams.publish(entries);
      return receipt;
    },

    /** One conversation, newest first. */
    async conversation(userId: number, withUserId: number, page: PageRequest): Promise<Page<MessageView>> {
      const rows = await prisma.message.findMany({
        where: {
          OR: [
            { senderId: userId, receiverId: withUserId },
            { senderId: withUserId, receiverId: userId },
          ],
          ...(page.before ? { id: { lt: page.before } } : {}),
        },
        orderBy: { id: 'desc' },
        take: page.limit + 1,
      });
      return toPage(rows.map(messageView), page.limit);
    },

    /** The inbox: one entry per conversation partner, the most recently active first. */
    async inbox(userId: number, page: PageRequest): Promise<Page<ConversationView>> {
      const latest = await prisma.$queryRaw<{ other: number; lastId: number; unread: number }[]>`
        WITH mine AS (
          SELECT id, CASE WHEN "senderId" = ${userId} THEN "receiverId" ELSE "senderId" END AS other
          FROM "Message" WHERE "senderId" = ${userId} OR "receiverId" = ${userId}
        ), latest AS (SELECT other, MAX(id) AS "lastId" FROM mine GROUP BY other)
        SELECT l.other, l."lastId",
          (SELECT COUNT(*) FROM "Message" u WHERE u."receiverId" = ${userId} AND u."senderId" = l.other AND u."seenAt" IS NULL)::int AS unread
        FROM latest l
        WHERE ${page.before ?? null}::int IS NULL OR l."lastId" < ${page.before ?? null}::int
        ORDER BY l."lastId" DESC
        LIMIT ${page.limit + 1}`;
      const { items, hasMore } = toPage(latest, page.limit);
      const [messages, users] = await Promise.all([
        prisma.message.findMany({ where: { id: { in: items.map((i) => i.lastId) } } }),
        prisma.user.findMany({ where: { id: { in: items.map((i) => i.other) } } }),
      ]);
      const messageById = new Map(messages.map((m) => [m.id, messageView(m)]));
      const userById = new Map(users.map((u) => [u.id, userView(u)]));
      return {
        items: items.map((i) => ({ with: userById.get(i.other)!, lastMessage: messageById.get(i.lastId)!, unreadCount: i.unread })),
        hasMore,
      };
    },
  };
}
