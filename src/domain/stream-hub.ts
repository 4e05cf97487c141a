// One feed per user with consumers on this instance: the user's stream entries from the bus, handed on strictly in
// position order, each once. Entries that arrive out of order wait; a hole (an entry lost while Redis was away, or
// an instance that committed and died before publishing) is filled from the database, where every position below a
// committed one is committed too (positions are taken under the user's stream lock, in commit order).
import type { Bus } from '../events/bus.ts';
import type { StreamEntry } from '../events/user-event.ts';
import type { Logger } from '../observability/logger.ts';

/** A consumer of a user's feed: an object rather than a closure, since every idle socket holds one. */
export interface EntryListener {
  receive(entry: StreamEntry): void;
}

/** Reads the entries after each (user, position): the database side of gap repair. */
export type ReadMissing = (heads: Map<number, number>) => Promise<Map<number, StreamEntry[]>>;

const REPAIR_RETRY_MS = 1000;

class Feed {
  /** Usually one or two (a user's sockets on this instance). */
  readonly listeners: EntryListener[] = [];
  /** The last position handed on; undefined until the first consumer has read the stream's head. */
  head: number | undefined;
  /** Entries ahead of head + 1, by position; made when the first one arrives, dropped once empty. */
  waiting?: Map<number, StreamEntry>;
  repairing = false;
  subscription!: Promise<void>;
  /** What the bus calls: one function per user on this instance, not per consumer. */
  hear!: (entry: StreamEntry) => void;

  emit(entry: StreamEntry, logger: Logger) {
    for (const listener of this.listeners) {
      try {
        listener.receive(entry);
      } catch (err) {
        logger.error({ err }, 'stream listener failed');
      }
    }
  }

  wait(entry: StreamEntry) {
    (this.waiting ??= new Map()).set(entry.position!, entry);
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
  async attach(userId: number, listener: EntryListener): Promise<void> {
    let feed = this.feeds.get(userId);
    if (!feed) {
      const created = new Feed();
      created.hear = (entry) => this.receive(userId, created, entry);
      created.subscription = this.bus.subscribe(userId, created.hear);
      this.feeds.set(userId, (feed = created));
    }
    feed.listeners.push(listener);
    try {
      await feed.subscription;
    } catch (err) {
      this.detach(userId, listener);
      throw err;
    }
  }

  /** Removes a listener; the last one of a user ends the feed and its bus subscription. */
  detach(userId: number, listener: EntryListener) {
    const feed = this.feeds.get(userId);
    const at = feed?.listeners.indexOf(listener) ?? -1;
    if (!feed || at < 0) return;
    feed.listeners.splice(at, 1);
    if (feed.listeners.length) return;
    this.feeds.delete(userId);
    feed.subscription.then(
      () => this.bus.unsubscribe(userId, feed.hear),
      () => undefined,
    );
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
      for (const entry of entries) feed.wait(entry);
      this.advance(userId, feed);
    }
  }

  private receive(userId: number, feed: Feed, entry: StreamEntry) {
    if (entry.position === undefined) return feed.emit(entry, this.logger);
    if (feed.head !== undefined && entry.position <= feed.head) return;
    if (feed.head !== undefined && entry.position === feed.head + 1 && !feed.waiting) {
      feed.head = entry.position; // in order, the usual case
      return feed.emit(entry, this.logger);
    }
    feed.wait(entry);
    if (feed.head !== undefined) this.advance(userId, feed);
  }

  /** Hands on what follows head without a hole; repairs from the database when a hole remains. */
  private advance(userId: number, feed: Feed) {
    const waiting = feed.waiting;
    if (!waiting) return;
    for (const position of [...waiting.keys()]) if (position <= feed.head!) waiting.delete(position);
    for (let next = waiting.get(feed.head! + 1); next; next = waiting.get(feed.head! + 1)) {
      waiting.delete(++feed.head!);
      feed.emit(next, this.logger);
    }
    if (!waiting.size) feed.waiting = undefined;
    else if (!feed.repairing) void this.repair(userId, feed);
  }

  private async repair(userId: number, feed: Feed) {
    feed.repairing = true;
    let read = false;
    try {
      const missing = await this.readMissing(new Map([[userId, feed.head!]]));
      for (const entry of missing.get(userId) ?? []) feed.wait(entry);
      read = true;
    } catch (err) {
      this.logger.warn({ err, userId }, 'stream repair failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, REPAIR_RETRY_MS).unref());
    } finally {
      feed.repairing = false;
    }
    if (this.feeds.get(userId) !== feed) return;
    if (read && feed.waiting && !feed.waiting.has(feed.head! + 1)) {
      // Only retention removes committed positions: what is gone cannot be handed on, what follows can.
      const next = Math.min(...feed.waiting.keys());
      this.logger.warn({ userId, from: feed.head! + 1, to: next - 1 }, 'stream positions no longer stored; skipped');
      feed.head = next - 1;
    }
    this.advance(userId, feed);
  }
}
