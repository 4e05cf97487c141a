// The load generator. One command per run; it starts the target server(s) itself on 127.0.0.1 with a scratch
// PostgreSQL database and a private Redis, drives them, samples them and stops them. See bench/README.md.
//
//   node --import tsx bench/load.ts --target service|socketio|ws-floor --scenario fanout|cross|cluster|idle|notify|max [knobs]
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectMany, type Transport } from './clients.ts';
import {
  createScratchDb,
  dropScratchDb,
  machineInfo,
  now,
  postJson,
  rssMB,
  sleep,
  startInstance,
  startPrivateCluster,
  startPrivateRedis,
  summarize,
  tokenMinter,
  UsageWindow,
  warmAgent,
  type HttpResult,
  type Instance,
  type Summary,
  type TargetKind,
  type Usage,
} from './lib.ts';

export type Scenario = 'fanout' | 'cross' | 'cluster' | 'idle' | 'notify' | 'max';

export interface Options {
  target: TargetKind;
  scenario: Scenario;
  /** Receiver users (fanout/cross/cluster/max) or likers (notify). */
  users: number;
  /** Sockets per receiving user (1..8). */
  devices: number;
  senders: number;
  /** Messages (or notify actions) per second once ramped up; the starting rate of `max`. */
  rate: number;
  /** Seconds of sending, ramp included (one trial of `max`). */
  duration: number;
  ramp: number;
  send: 'rest' | 'graphql';
  recv: Transport | 'auto';
  httpConns: number;
  /** Open-loop safety valve: sends beyond this many unanswered requests are skipped and counted. */
  maxInflight: number;
  /** Seconds to wait after the last send for answers and deliveries. */
  drain: number;
  /** idle: sockets to open, client processes holding them, handshakes in flight. */
  connections: number;
  procs: number;
  concurrency: number;
  /** max: pass criterion and search bounds (trials, seconds); idle: seconds allowed for connecting. */
  maxP99: number;
  trials: number;
  budget: number;
  /** Instances of the target: 2 sends on the first and receives on the second (default: 2 for cross, else 1). */
  instances?: number;
  /** Use this Redis (with a per-run key prefix) instead of a private redis-server. */
  redisUrl?: string;
  label: string;
  out?: string;
}

export const DEFAULTS: Options = {
  target: 'ws-floor',
  scenario: 'fanout',
  users: 1000,
  devices: 1,
  senders: 50,
  rate: 200,
  duration: 10,
  ramp: 3,
  send: 'rest',
  recv: 'auto',
  httpConns: 32,
  maxInflight: 5000,
  drain: 5,
  connections: 1000,
  procs: 0,
  concurrency: 100,
  maxP99: 100,
  trials: 8,
  budget: 120,
  label: 'run',
};

const MAX_MESSAGES = 2_000_000; // per trial, whatever rate × duration says
const MAX_DEVICES = 8; // one bit each in the delivery mask

export interface TrialResult {
  rate: number;
  seconds: number;
  sent: number;
  ok: number;
  skipped: number;
  httpErrors: Record<string, number>;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  /** Deliveries of messages whose send was answered with an error. */
  unexpected: number;
  /** Steady state (after the ramp): acknowledged sends per second and fully delivered messages per second. */
  achievedRate: number;
  deliveredRate: number;
  latencyMs: Summary;
  httpMs: Summary;
  usage: Usage;
  pass: boolean;
}

export interface RunResult {
  scenario: Scenario;
  target: TargetKind;
  variant: string;
  options: Options;
  machine: ReturnType<typeof machineInfo>;
  startedAt: string;
  connect?: { sockets: number; failed: number; seconds: number; perSecond: number; firstError?: string };
  trial?: TrialResult;
  trials?: TrialResult[];
  maxRate?: number;
  /** False when no trial failed: maxRate is then only a lower bound (the budget ran out first). */
  maxBounded?: boolean;
  idle?: { baseRssMB: number; rssMB: number; perSocketKB: number; openAfterSettle: number; usage: Usage };
  notify?: { videoId: number; actions: number; received: number[]; lastUnseenCount: number[]; unseenCountCorrect: boolean };
  error?: string;
}

// ---------------------------------------------------------------- session: database, Redis, instances

interface Session {
  opts: Options;
  secret: string;
  mint: (userId: number) => Promise<string>;
  instances: Instance[];
}

const cleanups = new Set<() => Promise<void>>();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, async () => {
    for (const c of cleanups) await c().catch(() => {});
    process.exit(130);
  });
}

async function withSession<T>(opts: Options, instanceCount: number, fn: (s: Session) => Promise<T>): Promise<T> {
  const runId = `${Date.now().toString(36)}_${process.pid}`;
  const dbName = `bench_${opts.label}_${runId}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const secret = randomBytes(32).toString('hex');
  const needsRedis = opts.scenario !== 'cluster' && (opts.target !== 'ws-floor' || instanceCount > 1);
  const redis = !needsRedis ? undefined : opts.redisUrl ? { url: opts.redisUrl, stop() {} } : await startPrivateRedis();
  const cluster = opts.scenario === 'cluster' ? await startPrivateCluster() : undefined;
  const instances: Instance[] = [];
  const cleanup = async () => {
    for (const i of instances) await i.stop();
    redis?.stop();
    cluster?.stop();
    await dropScratchDb(dbName);
  };
  cleanups.add(cleanup);
  try {
    const env: Record<string, string> = { DATABASE_URL: await createScratchDb(dbName), JWT_SECRET: secret, REDIS_PREFIX: `bench-${runId}` };
    if (redis) env.REDIS_URL = redis.url;
    if (cluster) env.REDIS_CLUSTER_NODES = cluster.nodes;
    // One after the other: the first one migrates the scratch database.
    for (let i = 0; i < instanceCount; i++) instances.push(await startInstance(opts.target, env, opts.label));
    return await fn({ opts, secret, mint: tokenMinter(secret), instances });
  } finally {
    cleanups.delete(cleanup);
    await cleanup();
  }
}

// ---------------------------------------------------------------- open-loop sending

/**
 * Calls fire(i) on schedule: the rate ramps linearly from 0 to `rate` over `ramp` s, then holds, until
 * `duration` s or `maxCount` calls. Open loop: fire never waits for earlier sends. Returns the calls made.
 */
async function openLoop(rate: number, duration: number, ramp: number, maxCount: number, fire: (i: number) => void, onSteady: () => void) {
  const due = (s: number) => (s < ramp ? (rate * s * s) / (2 * ramp) : rate * (ramp / 2 + s - ramp));
  const t0 = now();
  let issued = 0;
  let steady = false;
  for (;;) {
    const s = (now() - t0) / 1000;
    if (s >= duration || issued >= maxCount) break;
    if (!steady && s >= ramp) {
      steady = true;
      onSteady();
    }
    const target = Math.min(maxCount, Math.floor(due(s)));
    while (issued < target) fire(issued++);
    await sleep(1);
  }
  if (!steady) onSteady();
  return issued;
}

async function waitUntil(done: () => boolean, seconds: number) {
  const deadline = now() + seconds * 1000;
  while (!done() && now() < deadline) await sleep(20);
}

const SEND_MESSAGE = 'mutation($r: Int!, $c: String!) { sendMessage(receiverId: $r, content: $c) { id } }';

type Outcome = { ok: true } | { ok: false; error: string };

/** A GraphQL POST: ok when 200 without `errors`; otherwise the error code. */
async function graphql(agent: Agent, port: number, token: string, query: string, variables: object): Promise<Outcome & { data?: any }> {
  const r = await postJson(agent, port, '/graphql', token, { query, variables });
  if (r.status !== 200) return { ok: false, error: httpError(r) };
  let body;
  try {
    body = JSON.parse(r.body);
  } catch {
    return { ok: false, error: 'gql unparseable answer' };
  }
  if (body.errors?.length) return { ok: false, error: `gql ${body.errors[0].extensions?.code ?? body.errors[0].message}` };
  return { ok: true, data: body.data };
}

async function sendMessage(opts: Options, agent: Agent, port: number, token: string, receiverId: number, content: string): Promise<Outcome> {
  if (opts.send === 'graphql') return graphql(agent, port, token, SEND_MESSAGE, { r: receiverId, c: content });
  const r = await postJson(agent, port, '/api/v1/messages/', token, { receiverId, content });
  return r.status === 201 ? { ok: true } : { ok: false, error: httpError(r) };
}

const httpError = (r: HttpResult) => (r.status ? `http ${r.status}` : `net ${r.body}`);

// ---------------------------------------------------------------- one trial of message traffic

/**
 * The bookkeeping of one trial. Message content is `b <trial> <seq> <sendTimeMs>`: the receiver gets the send
 * time (performance.now of this process, taken just before the request) and the sequence number from the
 * message itself; `seen[seq]` has one bit per device of the receiver.
 */
class Trial {
  readonly sendAt: Float64Array;
  readonly state: Uint8Array; // 0 in flight or skipped, 1 acknowledged, 2 failed
  readonly seen: Uint8Array;
  readonly latencies: number[] = [];
  readonly httpLatencies: number[] = [];
  readonly errors: Record<string, number> = {};
  ok = 0;
  receipts = 0;
  duplicates = 0;
  inflight = 0;
  skipped = 0;
  steadyAt = Infinity;

  constructor(
    readonly id: number,
    readonly size: number,
  ) {
    this.sendAt = new Float64Array(size);
    this.state = new Uint8Array(size);
    this.seen = new Uint8Array(size);
  }

  receive(content: string, device: number) {
    const [tag, trial, seq, sentAt] = content.split(' ');
    if (tag !== 'b' || Number(trial) !== this.id) return; // a late delivery from an earlier trial
    this.mark(Number(seq), device, Number(sentAt));
  }

  /** Action i reached `device`; latency counts from `sentAt` when that is after the ramp. */
  mark(i: number, device: number, sentAt: number) {
    if (!(i >= 0 && i < this.size)) return;
    const bit = 1 << device;
    if (this.seen[i] & bit) return void this.duplicates++;
    this.seen[i] |= bit;
    this.receipts++;
    if (sentAt >= this.steadyAt) this.latencies.push(now() - sentAt);
  }

  settle(outcome: Outcome, i: number) {
    this.inflight--;
    this.state[i] = outcome.ok ? 1 : 2;
    if (outcome.ok) this.ok++;
    else this.errors[outcome.error] = (this.errors[outcome.error] ?? 0) + 1;
    if (this.sendAt[i] >= this.steadyAt) this.httpLatencies.push(now() - this.sendAt[i]);
  }
}

const popcount = (b: number) => {
  let n = 0;
  for (; b; b &= b - 1) n++;
  return n;
};

interface Traffic {
  /** Sends go to this instance; receivers are connected wherever `receivers` says. */
  sendPort: number;
  receiverIds: number[];
  senderTokens: string[];
  agent: Agent;
  pids: number[];
  /** Where receivers' message:new events go; each trial installs its own. */
  route: { trial?: Trial };
}

let trialCounter = 0;

async function runTrial(opts: Options, tr: Traffic, rate: number): Promise<TrialResult> {
  const trial = new Trial(++trialCounter, Math.min(MAX_MESSAGES, Math.ceil(rate * opts.duration) + 1));
  tr.route.trial = trial;
  try {
    return await drive(trial, opts, rate, tr.pids, (i, t) =>
      sendMessage(
        opts,
        tr.agent,
        tr.sendPort,
        tr.senderTokens[i % tr.senderTokens.length],
        tr.receiverIds[i % tr.receiverIds.length],
        `b ${trial.id} ${i} ${t.toFixed(3)}`,
      ),
    );
  } finally {
    tr.route.trial = undefined;
  }
}

/**
 * Issues trial actions open-loop at `rate` (`call(i, t)` sends action i, t = its send time), samples the
 * servers over the steady window, waits up to --drain s for answers, deliveries and `settled`, and sums up.
 * Receivers report through trial.receive/mark.
 */
async function drive(
  trial: Trial,
  opts: Options,
  rate: number,
  pids: number[],
  call: (i: number, t: number) => Promise<Outcome>,
  settled = () => true,
): Promise<TrialResult> {
  const usage = new UsageWindow(pids);
  const devices = opts.devices;
  const fire = (i: number) => {
    if (trial.inflight >= opts.maxInflight) return void trial.skipped++;
    trial.inflight++;
    const t = (trial.sendAt[i] = now());
    void call(i, t).then((o) => trial.settle(o, i));
  };
  const sent = await openLoop(rate, opts.duration, opts.ramp, trial.size, fire, () => {
    trial.steadyAt = now();
    usage.start();
  });
  const sendEnd = now();
  const use = usage.stop();
  await waitUntil(() => trial.inflight === 0 && trial.receipts >= trial.ok * devices && settled(), opts.drain);

  let delivered = 0;
  let unexpected = 0;
  let okSteady = 0;
  let deliveredSteady = 0;
  for (let i = 0; i < sent; i++) {
    const got = popcount(trial.seen[i]);
    const steady = trial.sendAt[i] >= trial.steadyAt;
    if (trial.state[i] === 1) {
      delivered += got;
      if (steady) okSteady++;
      if (steady && got === devices) deliveredSteady++;
    } else if (got) unexpected++;
  }
  const seconds = Math.max(0.001, (sendEnd - trial.steadyAt) / 1000);
  const expected = trial.ok * devices;
  const latencyMs = summarize(trial.latencies);
  const httpErrors = { ...trial.errors, ...(trial.inflight ? { unanswered: trial.inflight } : {}) };
  const result: TrialResult = {
    rate,
    seconds: Math.round(seconds * 10) / 10,
    sent: sent - trial.skipped,
    ok: trial.ok,
    skipped: trial.skipped,
    httpErrors,
    expected,
    delivered,
    lost: expected - delivered,
    duplicates: trial.duplicates,
    unexpected,
    achievedRate: Math.round(okSteady / seconds),
    deliveredRate: Math.round(deliveredSteady / seconds),
    latencyMs,
    httpMs: summarize(trial.httpLatencies),
    usage: use,
    pass: false,
  };
  result.pass =
    result.lost === 0 &&
    result.duplicates === 0 &&
    result.skipped === 0 &&
    Object.keys(httpErrors).length === 0 &&
    latencyMs.count > 0 &&
    latencyMs.p99 < opts.maxP99 &&
    result.achievedRate >= 0.95 * rate;
  return result;
}

// ---------------------------------------------------------------- scenarios

function receiverTransport(opts: Options): Transport {
  if (opts.recv === 'auto') return opts.target === 'socketio' ? 'socketio' : 'json';
  if (opts.recv === 'gql' && opts.target !== 'service') throw new Error('--recv gql needs --target service');
  return opts.recv;
}

function variantOf(opts: Options): string {
  if (opts.scenario === 'idle') return receiverTransport(opts);
  if (opts.scenario === 'notify') return `graphql → ${receiverTransport(opts)}`;
  const across = opts.scenario === 'max' && (opts.instances ?? 1) > 1 ? ' (other instance)' : '';
  return `${opts.send} → ${receiverTransport(opts)}${across}`;
}

/** Connects users × devices receivers to `port`; their `message:new` events go to the current trial. */
async function connectReceivers(s: Session, port: number, route: Traffic['route']) {
  const { users, devices, concurrency } = s.opts;
  const specs = [];
  for (let u = 1; u <= users; u++) {
    const token = await s.mint(u);
    for (let d = 0; d < devices; d++) {
      specs.push({
        userId: u,
        token,
        on: (type: string, data: any) => {
          if (type === 'message:new' && typeof data?.content === 'string') route.trial?.receive(data.content, d);
        },
      });
    }
  }
  const rep = await connectMany(receiverTransport(s.opts), port, specs, concurrency);
  const connect = {
    sockets: rep.conns.length,
    failed: rep.failed,
    seconds: Math.round(rep.ms / 100) / 10,
    perSecond: Math.round(rep.conns.length / (rep.ms / 1000)),
    firstError: rep.firstError,
  };
  if (rep.failed) throw Object.assign(new Error(`${rep.failed} receiver sockets failed: ${rep.firstError}`), { connect });
  const stray = rep.conns.find((c) => c.userId < 1 || c.userId > users);
  if (stray) throw new Error(`the server reports user id ${stray.userId} for a token whose sub is 1..${users}: ids must follow sub`);
  return { conns: rep.conns, connect };
}

/** fanout, cross, cluster and max: receivers on the last instance, senders on the first (the same one unless cross/cluster). */
async function messageScenario(s: Session, result: RunResult) {
  const { opts } = s;
  const route: Traffic['route'] = {};
  const recvInstance = s.instances[s.instances.length - 1];
  const { conns, connect } = await connectReceivers(s, recvInstance.port, route);
  result.connect = connect;
  const tr: Traffic = {
    sendPort: s.instances[0].port,
    receiverIds: Array.from({ length: opts.users }, (_, k) => k + 1),
    senderTokens: await Promise.all(Array.from({ length: opts.senders }, (_, k) => s.mint(opts.users + 1 + k))),
    agent: await warmAgent(s.instances[0].port, opts.httpConns),
    pids: s.instances.map((i) => i.pid),
    route,
  };
  try {
    await sleep(opts.recv === 'gql' ? 2000 : 1000); // subscriptions are registered after the handshake answers
    if (opts.scenario === 'max') {
      result.trials = await searchMax(opts, tr);
      result.maxRate = Math.max(0, ...result.trials.filter((t) => t.pass).map((t) => t.rate));
      result.maxBounded = result.trials.some((t) => !t.pass);
    } else result.trial = await runTrial(opts, tr, opts.rate);
  } finally {
    tr.agent.destroy();
    for (const c of conns) c.close();
  }
}

/**
 * Doubles the rate while trials pass, then bisects between the best pass and the lowest failure. A short
 * warm-up trial (discarded) comes first, and a failure is repeated once before it counts: on a shared 2-vCPU
 * machine one noisy trial would otherwise end the search far below the real limit.
 */
async function searchMax(opts: Options, tr: Traffic): Promise<TrialResult[]> {
  const deadline = now() + opts.budget * 1000;
  const warm = await runTrial({ ...opts, duration: 4, ramp: 1 }, tr, Math.round(opts.rate / 2));
  log(`  warm-up (not counted): ${describeTrial(warm)}`);
  const trials: TrialResult[] = [];
  const repeated = new Set<number>();
  let lo = 0;
  let hi = Infinity;
  let rate = opts.rate;
  for (let k = 0; k < opts.trials && now() + (2 + opts.duration + opts.drain) * 1000 < deadline; k++) {
    await sleep(2000); // let the previous trial's backlog and garbage go
    const t = await runTrial(opts, tr, rate);
    trials.push(t);
    log(`  max trial ${k + 1}: ${describeTrial(t)}`);
    if (!t.pass && !repeated.has(rate)) {
      repeated.add(rate); // same rate once more
      continue;
    }
    if (t.pass) lo = Math.max(lo, rate);
    else hi = Math.min(hi, rate);
    if (hi !== Infinity && hi - lo <= Math.max(10, 0.08 * hi)) break;
    rate = hi === Infinity ? rate * 2 : lo === 0 ? Math.round(hi / 2) : Math.round((lo + hi) / 2 / 10) * 10;
  }
  return trials;
}

async function idleScenario(s: Session, result: RunResult) {
  const { opts } = s;
  const inst = s.instances[0];
  const n = opts.connections;
  const procs = opts.procs || Math.max(1, Math.ceil(n / 9000));
  await sleep(1000);
  const baseRssMB = rssMB(inst.pid);
  const per = Math.ceil(n / procs);
  const workerFile = fileURLToPath(new URL('./idle-worker.ts', import.meta.url));
  const workers = Array.from({ length: procs }, () => fork(workerFile, { execArgv: ['--import', 'tsx'], stdio: 'inherit' }));
  const ask = <T>(w: (typeof workers)[number], msg: object) =>
    new Promise<T>((resolve, reject) => {
      w.once('message', (m) => resolve(m as T));
      w.once('exit', (code) => reject(new Error(`idle worker exited with ${code}`)));
      w.send(msg);
    });
  try {
    const transport = receiverTransport(opts);
    await Promise.all(
      workers.map((w, k) =>
        ask(w, {
          cmd: 'init',
          transport,
          port: inst.port,
          secret: s.secret,
          from: k * per,
          count: Math.max(0, Math.min(per, n - k * per)),
          devices: opts.devices,
          concurrency: Math.ceil(opts.concurrency / procs),
          budgetMs: opts.budget * 1000,
        }),
      ),
    );
    const usage = new UsageWindow([inst.pid]).start();
    const t0 = now();
    const reps = await Promise.all(workers.map((w) => ask<{ connected: number; failed: number; firstError?: string }>(w, { cmd: 'go' })));
    const seconds = (now() - t0) / 1000;
    const use = usage.stop();
    const sockets = reps.reduce((a, r) => a + r.connected, 0);
    const failed = reps.reduce((a, r) => a + r.failed, 0);
    result.connect = {
      sockets,
      failed,
      seconds: Math.round(seconds * 10) / 10,
      perSecond: Math.round(sockets / seconds),
      firstError: reps.find((r) => r.firstError)?.firstError,
    };
    await sleep(3000); // let the server settle before reading its memory
    const rss = rssMB(inst.pid);
    const open = (await Promise.all(workers.map((w) => ask<{ open: number }>(w, { cmd: 'status' })))).reduce((a, r) => a + r.open, 0);
    result.idle = {
      baseRssMB: baseRssMB,
      rssMB: rss,
      perSocketKB: sockets ? Math.round(((rss - baseRssMB) * 1024 * 10) / sockets) / 10 : 0,
      openAfterSettle: open,
      usage: use,
    };
  } finally {
    for (const w of workers) if (w.connected) w.send({ cmd: 'close' });
    await Promise.all(workers.map((w) => (w.exitCode !== null ? undefined : new Promise((r) => w.once('exit', r)))));
  }
}

const CREATE_VIDEO = 'mutation($t: String!) { createVideo(title: $t) { id } }';
const LIKE_VIDEO = 'mutation($v: Int!) { likeVideo(videoId: $v) { id } }';
const COMMENT = 'mutation($v: Int!, $c: String!) { commentOnVideo(videoId: $v, content: $c) { id } }';
/** The graphql-ws variant of notify subscribes to the same two streams the JSON socket pushes. */
const NOTIFICATION_SUBSCRIPTIONS = {
  'notification:new': 'subscription { notificationNew { type actor { id } } }',
  'notification:unseen_count': 'subscription { unseenCount }',
};

/**
 * One popular video: each of `users` likers likes it and comments once (action 2k is liker k's like, 2k+1 their
 * comment); the owner's devices must get every notification once, and a last unseen count equal to the
 * notifications they got (and so to every acknowledged action, when nothing is lost).
 */
async function notifyScenario(s: Session, result: RunResult) {
  const { opts } = s;
  if (opts.target !== 'service') throw new Error('notify drives the service only (the peers have no notifications)');
  const inst = s.instances[0];
  const owner = 1;
  const ownerToken = await s.mint(owner);
  const trial = new Trial(++trialCounter, 2 * opts.users);
  const received = Array.from({ length: opts.devices }, () => 0);
  const lastCount = Array.from({ length: opts.devices }, () => -1);
  const specs = received.map((_, d) => ({
    userId: owner,
    token: ownerToken,
    subscriptions: NOTIFICATION_SUBSCRIPTIONS,
    on: (type: string, data: any) => {
      if (type === 'notification:unseen_count') lastCount[d] = typeof data === 'number' ? data : data.count;
      if (type !== 'notification:new') return;
      received[d]++;
      const i = 2 * (Number(data.actor?.id) - owner - 1) + (String(data.type).toLowerCase() === 'comment' ? 1 : 0);
      trial.mark(i, d, trial.sendAt[i]);
    },
  }));
  const rep = await connectMany(receiverTransport(opts), inst.port, specs, opts.devices);
  if (rep.failed) throw new Error(`owner sockets failed: ${rep.firstError}`);
  const agent = await warmAgent(inst.port, opts.httpConns);
  try {
    const video = await graphql(agent, inst.port, ownerToken, CREATE_VIDEO, { t: 'bench video' });
    if (!video.ok) throw new Error(`createVideo failed: ${video.error}`);
    const videoId: number = video.data.createVideo.id;
    const likerTokens = await Promise.all(Array.from({ length: opts.users }, (_, k) => s.mint(owner + 1 + k)));
    await sleep(1000);
    const countsMatch = () => lastCount.every((c, d) => c === received[d]);
    result.trial = await drive(
      trial,
      opts,
      opts.rate,
      [inst.pid],
      (i) =>
        i & 1
          ? graphql(agent, inst.port, likerTokens[i >> 1], COMMENT, { v: videoId, c: `comment ${i}` })
          : graphql(agent, inst.port, likerTokens[i >> 1], LIKE_VIDEO, { v: videoId }),
      countsMatch,
    );
    const t = result.trial;
    // Correctness, not speed: notification latency is reported, not judged.
    t.pass = t.lost === 0 && t.duplicates === 0 && t.unexpected === 0 && Object.keys(t.httpErrors).length === 0 && countsMatch();
    result.notify = { videoId, actions: t.sent, received, lastUnseenCount: lastCount, unseenCountCorrect: countsMatch() };
  } finally {
    agent.destroy();
    for (const c of rep.conns) c.close();
  }
}

// ---------------------------------------------------------------- entry points

export async function runScenario(partial: Partial<Options>): Promise<RunResult> {
  const opts: Options = { ...DEFAULTS, ...partial };
  if (opts.devices < 1 || opts.devices > MAX_DEVICES) throw new Error(`--devices must be 1..${MAX_DEVICES}`);
  if (opts.send === 'graphql' && opts.target !== 'service') throw new Error('--send graphql needs --target service');
  if (!(opts.ramp < opts.duration)) throw new Error('--ramp must be shorter than --duration');
  if (opts.scenario === 'cluster' && opts.target !== 'service') throw new Error('--scenario cluster needs --target service (the peers speak to one Redis)');
  const result: RunResult = {
    scenario: opts.scenario,
    target: opts.target,
    variant: variantOf(opts),
    options: opts,
    machine: machineInfo(),
    startedAt: new Date().toISOString(),
  };
  const instances = opts.instances ?? (opts.scenario === 'cross' || opts.scenario === 'cluster' ? 2 : 1);
  try {
    await withSession(opts, instances, (s) => {
      if (opts.scenario === 'idle') return idleScenario(s, result);
      if (opts.scenario === 'notify') return notifyScenario(s, result);
      return messageScenario(s, result);
    });
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
    result.connect ??= (e as { connect?: RunResult['connect'] }).connect;
  }
  return result;
}

export function log(line: string) {
  process.stderr.write(`${line}\n`);
}

const fmtLatency = (l: Summary) => `p50 ${l.p50} p95 ${l.p95} p99 ${l.p99} max ${l.max} ms`;

export function describeTrial(t: TrialResult): string {
  const errs =
    Object.entries(t.httpErrors)
      .map(([k, v]) => `${k}×${v}`)
      .join(' ') || 'none';
  const u = t.usage;
  return (
    `rate ${t.rate}/s → ${t.achievedRate}/s sent, ${t.deliveredRate}/s delivered; delivered ${t.delivered}/${t.expected} ` +
    `(lost ${t.lost}, dup ${t.duplicates}, skipped ${t.skipped}); latency ${fmtLatency(t.latencyMs)}; http ${fmtLatency(t.httpMs)}; ` +
    `errors ${errs}; server cpu ${u.serverCpuPct.join('+')}% rss ${u.serverRssPeakMB.join('+')} MB; generator cpu ${u.generatorCpuPct}%; ` +
    `machine busy ${u.machineBusyPct}%; ${t.pass ? 'PASS' : 'FAIL'}`
  );
}

export function describe(r: RunResult): string {
  const lines = [`[${r.scenario}] ${r.target} (${r.variant})`];
  if (r.connect) lines.push(`  sockets ${r.connect.sockets} (failed ${r.connect.failed}) in ${r.connect.seconds} s = ${r.connect.perSecond}/s`);
  if (r.trial) lines.push(`  ${describeTrial(r.trial)}`);
  if (r.maxRate !== undefined)
    lines.push(`  max sustainable rate: ${r.maxBounded ? '' : '≥ '}${r.maxRate}/s (p99 < ${r.options.maxP99} ms, no loss) after ${r.trials?.length} trials`);
  if (r.idle)
    lines.push(
      `  server rss ${r.idle.baseRssMB} → ${r.idle.rssMB} MB = ${r.idle.perSocketKB} KB/socket; open after settle ${r.idle.openAfterSettle}; cpu while connecting ${r.idle.usage.serverCpuPct}%`,
    );
  if (r.notify)
    lines.push(
      `  notifications received per device ${r.notify.received.join(', ')}, last unseen count ${r.notify.lastUnseenCount.join(', ')} (${r.notify.unseenCountCorrect ? 'correct' : 'WRONG'})`,
    );
  if (r.error) lines.push(`  ERROR ${r.error}`);
  return lines.join('\n');
}

function cli(): Partial<Options> {
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const { values } = parseArgs({
    options: Object.fromEntries(
      [
        'target',
        'scenario',
        'users',
        'devices',
        'senders',
        'rate',
        'duration',
        'ramp',
        'send',
        'recv',
        'http-conns',
        'max-inflight',
        'drain',
        'connections',
        'procs',
        'concurrency',
        'max-p99',
        'trials',
        'budget',
        'instances',
        'redis-url',
        'label',
        'out',
      ].map((k) => [k, { type: 'string' as const }]),
    ),
  });
  const camel = (k: string) => k.replace(/-(.)/g, (_, c: string) => c.toUpperCase());
  const textual = new Set(['target', 'scenario', 'send', 'recv', 'redisUrl', 'label', 'out']);
  const opts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    const key = camel(k);
    const value = textual.has(key) ? v : num(v as string);
    if (typeof value === 'number' && !(value >= 0)) throw new Error(`--${k} must be a non-negative number`);
    opts[key] = value;
  }
  return opts as Partial<Options>;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const partial = cli();
  const result = await runScenario(partial);
  console.log(describe(result));
  console.log(`  machine: ${JSON.stringify(result.machine)}`);
  if (result.options.out) writeFileSync(result.options.out, JSON.stringify(result, null, 2));
  process.exit(result.error ? 1 : 0);
}
