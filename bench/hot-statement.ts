// The send statement through the Prisma client (adapter-pg) against the same SQL through `pg` directly (issue #10:
// "measure the hot statements through the Prisma client against the same SQL through pg"). Trials alternate between
// the two on one scratch database, so both see the same machine; read the ratio.
//   node --import tsx bench/hot-statement.ts [--messages 3000] [--concurrency 10] [--batch 1] [--rounds 4]
import { parseArgs } from 'node:util';
import os from 'node:os';
import pg from 'pg';
import { openDatabase } from '../src/db/database.ts';
import { createLogger } from '../src/observability/logger.ts';
import { INSERT_MESSAGES, columnsOf, type NewMessage } from '../src/domain/message-batch.ts';
import { createScratchDb, dropScratchDb, machineInfo } from './lib.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '10' },
    batch: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '4' },
  },
});
const [messages, concurrency, batchSize, rounds] = [values.messages, values.concurrency, values.batch, values.rounds].map(Number) as [
  number,
  number,
  number,
  number,
];

const scratchName = `bench_hot_${process.pid}`;
const scratchUrl = await createScratchDb(scratchName);
const db = await openDatabase({ databaseUrl: scratchUrl, dataDir: os.tmpdir(), logger: createLogger('warn') });
const pool = new pg.Pool({ connectionString: scratchUrl, max: 10 });
try {
  const users = await Promise.all(Array.from({ length: 100 }, (_, i) => db.prisma.user.create({ data: { username: `u${i}`, usernameKey: `u${i}` } })));
  const batchOf = (i: number): NewMessage[] =>
    Array.from({ length: batchSize }, (_, j) => ({
      senderId: users[(i + j) % 100]!.id,
      receiverId: users[(i + j + 1) % 100]!.id,
      content: `hello ${i}`,
      clientMessageId: null,
    }));
  const runners = {
    prisma: (i: number) => db.prisma.$queryRawUnsafe(INSERT_MESSAGES, ...columnsOf(batchOf(i))),
    pg: (i: number) => pool.query(INSERT_MESSAGES, columnsOf(batchOf(i))),
  };
  const rates: Record<keyof typeof runners, number[]> = { prisma: [], pg: [] };
  for (let round = 0; round < rounds; round++) {
    for (const name of Object.keys(runners) as (keyof typeof runners)[]) {
      const run = runners[name];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < messages / batchSize) await run(next++);
        }),
      );
      rates[name].push(Math.round(messages / ((performance.now() - started) / 1000)));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(JSON.stringify({ machine: machineInfo(), messages, concurrency, batchSize, rounds, messagesPerSecond: rates }, null, 1));
  console.log(`median msg/s: prisma ${median(rates.prisma)}, pg ${median(rates.pg)}; prisma ÷ pg = ${(median(rates.prisma) / median(rates.pg)).toFixed(2)}`);
} finally {
  await pool.end();
  await db.close();
  await dropScratchDb(scratchName);
}
