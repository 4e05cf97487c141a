// The notifying actions return their views from their own transaction: a like is BEGIN, the video with its owner,
// the like, the notification with its actor and video, the recipient's stream, COMMIT, and nothing after it.
// Counted on PostgreSQL, where every round trip is a pg query (PGlite runs in-process).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, announceSkip } from './support/env.ts';
import { startServer, type TestServer } from './support/server.ts';

if (!DATABASE_URL) announceSkip('database round trips of a like', 'DATABASE_URL');
describe.runIf(DATABASE_URL)('database round trips', () => {
  let server: TestServer;
  const query = pg.Client.prototype.query;
  let count = 0;
  beforeAll(async () => {
    server = await startServer();
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      count++;
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
  });
  afterAll(async () => {
    pg.Client.prototype.query = query;
    await server?.close();
  });

  it('a like takes six round trips, a follow six, a comment with a mention nine', async () => {
    const { domain } = server.app;
    const name = () => `rt${Math.random().toString(36).slice(2, 10)}`;
    const [owner, fan] = await Promise.all([
      domain.accounts.register({ username: name(), password: 'correct horse' }, '192.0.2.1'),
      domain.accounts.register({ username: name(), password: 'correct horse' }, '192.0.2.2'),
    ]);
    const video = await domain.social.createVideo(owner.user.id, { title: 'v' });
    const counted = async (action: () => Promise<unknown>) => {
      count = 0;
      await action();
      return count;
    };
    expect(await counted(() => domain.social.likeVideo(fan.user.id, video.id))).toBe(6);
    expect(await counted(() => domain.social.followUser(fan.user.id, owner.user.id))).toBe(6);
    expect(await counted(() => domain.social.commentOnVideo(fan.user.id, { videoId: video.id, content: `hi @${owner.user.username}` }))).toBe(9);
  });
});
