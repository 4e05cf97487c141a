// Group commit of sends: the messages that arrive in one event-loop turn are stored by one statement, which also
// takes each receiver's next stream positions with the unread counts and writes the stream events (one round trip
// for the batch instead of one per message). Each caller still gets its own row or its own error: when the batch
// fails (a receiver that does not exist fails the whole statement), its sends are run again one by one, in order.
import type { Prisma } from '../db/database.ts';
import type { UserEvent } from '../events/user-event.ts';
import type { Message } from '../generated/prisma/client.ts';

export interface NewMessage {
  senderId: number;
  receiverId: number;
  content: string;
  clientMessageId: string | null;
}

/** The stored message with its position in the receiver's stream; undefined when its clientMessageId was known. */
export type StoredMessage = (Message & { position: number; events: UserEvent[] }) | undefined;

/**
 * The statement: parameters are the columns of the batch (senders, receivers, contents, clientMessageIds). Messages
 * are numbered per receiver in input order; receivers' stream rows are locked in id order, as streams.append does,
 * so concurrent batches and mark-seen transactions cannot deadlock. Ids are drawn first so that each input row can be
 * matched with what it stored (a known clientMessageId stores nothing).
 */
export const INSERT_MESSAGES = `
  WITH input AS (
    SELECT t.o, t.s, t.r, t.c, t.cid, nextval(pg_get_serial_sequence('"Message"', 'id'))::int AS id
    FROM unnest($1::int[], $2::int[], $3::text[], $4::text[]) WITH ORDINALITY AS t(s, r, c, cid, o)
  ), m AS (
    INSERT INTO "Message" ("id", "senderId", "receiverId", "content", "clientMessageId")
    SELECT id, s, r, c, cid FROM input ORDER BY o
    ON CONFLICT ("senderId", "clientMessageId") DO NOTHING RETURNING *
  ), n AS (
    SELECT m.*, row_number() OVER (PARTITION BY m."receiverId" ORDER BY m."id")::int AS k,
           count(*) OVER (PARTITION BY m."receiverId")::int AS total
    FROM m
  ), s AS (
    INSERT INTO "UserStream" ("userId", "position", "unread")
    SELECT "receiverId", total, total FROM n WHERE k = 1 ORDER BY "receiverId"
    ON CONFLICT ("userId") DO UPDATE SET "position" = "UserStream"."position" + EXCLUDED."position",
      "unread" = "UserStream"."unread" + EXCLUDED."unread"
    RETURNING "userId", "position", "unread"
  ), e AS (
    INSERT INTO "StreamEvent" ("userId", "position", "events")
    SELECT n."receiverId", s."position" - n.total + n.k, jsonb_build_array(
      jsonb_build_object('kind', 'messageNew', 'message', jsonb_build_object(
        'id', n."id", 'senderId', n."senderId", 'receiverId', n."receiverId", 'content', n."content",
        'createdAt', to_char(n."createdAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'seen', false, 'seenAt', NULL)),
      jsonb_build_object('kind', 'unreadMessageCount', 'count', s."unread" - n.total + n.k))
    FROM n JOIN s ON s."userId" = n."receiverId"
    RETURNING "userId", "position", "events"
  )
  SELECT input.o, n."id", n."senderId", n."receiverId", n."content", n."createdAt", n."seenAt", n."clientMessageId", e."position", e."events"
  FROM input
  JOIN n ON n."id" = input.id
  JOIN s ON s."userId" = n."receiverId"
  JOIN e ON e."userId" = n."receiverId" AND e."position" = s."position" - n.total + n.k`;

export const columnsOf = (batch: NewMessage[]) => [
  batch.map((m) => m.senderId),
  batch.map((m) => m.receiverId),
  batch.map((m) => m.content),
  batch.map((m) => m.clientMessageId),
];

/** Larger batches wait for the next turn: one statement stays small enough to plan and lock quickly. */
const MAX_BATCH = 256;

interface Pending extends NewMessage {
  resolve(row: StoredMessage): void;
  reject(err: unknown): void;
}

export function createMessageBatch(prisma: Prisma) {
  const pending: Pending[] = [];

  async function insert(batch: NewMessage[]): Promise<StoredMessage[]> {
    const rows = await prisma.$queryRawUnsafe<(Message & { o: bigint; position: number; events: UserEvent[] })[]>(INSERT_MESSAGES, ...columnsOf(batch));
    const byInput = new Map(rows.map(({ o, ...row }) => [Number(o), row]));
    return batch.map((_, i) => byInput.get(i + 1));
  }

  async function flush() {
    const batch = pending.splice(0, MAX_BATCH);
    if (pending.length) setImmediate(flush);
    try {
      const rows = await insert(batch);
      batch.forEach((p, i) => p.resolve(rows[i]));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // One by one, in order: the batch's order is the order its sends take in their receivers' streams.
      for (const p of batch) await insert([p]).then(([row]) => p.resolve(row), p.reject);
    }
  }

  return {
    /** Stores a message together with the next sends of this turn. */
    store(message: NewMessage): Promise<StoredMessage> {
      return new Promise((resolve, reject) => {
        if (pending.push({ ...message, resolve, reject }) === 1) setImmediate(flush);
      });
    },
  };
}
