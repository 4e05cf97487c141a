// Each user's stream of stateful events, durable in PostgreSQL (docs/decisions.md, "Resumable streams"): positions,
// the counts at each position, replay after a cursor, the legacy offline queue, and live delivery through the hub.
import type { Prisma } from '../db/database.ts';
import type { Prisma as P } from '../generated/prisma/client.ts';
import type { Bus } from '../events/bus.ts';
import { decodeCursor, encodeCursor } from '../events/cursor.ts';
import type { StreamEntry, UserEvent } from '../events/user-event.ts';
import type { Logger } from '../observability/logger.ts';
import { StreamHub, type EntryListener } from './stream-hub.ts';

/** One event as a consumer receives it: with the cursor of its position, none for ephemeral events (typing). */
export interface StreamItem {
  cursor?: string;
  position?: number;
  event: UserEvent;
  /** From the backlog (replay, offline queue, the counts on opening) rather than live. */
  replayed?: true;
}

/** Where a consumer's items go; a returned promise (a socket draining) is awaited while a backlog is replayed. */
export interface ItemSink {
  write(item: StreamItem): void | Promise<void>;
}

export interface StreamHead {
  position: number;
  acked: number;
  unread: number;
  unseen: number;
}

/** A change to one user's stream: its events, the count deltas, and which count (as of after it) follows them. */
export interface StreamChange {
  userId: number;
  events: UserEvent[];
  unread?: number;
  unseen?: number;
  countAfter?: 'unreadMessageCount' | 'unseenCount';
}

export interface OpenStream {
  /** True when the stream continues right after the cursor the consumer gave. */
  resumed: boolean;
  /** Where the items that follow continue from. */
  cursor: string;
  /** Sends the backlog (replay or offline queue), then the counts, then live events as they come. */
  start(): Promise<void>;
  /** The position of the last item handed to the sink. */
  position(): number;
  close(): void;
}

const PAGE = 500;

/** What a consumer reads from besides its first page. */
interface StreamReader {
  hub: StreamHub;
  entriesAfter(userId: number, position: number): Promise<StreamEntry[]>;
}

const NO_HEAD: StreamHead = { position: 0, acked: 0, unread: 0, unseen: 0 };
const NO_ENTRIES: StreamEntry[] = [];

/**
 * One consumer of a user's stream (an open socket or subscription): its place in the stream and the live entries
 * held while its backlog is written. One object with its state in fields, no closures: every idle socket keeps one.
 */
class StreamConsumer implements OpenStream, EntryListener {
  resumed = false;
  cursor = '';
  /** Live entries that arrive before the backlog is written; undefined once they go straight to the sink. */
  private held: StreamEntry[] | undefined = [];
  private last = 0;
  private closed = false;
  /** The stream's head when it was opened: where the backlog ends, and the counts that follow it. */
  private head = NO_HEAD;
  private first = NO_ENTRIES;
  private onlyMessages = false;

  constructor(
    private readonly userId: number,
    private readonly sink: ItemSink,
    private readonly reader: StreamReader,
  ) {}

  /** Where the consumer starts: after `start`, with the first page of entries after it already read. */
  begin(head: StreamHead, start: number, first: StreamEntry[], resumed: boolean) {
    this.head = head;
    this.last = start;
    this.first = first;
    this.resumed = resumed;
    this.onlyMessages = !resumed && start < head.position;
    this.cursor = encodeCursor(this.userId, start);
  }

  receive(entry: StreamEntry) {
    if (this.held) this.held.push(entry);
    else this.live(entry);
  }

  position() {
    return this.last;
  }

  close() {
    this.closed = true;
    this.reader.hub.detach(this.userId, this);
  }

  async start() {
    const { userId, head, sink } = this;
    // The first page is let go of once taken, and the head once written: a long-lived consumer keeps neither.
    const firstPage = this.first;
    this.first = NO_ENTRIES;
    this.head = NO_HEAD;
    replay: for (let page = firstPage; page.length; page = page.at(-1)!.position! < head.position ? await this.reader.entriesAfter(userId, this.last) : []) {
      for (const entry of page) {
        if (this.closed) return;
        if (entry.position! > head.position) break replay;
        const position = (this.last = entry.position!);
        const cursor = encodeCursor(userId, position);
        for (const event of entry.events) if (!this.onlyMessages || event.kind === 'messageNew') await sink.write({ cursor, position, event, replayed: true });
      }
    }
    if (this.closed) return;
    const position = (this.last = head.position);
    const cursor = encodeCursor(userId, position);
    await sink.write({ cursor, position, event: { kind: 'unreadMessageCount', count: head.unread }, replayed: true });
    await sink.write({ cursor, position, event: { kind: 'unseenCount', count: head.unseen }, replayed: true });
    // Entries keep arriving in `held` while it is written; it is let go of only once it is empty.
    for (let i = 0; this.held && i < this.held.length; i++) this.live(this.held[i]!);
    this.held = undefined;
  }

  private live(entry: StreamEntry) {
    const { position } = entry;
    if (position !== undefined) {
      if (position <= this.last) return;
      this.last = position;
    }
    const cursor = position === undefined ? undefined : encodeCursor(this.userId, position);
    for (const event of entry.events) void this.sink.write({ cursor, position, event });
  }
}

export type Streams = ReturnType<typeof createStreams>;

export function createStreams(deps: { prisma: Prisma; bus: Bus; logger: Logger; retentionDays: number }) {
  const { prisma, bus, logger } = deps;

  async function head(userId: number): Promise<StreamHead> {
    const row = await prisma.userStream.findUnique({ where: { userId }, select: { position: true, acked: true, unread: true, unseen: true } });
    return row ?? { position: 0, acked: 0, unread: 0, unseen: 0 };
  }

  async function entriesAfter(userId: number, position: number, limit = PAGE): Promise<StreamEntry[]> {
    const rows = await prisma.streamEvent.findMany({
      where: { userId, position: { gt: position } },
      orderBy: { position: 'asc' },
      take: limit,
      select: { position: true, events: true },
    });
    return rows.map((r) => ({ position: r.position, events: r.events as unknown as UserEvent[] }));
  }

  /**
   * Where a consumer's cursor resumes: its position and the first entries after it, or undefined when it cannot
   * (not this service's, another user's, from the future, or past what retention kept).
   */
  async function resume(userId: number, after: string | null | undefined, now: StreamHead, limit = PAGE) {
    const asked = decodeCursor(after);
    if (!asked || asked.userId !== userId || asked.position > now.position) return undefined;
    const entries = await entriesAfter(userId, asked.position, limit);
    const whole = asked.position === now.position || entries[0]?.position === asked.position + 1;
    return whole ? { position: asked.position, entries } : undefined;
  }

  const hub = new StreamHub(
    bus,
    async (heads) => {
      const rows = await prisma.$queryRaw<{ userId: number; position: number; events: UserEvent[] }[]>`
        SELECT e."userId", e."position", e."events"
        FROM unnest(${[...heads.keys()]}::int[], ${[...heads.values()]}::int[]) AS h(u, p)
        JOIN LATERAL (SELECT * FROM "StreamEvent" s WHERE s."userId" = h.u AND s."position" > h.p ORDER BY s."position" LIMIT ${PAGE}) e ON true
        ORDER BY e."userId", e."position"`;
      const byUser = new Map<number, StreamEntry[]>();
      for (const row of rows) (byUser.get(row.userId) ?? byUser.set(row.userId, []).get(row.userId)!).push({ position: row.position, events: row.events });
      return byUser;
    },
    logger,
  );
  const reader: StreamReader = { hub, entriesAfter };

  // Acknowledgements from several devices and sockets: one UPDATE per event-loop turn, chained so that flush()
  // waits for the one in flight as well as the one scheduled.
  let pendingAcks = new Map<number, number>();
  let ackScheduled = false;
  let ackWrites: Promise<void> = Promise.resolve();
  async function writeAcks() {
    ackScheduled = false;
    const acks = pendingAcks;
    pendingAcks = new Map();
    await prisma.$executeRaw`
      UPDATE "UserStream" s SET "acked" = GREATEST(s."acked", a.p)
      FROM unnest(${[...acks.keys()]}::int[], ${[...acks.values()]}::int[]) AS a(u, p) WHERE s."userId" = a.u`;
  }

  return {
    head,
    /** The feeds of the users with consumers on this instance; app.ts runs its periodic repair. */
    hub,

    /**
     * Takes the next position on each user's stream (one change per user) in the caller's transaction, with the count
     * deltas, and stores the events. Streams are locked in user order, so concurrent changes to several users cannot
     * deadlock.
     * Returns the entries to publish once the transaction has committed.
     */
    async append(tx: P.TransactionClient, changes: StreamChange[]): Promise<Map<number, StreamEntry>> {
      if (!changes.length) return new Map();
      // One statement, so the stream rows are held for one round trip (and the commit): a busy recipient's
      // concurrent changes queue on that lock.
      const rows = await tx.$queryRaw<{ userId: number; position: number; events: UserEvent[] }[]>`
        WITH c AS (
          SELECT * FROM unnest(${changes.map((c) => c.userId)}::int[], ${changes.map((c) => c.unread ?? 0)}::int[], ${changes.map((c) => c.unseen ?? 0)}::int[],
                               ${changes.map((c) => JSON.stringify(c.events))}::jsonb[], ${changes.map((c) => c.countAfter ?? null)}::text[]) AS t(u, du, dn, ev, count_after)
        ), s AS (
          INSERT INTO "UserStream" ("userId", "position", "unread", "unseen")
          SELECT u, 1, du, dn FROM c ORDER BY u
          ON CONFLICT ("userId") DO UPDATE SET "position" = "UserStream"."position" + 1,
            "unread" = "UserStream"."unread" + EXCLUDED."unread", "unseen" = "UserStream"."unseen" + EXCLUDED."unseen"
          RETURNING "userId", "position", "unread", "unseen"
        )
        INSERT INTO "StreamEvent" ("userId", "position", "events")
        SELECT c.u, s."position", c.ev || CASE c.count_after
            WHEN 'unreadMessageCount' THEN jsonb_build_array(jsonb_build_object('kind', c.count_after, 'count', s."unread"))
            WHEN 'unseenCount' THEN jsonb_build_array(jsonb_build_object('kind', c.count_after, 'count', s."unseen"))
            ELSE '[]'::jsonb END
        FROM c JOIN s ON s."userId" = c.u
        RETURNING "userId", "position", "events"`;
      return new Map(rows.map(({ userId, position, events }) => [userId, { position, events }]));
    },

    /** Publishes committed entries. */
    publish(entries: Map<number, StreamEntry>) {
      for (const [userId, entry] of entries) bus.publish(userId, entry);
    },

    /**
     * Opens a consumer of the user's stream. With `after`, it resumes right after that cursor when it can; with
     * `queue` (a legacy client without a cursor) it starts with the messages none of the user's devices has shown
     * it read; otherwise it starts now. Live events that arrive meanwhile wait and follow, none twice.
     */
    async open(userId: number, from: { after?: string | null; queue?: boolean }, sink: ItemSink): Promise<OpenStream> {
      const consumer = new StreamConsumer(userId, sink, reader);
      await hub.attach(userId, consumer);
      try {
        await ackWrites; // what this instance heard acknowledged is not queued again
        const now = await head(userId);
        hub.seed(userId, now.position);
        const resumption = await resume(userId, from.after, now);
        const start = resumption?.position ?? (!from.after && from.queue ? now.acked : now.position);
        consumer.begin(now, start, resumption?.entries ?? (start < now.position ? await entriesAfter(userId, start) : []), resumption !== undefined);
        return consumer;
      } catch (err) {
        hub.detach(userId, consumer);
        throw err;
      }
    },

    /**
     * The stream for a polling client: the entries after `after` (at once when there are any, else after waiting up
     * to `waitMs` for the next one), or, when `after` cannot be resumed, the current counts to start from.
     */
    async poll(userId: number, after: string | undefined, limit: number, waitMs: number): Promise<{ resumed: boolean; items: StreamItem[]; cursor: string }> {
      const now = await head(userId);
      const resumption = await resume(userId, after, now, limit);
      if (!resumption) {
        const cursor = encodeCursor(userId, now.position);
        const counts: UserEvent[] = [
          { kind: 'unreadMessageCount', count: now.unread },
          { kind: 'unseenCount', count: now.unseen },
        ];
        return { resumed: false, items: counts.map((event) => ({ cursor, position: now.position, event })), cursor };
      }
      let { entries } = resumption;
      if (!entries.length && waitMs > 0) {
        let wake!: () => void;
        const woken = new Promise<void>((resolve) => (wake = resolve));
        const timer = setTimeout(wake, waitMs);
        const waiter: EntryListener = { receive: (entry) => void (entry.position !== undefined && wake()) };
        await hub.attach(userId, waiter);
        hub.seed(userId, now.position);
        try {
          // Read again now that nothing can slip by between the read and the wait.
          entries = await entriesAfter(userId, resumption.position, limit);
          if (!entries.length) {
            await woken;
            entries = await entriesAfter(userId, resumption.position, limit);
          }
        } finally {
          clearTimeout(timer);
          hub.detach(userId, waiter);
        }
      }
      const items = entries.flatMap(({ position, events }) => events.map((event) => ({ cursor: encodeCursor(userId, position!), position, event })));
      return { resumed: true, items, cursor: encodeCursor(userId, entries.at(-1)?.position ?? resumption.position) };
    },

    /** Records that one of the user's devices showed it read everything up to `position`. */
    ack(userId: number, position: number): Promise<void> {
      if ((pendingAcks.get(userId) ?? 0) < position) pendingAcks.set(userId, position);
      if (ackScheduled) return ackWrites;
      ackScheduled = true;
      const write = ackWrites.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(writeAcks);
      ackWrites = write.catch(() => undefined); // the caller of this write hears of its failure; later ones go on
      return write;
    },

    /** Waits for the acknowledgements reported so far to be written (shutdown). */
    flush: () => ackWrites,

    /** Drops events older than the retention; a cursor before them no longer resumes. */
    async prune(): Promise<number> {
      return prisma.$executeRaw`DELETE FROM "StreamEvent" WHERE "createdAt" < now() - make_interval(days => ${deps.retentionDays}::int)`;
    },
  };
}
