// What both reference peers (ws-floor and socketio) share: configuration from the environment, JWT verification
// with a key derived once, the bench_messages table, and the HTTP side (GET /healthz, POST /api/v1/messages/).
// Each peer only decides how a stored message reaches the receiver's sockets.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { jwtVerify } from 'jose';
import pg from 'pg';

export interface PeerMessage {
  id: number;
  senderId: number;
  receiverId: number;
  content: string;
  createdAt: string;
  seen: false;
}

export interface PeerEnv {
  port: number;
  databaseUrl: string;
  redisUrl?: string;
  /** Prefix for every Redis channel/key this peer uses (Redis is shared with other runs and tests). */
  redisPrefix: string;
}

export function peerEnv(): PeerEnv {
  const { PORT, DATABASE_URL, REDIS_URL, REDIS_PREFIX, JWT_SECRET } = process.env;
  if (!DATABASE_URL) throw new Error('DATABASE_URL is required');
  if (!JWT_SECRET) throw new Error('JWT_SECRET is required');
  return {
    port: Number(PORT ?? 4100),
    databaseUrl: DATABASE_URL,
    redisUrl: REDIS_URL || undefined,
    redisPrefix: REDIS_PREFIX || 'bench-peer',
  };
}

// Derived once: re-deriving the key from the string on every verify is a measurable share of the CPU.
const jwtKey = new TextEncoder().encode(process.env.JWT_SECRET ?? '');

/** Returns the user id (`sub`, a decimal string) of a valid HS256 token; throws otherwise. */
export async function verifyToken(token: string | undefined | null): Promise<number> {
  if (!token) throw new Error('missing token');
  const { payload } = await jwtVerify(token, jwtKey, { algorithms: ['HS256'] });
  const id = Number(payload.sub);
  if (!Number.isSafeInteger(id) || id <= 0) throw new Error('bad sub');
  return id;
}

export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7) : undefined;
}

export async function openDb(databaseUrl: string): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_messages (
    id serial PRIMARY KEY,
    sender_id integer NOT NULL,
    receiver_id integer NOT NULL,
    content text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    seen boolean NOT NULL DEFAULT false)`);
  return pool;
}

async function insertMessage(pool: pg.Pool, senderId: number, receiverId: number, content: string): Promise<PeerMessage> {
  const { rows } = await pool.query('INSERT INTO bench_messages (sender_id, receiver_id, content) VALUES ($1, $2, $3) RETURNING id, created_at', [
    senderId,
    receiverId,
    content,
  ]);
  const createdAt = (rows[0].created_at as Date).toISOString();
  return { id: rows[0].id, senderId, receiverId, content, createdAt, seen: false };
}

function reply(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function fail(res: ServerResponse, status: number, code: string, message: string) {
  reply(res, status, { error: { code, message, timestamp: new Date().toISOString() } });
}

const MAX_BODY = 65_536;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new Error('too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * The HTTP server both peers use: /healthz and the REST send. `deliver` is called with each stored message
 * before the 201 answer is written.
 */
export function createPeerHttpServer(pool: pg.Pool, deliver: (m: PeerMessage) => void): Server {
  return createServer(async (req, res) => {
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/healthz') return reply(res, 200, { status: 'ok' });
      if (req.method !== 'POST' || (path !== '/api/v1/messages/' && path !== '/api/v1/messages')) {
        return fail(res, 404, 'NOT_FOUND', 'no such route');
      }
      let senderId: number;
      try {
        senderId = await verifyToken(bearer(req));
      } catch {
        return fail(res, 401, 'UNAUTHORIZED', 'invalid token');
      }
      let body: { receiverId?: unknown; content?: unknown };
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return fail(res, 400, 'INVALID_MESSAGE', 'body must be JSON');
      }
      const receiverId = body.receiverId;
      const content = typeof body.content === 'string' ? body.content.trim() : '';
      if (typeof receiverId !== 'number' || !Number.isSafeInteger(receiverId) || receiverId <= 0 || !content) {
        return fail(res, 400, 'INVALID_MESSAGE', 'receiverId and content are required');
      }
      const message = await insertMessage(pool, senderId, receiverId, content);
      deliver(message);
      reply(res, 201, message);
    } catch (err) {
      console.error(err);
      if (!res.headersSent) fail(res, 500, 'INTERNAL_ERROR', 'internal error');
    }
  });
}

/** Listens on 127.0.0.1 and stops cleanly on SIGTERM/SIGINT (the load generator sends SIGTERM). */
export function listen(server: Server, port: number, close: () => Promise<unknown>) {
  server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port}`));
  const stop = async () => {
    server.closeAllConnections();
    await Promise.race([close(), new Promise((r) => setTimeout(r, 2000))]);
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
