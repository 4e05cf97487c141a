// Notifications: created inside the caller's transaction, published once it has committed.
import type { Prisma } from '../db/database.ts';
import type { NotificationType, Prisma as P } from '../generated/prisma/client.ts';
import type { Bus } from '../events/bus.ts';
import type { NotificationView, NotificationsSeenView, UserEvent } from '../events/user-event.ts';
import { notificationInclude, notificationView, toPage, type Page, type PageRequest } from './views.ts';

export interface NotificationDraft {
  userId: number;
  type: NotificationType;
  refId: number;
  videoId: number | null;
}

export type Notifications = ReturnType<typeof createNotifications>;

export function createNotifications(deps: { prisma: Prisma; bus: Bus }) {
  const { prisma, bus } = deps;
  const unseenCount = (userId: number) => prisma.notification.count({ where: { userId, seenAt: null } });

  return {
    unseenCount,

    /**
     * Inserts the drafts in the caller's transaction, skipping the actor and anything notified before (the unique
     * key makes like -> unlike -> like notify once). Returns the ids to publish after commit.
     */
    async create(tx: P.TransactionClient, actorId: number, drafts: NotificationDraft[]): Promise<number[]> {
      const data = drafts.filter((d) => d.userId !== actorId).map((d) => ({ ...d, actorId }));
      if (!data.length) return [];
      const rows = await tx.notification.createManyAndReturn({ data, skipDuplicates: true, select: { id: true } });
      return rows.map((r) => r.id);
    },

    /** Sends committed notifications and each recipient's new unseen count. */
    async publish(ids: number[]): Promise<void> {
      if (!ids.length) return;
      const rows = await prisma.notification.findMany({ where: { id: { in: ids } }, include: notificationInclude, orderBy: { id: 'asc' } });
      const byRecipient = new Map<number, UserEvent[]>();
      for (const row of rows) {
        const events = byRecipient.get(row.userId) ?? byRecipient.set(row.userId, []).get(row.userId)!;
        events.push({ kind: 'notificationNew', notification: notificationView(row) });
      }
      await Promise.all(
        [...byRecipient].map(async ([userId, events]) => bus.publish(userId, ...events, { kind: 'unseenCount', count: await unseenCount(userId) })),
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
      const rows =
        ids && ids.length === 0
          ? []
          : await prisma.notification.updateManyAndReturn({
              where: { userId, seenAt: null, ...(ids ? { id: { in: ids } } : {}) },
              data: { seenAt },
              select: { id: true },
            });
      const seen: NotificationsSeenView = { notificationIds: rows.map((r) => r.id).sort((a, b) => a - b), seenAt: seenAt.toISOString() };
      const count = await unseenCount(userId);
      bus.publish(userId, { kind: 'notificationSeen', seen }, { kind: 'unseenCount', count });
      return { ...seen, unseenCount: count };
    },
  };
}
