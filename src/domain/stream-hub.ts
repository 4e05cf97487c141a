// One feed per user with consumers on this instance: the user's stream entries from the bus, handed on strictly in
// position order, each once. Entries that arrive out of order wait; a hole (an entry lost while Redis was away, or
// an instance that committed and died before publishing) is filled from the database, where every position below a
// committed one is committed too (positions are taken under the user's stream lock, in commit order).
import type { Bus } from '../events/bus.ts';
import type { StreamEntry } from '../events/user-event.ts';
import type { Logger } from '../observability/logger.ts';

export type EntryListener = (entry: StreamEntry) => void;

/** Reads the entries after each (user, position): the database side of gap repair. */
export type ReadMissing = (heads: Map<number, number>) => Promise<Map<number, StreamEntry[]>>;

const REPAIR_RETRY_MS = 1000;

class Feed {
  readonly listeners = new Set<EntryListener>();
  /** The last position handed on; undefined until the first consumer has read the stream's head. */
  head: number | undefined;
  /** Entries ahead of head + 1, by position. */
  readonly waiting = new Map<number, StreamEntry>();
  repairing = false;
  subscription!: Promise<() => void>;

  emit(entry: StreamEntry, logger: Logger) {
    for (const listener of this.listeners) {
      try {
        listener(entry);
      } catch (err) {
        logger.error({ err }, 'stream listener failed');
      }
    }
  }
}

export class StreamHub {
  private readonly feeds = new Map<number, Feed>();

  constructor(
    private readonly bus: Bus,
    private readonly readMissing: ReadMissing,
    private readonly logger: Logger,
  ) {
    bus.onReconnect(() => void this.repairAll());
  }

  /** Adds a listener to the user's feed; resolves once entries published on any instance reach it. */
  async attach(userId: number, listener: EntryListener): Promise<() => void> {
    let feed = this.feeds.get(userId);
    if (!feed) {
      const created = new Feed();
      created.subscription = this.bus.subscribe(userId, (entry) => this.receive(userId, created, entry));
      this.feeds.set(userId, (feed = created));
    }
    feed.listeners.add(listener);
    const detach = () => {
      feed.listeners.delete(listener);
      if (feed.listeners.size || this.feeds.get(userId) !== feed) return;
      this.feeds.delete(userId);
      feed.subscription.then(
        (unsubscribe) => unsubscribe(),
        () => undefined,
      );
    };
    try {
      await feed.subscription;
    } catch (err) {
      detach();
      throw err;
    }
    return detach;
  }

  /** Tells a new feed where the stream stood when its first consumer looked (after subscribing). */
  seed(userId: number, position: number) {
    const feed = this.feeds.get(userId);
    if (!feed || feed.head !== undefined) return;
    feed.head = position;
    this.advance(userId, feed);
  }

  /** Fills every feed's holes from the database: on Redis reconnects and periodically, as a safety net. */
  async repairAll(): Promise<void> {
    const heads = new Map<number, number>();
    for (const [userId, feed] of this.feeds) if (feed.head !== undefined && !feed.repairing) heads.set(userId, feed.head);
    if (!heads.size) return;
    let missing: Map<number, StreamEntry[]>;
    try {
      missing = await this.readMissing(heads);
    } catch (err) {
      this.logger.warn({ err }, 'stream repair failed');
      return;
    }
    for (const [userId, entries] of missing) {
      const feed = this.feeds.get(userId);
      if (!feed || feed.head === undefined) continue;
      for (const entry of entries) feed.waiting.set(entry.position!, entry);
      this.advance(userId, feed);
    }
  }

  private receive(userId: number, feed: Feed, entry: StreamEntry) {
    if (entry.position === undefined) return feed.emit(entry, this.logger);
    if (feed.head !== undefined && entry.position <= feed.head) return;
    feed.waiting.set(entry.position, entry);
    if (feed.head !== undefined) this.advance(userId, feed);
  }

  /** Hands on what follows head without a hole; repairs from the database when a hole remains. */
  private advance(userId: number, feed: Feed) {
    for (const position of [...feed.waiting.keys()]) if (position <= feed.head!) feed.waiting.delete(position);
    for (let next = feed.waiting.get(feed.head! + 1); next; next = feed.waiting.get(feed.head! + 1)) {
      feed.waiting.delete(++feed.head!);
      feed.emit(next, this.logger);
    }
    if (feed.waiting.size && !feed.repairing) void this.repair(userId, feed);
  }

  private async repair(userId: number, feed: Feed) {
    feed.repairing = true;
    let read = false;
    try {
      const missing = await this.readMissing(new Map([[userId, feed.head!]]));
      for (const entry of missing.get(userId) ?? []) feed.waiting.set(entry.position!, entry);
      read = true;
    } catch (err) {
      this.logger.warn({ err, userId }, 'stream repair failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, REPAIR_RETRY_MS).unref());
    } finally {
      feed.repairing = false;
    }
    if (this.feeds.get(userId) !== feed) return;
    if (read && feed.waiting.size && !feed.waiting.has(feed.head! + 1)) {
      // Only retention removes committed positions: what is gone cannot be handed on, what follows can.
      const next = Math.min(...feed.waiting.keys());
      this.logger.warn({ userId, from: feed.head! + 1, to: next - 1 }, 'stream positions no longer stored; skipped');
      feed.head = next - 1;
    }
    this.advance(userId, feed);
  }
}
