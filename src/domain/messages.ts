// Direct messages: send, read, receipts, counts and the offline queue.
import type { Prisma } from '../db/database.ts';
import type { Bus } from '../events/bus.ts';
import type { MessageView, MessagesSeenView, UserView } from '../events/user-event.ts';
import { invalid } from './errors.ts';
import { cleanText } from './content.ts';
import { messageView, toPage, userView, type Page, type PageRequest } from './views.ts';
import type { RateLimits } from './rate-limits.ts';
import type { Accounts } from './accounts.ts';
import type { Message } from '../generated/prisma/client.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';

export interface ConversationView {
  with: UserView;
  lastMessage: MessageView;
  unreadCount: number;
}

export type Messages = ReturnType<typeof createMessages>;

export function createMessages(deps: {
  prisma: Prisma;
  bus: Bus;
  limits: RateLimits;
  accounts: Accounts;
  metrics: Metrics;
  logger: Logger;
  maxLength: number;
}) {
  const { prisma, bus, limits, accounts, metrics, logger } = deps;

  const unreadCount = (userId: number) => prisma.message.count({ where: { receiverId: userId, seenAt: null } });

  async function publishUnreadCount(userId: number) {
    bus.publish(userId, { kind: 'unreadMessageCount', count: await unreadCount(userId) });
  }

  // Several devices (and both transports) report the same delivery at once: coalesce them into one UPDATE per
  // event-loop turn. Writes are chained, so flush() waits for the one in flight as well as the one scheduled.
  let pendingDelivered = new Set<number>();
  let scheduled = false;
  let writes: Promise<void> = Promise.resolve();
  async function writeDelivered() {
    scheduled = false;
    const ids = [...pendingDelivered];
    pendingDelivered = new Set();
    if (ids.length) await prisma.$executeRaw`UPDATE "Message" SET "deliveredAt" = now() WHERE id = ANY(${ids}) AND "deliveredAt" IS NULL`;
  }

  return {
    unreadCount,

    async send(senderId: number, receiverId: number, content: unknown): Promise<MessageView> {
      const started = performance.now();
      const text = cleanText(content, 'content', deps.maxLength);
      if (receiverId === senderId) throw invalid('You cannot message yourself');
      // Only valid sends count (docs/decisions.md): a send to no one must not use up the sender's quota.
      await accounts.assertExists(receiverId);
      await limits.consume('message', senderId);
      // The hottest statement: insert and the receiver's new unread count in one round trip. The count's snapshot
      // does not include the row being inserted, hence the + 1.
      const [row] = await prisma.$queryRaw<(Message & { unread: number })[]>`
        WITH m AS (INSERT INTO "Message" ("senderId", "receiverId", "content") VALUES (${senderId}, ${receiverId}, ${text}) RETURNING *)
        SELECT m.*, (SELECT COUNT(*) FROM "Message" u WHERE u."receiverId" = ${receiverId} AND u."seenAt" IS NULL)::int + 1 AS unread FROM m`;
      const message = messageView(row!);
      bus.publish(receiverId, { kind: 'messageNew', message }, { kind: 'unreadMessageCount', count: row!.unread });
      metrics.messagesSent.inc();
      logger.info({ messageId: message.id, senderId, receiverId, ms: Math.round(performance.now() - started) }, 'message sent');
      return message;
    },

    /** Marks messages from `conversationWith` to the reader as seen: all unread ones, or only `messageIds`. */
    async markSeen(readerId: number, conversationWith: number, messageIds?: number[] | null): Promise<MessagesSeenView> {
      const seenAt = new Date();
      const rows =
        messageIds && messageIds.length === 0
          ? []
          : await prisma.message.updateManyAndReturn({
              where: { receiverId: readerId, senderId: conversationWith, seenAt: null, ...(messageIds ? { id: { in: messageIds } } : {}) },
              data: { seenAt },
              select: { id: true },
            });
      const receipt: MessagesSeenView = { messageIds: rows.map((r) => r.id).sort((a, b) => a - b), seenBy: readerId, seenAt: seenAt.toISOString() };
      if (receipt.messageIds.length) bus.publish(conversationWith, { kind: 'messageSeen', receipt });
      await publishUnreadCount(readerId);
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

    /** Messages to this user that no connection of theirs has received yet, oldest first (the offline queue). */
    async undelivered(userId: number, page: { limit?: number; afterId?: number } = {}): Promise<MessageView[]> {
      // Paged by id: deliveries are recorded asynchronously, so re-reading the first page could return it again.
      const rows = await prisma.message.findMany({
        where: { receiverId: userId, deliveredAt: null, ...(page.afterId ? { id: { gt: page.afterId } } : {}) },
        orderBy: { id: 'asc' },
        take: page.limit ?? 1000,
      });
      return rows.map(messageView);
    },

    /** Records that a message was written to one of its receiver's sockets; it will not be queued again. */
    markDelivered(messageId: number): Promise<void> {
      pendingDelivered.add(messageId);
      if (scheduled) return writes;
      scheduled = true;
      const write = writes.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(writeDelivered);
      writes = write.catch(() => undefined); // the caller of this write hears of its failure; later writes go on
      return write;
    },

    /** Waits until every delivery reported so far is written (shutdown). */
    flush: () => writes,
  };
}
