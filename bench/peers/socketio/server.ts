// The Socket.IO reference: what the requirements' "Node.js" section suggests. Socket.IO 4 with the Redis
// adapter (always on, as it would be in production), the JWT in the handshake (`auth.token`), the message
// inserted into PostgreSQL with pg and emitted as `message:new` to the receiver's room `user:<id>`.
// POST /api/v1/messages/ is served by the same node:http server, so one load generator drives every target.
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createPeerHttpServer, listen, openDb, peerEnv, verifyToken } from '../shared.ts';

const env = peerEnv();
if (!env.redisUrl) throw new Error('REDIS_URL is required');
const pool = await openDb(env.databaseUrl);

const server = createPeerHttpServer(pool, (m) => io.to(`user:${m.receiverId}`).emit('message:new', m));

const pubClient = new Redis(env.redisUrl);
const subClient = pubClient.duplicate();
const io = new Server(server, {
  serveClient: false,
  adapter: createAdapter(pubClient, subClient, { key: env.redisPrefix }),
});

io.use(async (socket, next) => {
  try {
    const token = socket.handshake.auth?.token ?? socket.handshake.query.token;
    socket.data.userId = await verifyToken(typeof token === 'string' ? token : undefined);
    next();
  } catch {
    next(new Error('UNAUTHORIZED'));
  }
});

io.on('connection', (socket) => {
  void socket.join(`user:${socket.data.userId}`);
});

listen(server, env.port, () => Promise.all([io.close(), pool.end(), pubClient.quit(), subClient.quit()]));
