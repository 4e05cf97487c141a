// Shared helpers of the load generator: statistics, /proc sampling, machine facts, token minting, scratch
// databases and starting target servers as child processes. Everything talks to 127.0.0.1 only.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect as tcpConnect, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import pg from 'pg';

export const HOST = '127.0.0.1';
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const now = () => performance.now();
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------- statistics

export interface Summary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of a list of milliseconds (sorted in place). */
export function summarize(values: number[]): Summary {
  if (values.length === 0) return { count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  values.sort((a, b) => a - b);
  const at = (p: number) => values[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)];
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return { count: values.length, mean: round(mean), p50: round(at(50)), p95: round(at(95)), p99: round(at(99)), max: round(values[values.length - 1]) };
}

// ---------------------------------------------------------------- process and machine sampling

const CLK_TCK = 100; // USER_HZ on Linux; /proc/<pid>/stat counts in these ticks

function procCpuMs(pid: number): number {
  // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

function procRssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((s, v) => s + v, 0);
  return { busy: total - cpu[3] - (cpu[4] ?? 0), total };
}

export interface Usage {
  /** CPU of each server process, % of one core, averaged over the window. */
  serverCpuPct: number[];
  serverRssMB: number[];
  serverRssPeakMB: number[];
  /** This generator's own CPU (% of one core). */
  generatorCpuPct: number;
  /** The whole machine's busy share, % of all cores (server + generator + everything else). */
  machineBusyPct: number;
  loadavg: number[];
}

/**
 * Samples the server processes every 250 ms (RSS peak) and measures CPU between start() and stop().
 * Bounded: it only runs while a window is open.
 */
export class UsageWindow {
  private cpu0: number[] = [];
  private gen0 = process.cpuUsage();
  private mach0 = machineTicks();
  private t0 = 0;
  private peaks: number[] = [];
  private timer?: NodeJS.Timeout;
  constructor(private pids: number[]) {}

  start() {
    this.t0 = now();
    this.cpu0 = this.pids.map(procCpuMs);
    this.gen0 = process.cpuUsage();
    this.mach0 = machineTicks();
    this.peaks = this.pids.map(procRssMB);
    this.timer = setInterval(() => {
      this.pids.forEach((pid, i) => (this.peaks[i] = Math.max(this.peaks[i], procRssMB(pid))));
    }, 250);
    return this;
  }

  stop(): Usage {
    clearInterval(this.timer);
    const wall = now() - this.t0;
    const gen = process.cpuUsage(this.gen0);
    const mach = machineTicks();
    const rss = this.pids.map(procRssMB);
    return {
      serverCpuPct: this.pids.map((pid, i) => round(((procCpuMs(pid) - this.cpu0[i]) / wall) * 100, 1)),
      serverRssMB: rss.map((v) => round(v, 1)),
      serverRssPeakMB: rss.map((v, i) => round(Math.max(v, this.peaks[i]), 1)),
      generatorCpuPct: round(((gen.user + gen.system) / 1000 / wall) * 100, 1),
      machineBusyPct: round(((mach.busy - this.mach0.busy) / Math.max(1, mach.total - this.mach0.total)) * 100, 1),
      loadavg: os.loadavg().map((v) => round(v)),
    };
  }
}

export const rssMB = (pid: number) => round(procRssMB(pid), 1);

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    loadavg: os.loadavg().map((v) => round(v)),
    totalMemMB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
  };
}

// ---------------------------------------------------------------- tokens

/** Mints HS256 tokens the way an external app backend would: `sub` = id, `username` creates the user. */
export function tokenMinter(secret: string) {
  const key = new TextEncoder().encode(secret);
  return (userId: number) =>
    new SignJWT({ username: `bench_u${userId}` })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(userId))
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(key);
}

// ---------------------------------------------------------------- HTTP

export interface HttpResult {
  status: number; // 0 = network error or timeout, named in `body`
  body: string;
}

/**
 * One POST through a keep-alive agent; never rejects (status 0 on a network error or after timeoutMs). A request
 * on a reused socket that the server closed as idle at the same moment is retried once, as Node's docs advise.
 */
export function postJson(agent: Agent, port: number, urlPath: string, token: string, body: unknown, timeoutMs = 30_000): Promise<HttpResult> {
  const payload = JSON.stringify(body);
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${token}` };
  const attempt = (retry: boolean): Promise<HttpResult> =>
    new Promise((resolve) => {
      const req = request({ agent, host: HOST, port, path: urlPath, method: 'POST', headers, timeout: timeoutMs }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', () => resolve({ status: 0, body: text }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err: NodeJS.ErrnoException) =>
        resolve(retry && req.reusedSocket && err.code === 'ECONNRESET' ? attempt(false) : { status: 0, body: err.code ?? err.message }),
      );
      req.end(payload);
    });
  return attempt(true);
}

export function getStatus(port: number, urlPath: string, agent?: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ agent, host: HOST, port, path: urlPath, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** A keep-alive agent with `sockets` connections opened up front, so the run does not pay TCP handshakes at full rate. */
export async function warmAgent(port: number, sockets: number): Promise<Agent> {
  // fifo keeps every connection busy, so none sits idle long enough for the server's keep-alive timeout.
  const agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets, scheduling: 'fifo' });
  await Promise.all(Array.from({ length: sockets }, () => getStatus(port, '/healthz', agent)));
  return agent;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

// ---------------------------------------------------------------- scratch database

const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates a fresh database for one run and returns its URL; never touches any other database. */
export async function createScratchDb(name: string): Promise<string> {
  if (!/^bench_[a-z0-9_]+$/.test(name)) throw new Error(`bad scratch database name ${name}`);
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropScratchDb(name: string) {
  if (!/^bench_[a-z0-9_]+$/.test(name)) return;
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

// ---------------------------------------------------------------- target servers

export type TargetKind = 'service' | 'socketio' | 'ws-floor';

export const TARGET_ENTRY: Record<TargetKind, string> = {
  service: 'src/main.ts',
  socketio: 'bench/peers/socketio/server.ts',
  'ws-floor': 'bench/peers/ws-floor/server.ts',
};

export interface Instance {
  kind: TargetKind;
  port: number;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/** Env that keeps the service's own limits from shaping a throughput benchmark (documented in bench/README.md). */
const SERVICE_BENCH_ENV = {
  LOG_LEVEL: 'warn',
  RATE_LIMIT_MESSAGES_PER_MIN: '100000000',
  RATE_LIMIT_CONNECTIONS_PER_MIN: '100000000',
  RATE_LIMIT_GRAPHQL_PER_MIN: '100000000',
  RATE_LIMIT_AUTH_PER_MIN: '0',
  WS_IDLE_TIMEOUT_MS: '0',
};

/**
 * Starts one target as `node --import tsx <entry>` (no npm in between, so the pid sampled is the server's)
 * and waits until GET /healthz answers 200 (and /readyz, where the target has one).
 */
export async function startInstance(kind: TargetKind, env: Record<string, string>, label: string): Promise<Instance> {
  const port = await freePort();
  const logDir = path.join(os.tmpdir(), 'bench-logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${label}-${kind}-${port}.log`);
  const log = createWriteStream(logFile);
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the targets; Node refuses it in NODE_OPTIONS.
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', TARGET_ENTRY[kind]], {
    cwd: REPO,
    env: {
      ...process.env,
      ...(kind === 'service' ? { ...SERVICE_BENCH_ENV, DATA_DIR: path.join(os.tmpdir(), `bench-data-${port}`) } : {}),
      ...env,
      PORT: String(port),
      HOST,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  const tail = () => readFileSync(logFile, 'utf8').slice(-2000);

  const deadline = now() + 60_000;
  while ((await getStatus(port, '/healthz')) !== 200) {
    if (exited) throw new Error(`${kind} exited during start-up; log ${logFile}:\n${tail()}`);
    if (now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${kind} did not answer /healthz within 60 s; log ${logFile}:\n${tail()}`);
    }
    await sleep(100);
  }
  while (kind === 'service' && ![200, 404].includes(await getStatus(port, '/readyz')) && now() < deadline) await sleep(200);

  return {
    kind,
    port,
    pid: child.pid!,
    logFile,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(killer);
    },
  };
}

// ---------------------------------------------------------------- private Redis

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tcpConnect(port, HOST, () => sock.write('PING\r\n'));
    sock.setTimeout(1000, () => (sock.destroy(), resolve(false)));
    sock.on('data', (d) => (sock.destroy(), resolve(String(d).startsWith('+PONG'))));
    sock.on('error', () => resolve(false));
  });
}

/**
 * A throw-away redis-server on a free port, no persistence. The machine's Redis is shared with other tests, and
 * the service's channel names cannot be prefixed, so a benchmark's traffic must not reach their subscribers.
 */
export async function startPrivateRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  let dead = false;
  child.once('error', () => (dead = true)).once('exit', () => (dead = true));
  const deadline = now() + 10_000;
  while (!(await redisPing(port))) {
    if (dead || now() > deadline) throw new Error('redis-server did not start (is it on PATH? or pass --redis-url)');
    await sleep(50);
  }
  return { url: `redis://${HOST}:${port}`, stop: () => void child.kill('SIGTERM') };
}

/**
 * A throw-away Redis Cluster of `masters` masters (no replicas: a load test, not a failover test), for the `cluster`
 * scenario. Returns REDIS_CLUSTER_NODES for the service.
 */
export async function startPrivateCluster(masters = 3): Promise<{ nodes: string; stop: () => void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-cluster-'));
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i++) ports.push(await freePort());
    for (const port of ports) {
      const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir];
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`);
      children.push(spawn('redis-server', args, { stdio: 'ignore' }));
    }
    const deadline = now() + 10_000;
    for (const port of ports) {
      while (!(await redisPing(port))) {
        if (now() > deadline) throw new Error('redis-server (cluster mode) did not start');
        await sleep(50);
      }
    }
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-yes'], { timeout: 30_000 });
    // Slots are assigned; each node must also know the others before the service asks for the slot map.
    while (!(await Promise.all(ports.map((port) => redisInfoOk(port)))).every(Boolean)) {
      if (now() > deadline + 20_000) throw new Error('the Redis Cluster did not reach cluster_state:ok');
      await sleep(100);
    }
    return { nodes: ports.map((p) => `${HOST}:${p}`).join(','), stop };
  } catch (err) {
    stop();
    throw err;
  }
}

function redisInfoOk(port: number): Promise<boolean> {
  return promisify(execFile)('redis-cli', ['-h', HOST, '-p', String(port), 'CLUSTER', 'INFO'], { timeout: 2000 }).then(
    ({ stdout }) => stdout.includes('cluster_state:ok'),
    () => false,
  );
}
