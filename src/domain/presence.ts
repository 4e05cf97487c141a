// Who is online, and when they were last active (docs/decisions.md, "Presence"). Whether a user is online comes from
// their connection leases (connections.ts); this module records lastActiveAt, decides who may see whom, and carries
// changes to the users watching them: one bus channel per watched user, so a change is published once.
import type { Prisma } from '../db/database.ts';
import type { Bus } from '../events/bus.ts';
import type { PresenceView, StreamEntry } from '../events/user-event.ts';
import type { Logger } from '../observability/logger.ts';
import type { PresenceChange } from './connections.ts';
import { invalid } from './errors.ts';

/** Users one question (or one subscription) may name. */
export const MAX_PRESENCE_IDS = 200;

export type PresenceListener = (view: PresenceView) => void;

/** The distinct ids of one question; INVALID_MESSAGE beyond 200, so a client cannot make the server watch without bound. */
export function presenceIds(userIds: number[]): number[] {
  const ids = [...new Set(userIds)];
  if (ids.length > MAX_PRESENCE_IDS) throw invalid(`userIds: at most ${MAX_PRESENCE_IDS} users at once`);
  return ids;
}

interface Visible {
  id: number;
  lastActiveAt: Date | null;
  presenceHidden: boolean;
}

const unknown = (userId: number): PresenceView => ({ userId, status: 'unknown', online: false, lastActiveAt: null });

/** What others see of a user: hidden users are offline without lastActiveAt. */
function publicView(userId: number, online: boolean, hidden: boolean, lastActiveAt: Date | string | null): PresenceView {
  if (hidden) return { userId, status: 'offline', online: false, lastActiveAt: null };
  if (online) return { userId, status: 'online', online: true, lastActiveAt: null };
  const last = lastActiveAt === null ? null : new Date(lastActiveAt).toISOString();
  return { userId, status: 'offline', online: false, lastActiveAt: last };
}

const entryOf = (view: PresenceView, at: number): StreamEntry => ({ events: [{ kind: 'presence', presence: view, at }] });

export type Presence = ReturnType<typeof createPresence>;

/** `online` answers, for each user, whether they are online (connections.ts). */
export function createPresence(deps: { prisma: Prisma; bus: Bus; logger: Logger; online(userIds: number[]): Promise<boolean[]> }) {
  const { prisma, bus, logger } = deps;

  /**
   * The users of `ids` the viewer may see: themselves, users they follow, and users they have a conversation with
   * (a message either way). Others, existing or not, are left out alike.
   */
  async function visible(viewerId: number, ids: number[]): Promise<Map<number, Visible>> {
    if (!ids.length) return new Map();
    const rows = await prisma.$queryRaw<Visible[]>`
      SELECT u.id, u."lastActiveAt", u."presenceHidden" FROM "User" u
      WHERE u.id = ANY(${ids}::int[]) AND (
        u.id = ${viewerId}
        OR EXISTS (SELECT 1 FROM "Follow" f WHERE f."followerId" = ${viewerId} AND f."followeeId" = u.id)
        OR EXISTS (SELECT 1 FROM "Message" m WHERE m."senderId" = ${viewerId} AND m."receiverId" = u.id)
        OR EXISTS (SELECT 1 FROM "Message" m WHERE m."senderId" = u.id AND m."receiverId" = ${viewerId}))`;
    return new Map(rows.map((row) => [row.id, row]));
  }

  /** The views of `ids` in their order; `seen` holds those the viewer may see. */
  async function views(seen: Map<number, Visible>, ids: number[]): Promise<PresenceView[]> {
    const shown = [...seen.values()].filter((row) => !row.presenceHidden).map((row) => row.id);
    const online = new Map((await deps.online(shown)).map((on, i) => [shown[i]!, on]));
    return ids.map((id) => {
      const row = seen.get(id);
      return row ? publicView(id, online.get(id) ?? false, row.presenceHidden, row.lastActiveAt) : unknown(id);
    });
  }

  async function announce(change: PresenceChange) {
    const { userId } = change;
    const lastActiveAt = change.online ? null : new Date(change.lastActiveAt);
    const [user] = lastActiveAt
      ? await prisma.$queryRaw<{ presenceHidden: boolean }[]>`
          UPDATE "User" SET "lastActiveAt" = ${lastActiveAt} WHERE id = ${userId} RETURNING "presenceHidden"`
      : await prisma.$queryRaw<{ presenceHidden: boolean }[]>`SELECT "presenceHidden" FROM "User" WHERE id = ${userId}`;
    // Others always see a hidden user offline: their transitions change nothing anyone sees.
    if (user && !user.presenceHidden) bus.publish(userId, entryOf(publicView(userId, change.online, false, lastActiveAt), change.at), 'presence');
  }

  return {
    /** Called by connections.ts on each transition this instance made: records lastActiveAt and tells the watchers. */
    changed(change: PresenceChange) {
      announce(change).catch((err: unknown) => logger.warn({ err, userId: change.userId }, 'could not announce a presence change'));
    },

    /** The presence of each of `userIds` (at most 200; repeats once), `unknown` for users the viewer may not see. */
    async of(viewerId: number, userIds: number[]): Promise<PresenceView[]> {
      const ids = presenceIds(userIds);
      return views(await visible(viewerId, ids), ids);
    },

    /**
     * Calls `listener` with the presence of each of `userIds` now, then with every change of those the viewer may
     * see (unknown ones once). Subscribes before it reads, so no change is missed; a change that arrives while
     * reading follows the reading. Resolves to the function that stops watching one of them, or all without one.
     */
    async watch(viewerId: number, userIds: number[], listener: PresenceListener): Promise<(userId?: number) => void> {
      const ids = presenceIds(userIds);
      const seen = await visible(viewerId, ids);
      let held: PresenceView[] | undefined = [];
      // Two instances announce a user's changes, each after a database round trip: one may overtake the other.
      const latest = new Map<number, number>();
      const hear = (entry: StreamEntry) => {
        for (const event of entry.events) {
          if (event.kind !== 'presence') continue;
          const { presence: view, at = 0 } = event;
          if (at < (latest.get(view.userId) ?? 0)) continue;
          latest.set(view.userId, at);
          if (held) held.push(view);
          else listener(view);
        }
      };
      const subscribed = new Set(seen.keys());
      await Promise.all([...subscribed].map((id) => bus.subscribe(id, hear, 'presence')));
      const stop = (userId?: number) => {
        for (const id of userId === undefined ? [...subscribed] : [userId]) if (subscribed.delete(id)) bus.unsubscribe(id, hear, 'presence');
      };
      try {
        for (const view of await views(seen, ids)) listener(view);
      } catch (err) {
        stop();
        throw err;
      }
      const pending = held;
      held = undefined;
      pending.forEach(listener);
      return stop;
    },

    /** Hides (false) or shows the user's presence to others; the users watching them hear the new view at once. */
    async setVisible(userId: number, visible: boolean): Promise<boolean> {
      const user = await prisma.user.update({ where: { id: userId }, data: { presenceHidden: !visible }, select: { lastActiveAt: true } });
      const [online] = await deps.online([userId]);
      bus.publish(userId, entryOf(publicView(userId, online ?? false, !visible, user.lastActiveAt), Date.now()), 'presence');
      return visible;
    },
  };
}
