// The floor: node:http + ws + one PostgreSQL INSERT per message, nothing else. A message is written to every
// open socket of its receiver as {"type":"message:new","data":{...}}. With REDIS_URL set (the cross-instance
// scenario) each stored message is published once and every instance delivers it to its own sockets.
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';
import { createPeerHttpServer, listen, openDb, peerEnv, verifyToken, type PeerMessage } from '../shared.ts';

const env = peerEnv();
const pool = await openDb(env.databaseUrl);
const sockets = new Map<number, Set<WebSocket>>();

function deliverLocal(m: PeerMessage) {
  const set = sockets.get(m.receiverId);
  if (!set) return;
  const frame = JSON.stringify({ type: 'message:new', data: m });
  for (const ws of set) ws.send(frame);
}

let pub: Redis | undefined;
let sub: Redis | undefined;
const channel = `${env.redisPrefix}:message:new`;
if (env.redisUrl) {
  pub = new Redis(env.redisUrl);
  sub = new Redis(env.redisUrl);
  await sub.subscribe(channel);
  sub.on('message', (_ch: string, text: string) => deliverLocal(JSON.parse(text)));
}

const server = createPeerHttpServer(pool, (m) => {
  if (pub) void pub.publish(channel, JSON.stringify(m));
  else deliverLocal(m);
});

const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', async (req, socket, head) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  let userId: number;
  try {
    if (url.pathname !== '/api/v1/ws') throw new Error('path');
    userId = await verifyToken(url.searchParams.get('token'));
  } catch {
    socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    let set = sockets.get(userId);
    if (!set) sockets.set(userId, (set = new Set()));
    set.add(ws);
    ws.on('close', () => {
      set.delete(ws);
      if (set.size === 0) sockets.delete(userId);
    });
    ws.on('error', () => ws.terminate());
    ws.send(JSON.stringify({ type: 'connected', userId, message: 'Connected successfully' }));
  });
});

listen(server, env.port, () => Promise.all([pool.end(), pub?.quit(), sub?.quit()]));
