// A Redis Cluster owned by one test: masters with one replica each, on free ports, with a short node timeout so
// that a failover takes seconds. Nodes can be killed and started again (they rejoin from their nodes.conf).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './redis-server.ts';

const run = promisify(execFile);
const NODE_TIMEOUT_MS = 1000;

/** Why a cluster cannot run here (no redis-server, or one without cluster mode or sharded pub/sub), else undefined. */
export async function clusterUnsupported(): Promise<string | undefined> {
  try {
    const { stdout } = await run('redis-server', ['--version']);
    const major = Number(/v=(\d+)\./.exec(stdout)?.[1]);
    if (!(major >= 7)) return `redis-server ${stdout.trim()} has no sharded pub/sub (7.0 or later needed)`;
    await run('redis-cli', ['--version']);
  } catch (err) {
    return `redis-server/redis-cli not usable: ${(err as Error).message}`;
  }
  return undefined;
}

/** Runs `use` on a short-lived plain connection to one node. */
async function withNode<T>(port: number, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

const ask = (port: number, command: string, ...args: string[]) => withNode(port, async (c) => String(await c.call(command, ...args)));

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`redis cluster: ${what} not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export class OwnCluster {
  private readonly processes = new Map<number, ChildProcess>();
  private constructor(
    readonly ports: number[],
    private readonly dir: string,
  ) {}

  static async start(masters = 3): Promise<OwnCluster> {
    const ports: number[] = [];
    for (let i = 0; i < masters * 2; i++) ports.push(await freePort());
    const cluster = new OwnCluster(ports, await mkdtemp(path.join(tmpdir(), 'rt-cluster-')));
    try {
      await Promise.all(ports.map((port) => cluster.startNode(port)));
      await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
      await cluster.settled();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** REDIS_CLUSTER_NODES for the app: every node as a seed. */
  get seeds(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  /** The port of the master serving `slot`, as a live node sees it. */
  async masterOf(slot: number): Promise<number> {
    for (const port of this.processes.keys()) {
      try {
        const rows = await withNode(port, (c) => c.cluster('SLOTS'));
        const master = rows.find(([from, to]) => from <= slot && slot <= to)?.[2];
        if (master) return master[1];
      } catch {
        continue;
      }
    }
    throw new Error(`no live node knows slot ${slot}`);
  }

  async keyslot(key: string): Promise<number> {
    return Number(await ask([...this.processes.keys()][0]!, 'CLUSTER', 'KEYSLOT', key));
  }

  /** Runs `use` on a short-lived plain connection to one node. */
  client<T>(port: number, use: (client: Redis) => Promise<T>): Promise<T> {
    return withNode(port, use);
  }

  /** Kills a node at once (SIGKILL), as a crash would. */
  async kill(port: number): Promise<void> {
    const child = this.processes.get(port);
    this.processes.delete(port);
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Kills a master and waits until its replica took over its slots and the cluster is whole again. */
  async failOver(master: number, timeoutMs = 30_000): Promise<void> {
    await this.kill(master);
    await until(
      `a replica replaces master ${master}`,
      async () => {
        for (const port of this.processes.keys()) {
          const rows = await withNode(port, (c) => c.cluster('SLOTS'));
          if (rows.some((row) => row[2]?.[1] === master)) return false;
        }
        return true;
      },
      timeoutMs,
    );
    await this.settled(timeoutMs);
  }

  /** The port of a master's replica. */
  async replicaOf(master: number): Promise<number> {
    const replication = await ask(master, 'INFO', 'replication');
    const port = /slave0:ip=[^,]+,port=(\d+)/.exec(replication)?.[1];
    if (!port) throw new Error(`master ${master} has no replica`);
    return Number(port);
  }

  /** Starts killed nodes again; they rejoin the cluster from their nodes.conf. */
  async restart(...ports: number[]): Promise<void> {
    await Promise.all(ports.map((port) => this.startNode(port)));
    await this.settled();
  }

  /** Every live node sees every slot served, and every replica is in sync with its master. */
  async settled(timeoutMs = 30_000): Promise<void> {
    await until(
      'every live node reports cluster_state:ok, every replica a live link',
      async () => {
        for (const port of this.processes.keys()) {
          const info = await ask(port, 'CLUSTER', 'INFO');
          if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return false;
          const replication = await ask(port, 'INFO', 'replication');
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false;
        }
        return true;
      },
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((port) => this.kill(port)));
    await rm(this.dir, { recursive: true, force: true });
  }

  private async startNode(port: number): Promise<void> {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir];
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(NODE_TIMEOUT_MS));
    // A replica takes over however long ago it last heard from its master (the default refuses a stale replica).
    args.push('--cluster-replica-validity-factor', '0');
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.processes.set(port, child);
    await until(`node ${port} answers`, async () => (await ask(port, 'PING')) === 'PONG', 10_000);
  }
}
