// The live JS heap per idle JSON socket, for finding what each socket keeps (issue #10): one service instance,
// WARM sockets first (lazily loaded code and caches are not per-socket costs), a full GC, then N more sockets and
// another full GC. The full GCs are the ones V8 runs before writing a heap snapshot (--heapsnapshot-signal); the
// snapshots are kept in --dir for a closer look (Chrome DevTools, Memory tab: comparison view).
//   node --import tsx bench/idle-heap.ts [--sockets 5000] [--dir /tmp/idle-heap]
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createScratchDb, dropScratchDb, machineInfo, rssMB, sleep, startInstance, startPrivateRedis } from './lib.ts';

const { values } = parseArgs({ options: { sockets: { type: 'string', default: '5000' }, dir: { type: 'string', default: '/tmp/idle-heap' } } });
const N = Number(values.sockets);
const WARM = 500;
const dir = values.dir!;
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
process.env.BENCH_NODE_ARGS = `${process.env.BENCH_NODE_ARGS ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`;

const db = `bench_idle_heap_${Date.now().toString(36)}`;
const redis = await startPrivateRedis();
const secret = randomBytes(32).toString('hex');
const inst = await startInstance('service', { DATABASE_URL: await createScratchDb(db), JWT_SECRET: secret, REDIS_URL: redis.url }, 'idle-heap');

const heapUsed = async () => {
  const text = await (await fetch(`http://127.0.0.1:${inst.port}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)![1]);
};
/** Heap used after the full GC of a heap snapshot. */
const collectedHeap = async () => {
  const before = new Set(readdirSync(dir));
  process.kill(inst.pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  while (!readdirSync(dir).some((f) => !before.has(f))) {
    if (Date.now() > deadline) throw new Error('no heap snapshot within 120 s');
    await sleep(300);
  }
  await sleep(2000); // the snapshot is written after the GC; let the file finish
  return heapUsed();
};

/** Self size by kind of heap object (constructor name; strings, code, arrays and closures each as one kind). */
function heapByKind(file: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const {
    node_fields: fields,
    node_types: [types],
  } = snap.snapshot.meta;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const kinds = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + typeAt!]!]!;
    const kind = type === 'object' || type === 'native' ? snap.strings[snap.nodes[i + nameAt!]!]!.slice(0, 40) : `(${type})`;
    const k = kinds.get(kind) ?? kinds.set(kind, { count: 0, bytes: 0 }).get(kind)!;
    k.count++;
    k.bytes += snap.nodes[i + sizeAt!]!;
  }
  return kinds;
}

const workers: ReturnType<typeof fork>[] = [];
async function connect(from: number, count: number) {
  const worker = fork(fileURLToPath(new URL('./idle-worker.ts', import.meta.url)), { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  workers.push(worker);
  const ask = <T>(msg: object) => new Promise<T>((resolve) => (worker.once('message', (m) => resolve(m as T)), worker.send(msg)));
  await ask({ cmd: 'init', transport: 'json', port: inst.port, secret, from, count, devices: 1, concurrency: 200, budgetMs: 120_000 });
  const report = await ask<{ connected: number; failed: number; firstError?: string }>({ cmd: 'go' });
  if (report.failed) throw new Error(`${report.failed} sockets failed: ${report.firstError}`);
}

try {
  await connect(0, WARM);
  const heap0 = await collectedHeap();
  const rss0 = rssMB(inst.pid);
  await connect(WARM, N);
  await sleep(3000);
  const rss1 = rssMB(inst.pid);
  const used = await heapUsed();
  const heap1 = await collectedHeap();
  const kb = (bytes: number) => (bytes / N / 1024).toFixed(2);
  console.log(`machine: ${JSON.stringify(machineInfo())}`);
  console.log(`${N} idle sockets after ${WARM} warm-up ones, per socket:`);
  console.log(
    `  live heap after a full GC ${kb(heap1 - heap0)} KB; heap used 3 s after connecting ${kb(used - heap0)} KB; RSS then ${kb((rss1 - rss0) * 2 ** 20)} KB`,
  );
  const [before, after] = readdirSync(dir)
    .sort()
    .map((f) => heapByKind(`${dir}/${f}`));
  const grown = [...after!].map(([kind, k]) => ({
    kind,
    count: (k.count - (before!.get(kind)?.count ?? 0)) / N,
    bytes: (k.bytes - (before!.get(kind)?.bytes ?? 0)) / N,
  }));
  console.log(`  heap snapshots (${dir}): ${grown.reduce((sum, g) => sum + g.bytes, 0).toFixed(0)} bytes more per socket; the largest kinds:`);
  for (const g of grown.sort((a, b) => b.bytes - a.bytes).slice(0, 20))
    console.log(`    ${g.bytes.toFixed(0).padStart(6)} B ${g.count.toFixed(2).padStart(6)} × ${g.kind}`);
} finally {
  for (const w of workers) if (w.connected) w.send({ cmd: 'close' });
  await inst.stop();
  redis.stop();
  await dropScratchDb(db);
}
