// Notifications: created inside the caller's transaction together with their stream events, published once it has
// committed.
import type { Prisma } from '../db/database.ts';
import type { NotificationType, Prisma as P } from '../generated/prisma/client.ts';
import type { NotificationView, NotificationsSeenView, StreamEntry } from '../events/user-event.ts';
import { notificationInclude, notificationView, toPage, type Page, type PageRequest } from './views.ts';
import type { Streams } from './streams.ts';

export interface NotificationDraft {
  userId: number;
  type: NotificationType;
  refId: number;
  videoId: number | null;
}

export type Notifications = ReturnType<typeof createNotifications>;

export function createNotifications(deps: { prisma: Prisma; streams: Streams }) {
  const { prisma, streams } = deps;

  return {
    unseenCount: async (userId: number) => (await streams.head(userId)).unseen,

    /**
     * Inserts the drafts in the caller's transaction, skipping the actor and anything notified before (the unique
     * key makes like -> unlike -> like notify once), and appends them with the new unseen counts to their recipients'
     * streams. Returns the entries to publish after commit.
     */
    async create(tx: P.TransactionClient, actorId: number, drafts: NotificationDraft[]): Promise<Map<number, StreamEntry>> {
      const data = drafts.filter((d) => d.userId !== actorId).map((d) => ({ ...d, actorId }));
      if (!data.length) return new Map();
      const rows = await tx.notification.createManyAndReturn({ data, skipDuplicates: true, include: notificationInclude });
      const byRecipient = new Map<number, NotificationView[]>();
      for (const row of rows) (byRecipient.get(row.userId) ?? byRecipient.set(row.userId, []).get(row.userId)!).push(notificationView(row));
      return streams.append(
        tx,
        [...byRecipient].map(([userId, views]) => ({
          userId,
          unseen: views.length,
          events: views.map((notification) => ({ kind: 'notificationNew' as const, notification })),
          countAfter: 'unseenCount' as const,
        })),
      );
    },

    async list(userId: number, page: PageRequest & { unseenOnly?: boolean }): Promise<Page<NotificationView>> {
      const rows = await prisma.notification.findMany({
        where: { userId, ...(page.unseenOnly ? { seenAt: null } : {}), ...(page.before ? { id: { lt: page.before } } : {}) },
        include: notificationInclude,
        orderBy: { id: 'desc' },
        take: page.limit + 1,
      });
      return toPage(rows.map(notificationView), page.limit);
    },

    /** Marks the user's own notifications seen: all, or only `ids` (ids of others are ignored, never echoed). */
    async markSeen(userId: number, ids?: number[] | null): Promise<NotificationsSeenView & { unseenCount: number }> {
      const seenAt = new Date();
      const seen: NotificationsSeenView = { notificationIds: [], seenAt: seenAt.toISOString() };
      const entries = await prisma.$transaction(async (tx) => {
        const rows =
          ids?.length === 0
            ? []
            : await tx.notification.updateManyAndReturn({ where: { userId, seenAt: null, ...(ids ? { id: { in: ids } } : {}) }, data: { seenAt }, select: { id: true } });
        seen.notificationIds = rows.map((r) => r.id).sort((a, b) => a - b);
        // Every device gets the answer, even when nothing changed.
        return streams.append(tx, [{ userId, unseen: -rows.length, events: [{ kind: 'notificationSeen', seen }], countAfter: 'unseenCount' }]);
      });
      streams.publish(entries);
      const [count] = entries.get(userId)!.events.slice(-1) as [{ kind: 'unseenCount'; count: number }];
      return { ...seen, unseenCount: count.count };
    },
  };
}
