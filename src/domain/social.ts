// Videos, likes, comments and follows: the actions that notify someone.
import type { Prisma } from '../db/database.ts';
import type { Prisma as P } from '../generated/prisma/client.ts';
import type { StreamEntry, UserView } from '../events/user-event.ts';
import { invalid, notFound } from './errors.ts';
import { cleanText, cleanUrl, mentionedUsernames, TITLE_MAX_LENGTH } from './content.ts';
import { userView, videoInclude, videoView, type CommentView, type VideoView } from './views.ts';
import type { NotificationDraft, Notifications } from './notifications.ts';
import type { Streams } from './streams.ts';

export function createSocial(deps: { prisma: Prisma; notifications: Notifications; streams: Streams; maxLength: number }) {
  const { prisma, notifications, streams } = deps;

  /** Runs `work` in a transaction and publishes the notifications it created once committed. */
  async function notifying<T>(work: (tx: P.TransactionClient) => Promise<{ result: T; notified: Map<number, StreamEntry> }>): Promise<T> {
    const { result, notified } = await prisma.$transaction(work);
    streams.publish(notified);
    return result;
  }

  /** The video and its owner in one round trip (an `include` takes two). */
  async function findVideo(tx: P.TransactionClient, videoId: number): Promise<VideoView> {
    const [video] = await tx.$queryRaw<VideoView[]>`
      SELECT v."id", v."title", v."thumbUrl", json_build_object('id', u."id", 'username', u."username", 'avatarUrl', u."avatarUrl") AS owner
      FROM "Video" v JOIN "User" u ON u."id" = v."ownerId" WHERE v."id" = ${videoId}`;
    if (!video) throw notFound('Video');
    return video;
  }

  return {
    async createVideo(ownerId: number, input: { title: unknown; thumbUrl?: string | null }): Promise<VideoView> {
      const title = cleanText(input.title, 'title', TITLE_MAX_LENGTH);
      const video = await prisma.video.create({ data: { ownerId, title, thumbUrl: cleanUrl(input.thumbUrl, 'thumbUrl') }, include: videoInclude });
      return videoView(video);
    },

    likeVideo: (userId: number, videoId: number) =>
      notifying(async (tx) => {
        const video = await findVideo(tx, videoId);
        await tx.like.createMany({ data: { userId, videoId }, skipDuplicates: true });
        const notified = await notifications.create(tx, userId, [{ userId: video.owner.id, type: 'LIKE', refId: videoId, videoId }]);
        return { result: video, notified };
      }),

    async unlikeVideo(userId: number, videoId: number): Promise<VideoView> {
      const video = await findVideo(prisma, videoId);
      await prisma.like.deleteMany({ where: { userId, videoId } });
      return video;
    },

    commentOnVideo: (authorId: number, input: { videoId: number; content: unknown; parentId?: number | null }) =>
      notifying(async (tx) => {
        const content = cleanText(input.content, 'content', deps.maxLength);
        const video = await findVideo(tx, input.videoId);
        const parent = input.parentId != null ? await tx.comment.findUnique({ where: { id: input.parentId } }) : null;
        if (input.parentId != null && !parent) throw notFound('Parent comment');
        if (parent && parent.videoId !== video.id) throw invalid('The parent comment belongs to another video');
        const [comment, mentioned] = await Promise.all([
          tx.comment.create({ data: { videoId: video.id, authorId, parentId: parent?.id ?? null, content }, include: { author: true } }),
          mentionsIn(tx, content),
        ]);
        // One notification per recipient, the most specific kind winning: reply > mention > comment.
        const byRecipient = new Map<number, NotificationDraft>();
        const add = (userId: number, type: NotificationDraft['type']) => {
          if (!byRecipient.has(userId)) byRecipient.set(userId, { userId, type, refId: comment.id, videoId: video.id });
        };
        if (parent) add(parent.authorId, 'REPLY');
        for (const userId of mentioned) add(userId, 'MENTION');
        add(video.owner.id, 'COMMENT');
        const notified = await notifications.create(tx, authorId, [...byRecipient.values()]);
        const result: CommentView = {
          id: comment.id,
          content: comment.content,
          author: userView(comment.author),
          video,
          parentId: comment.parentId,
          createdAt: comment.createdAt.toISOString(),
        };
        return { result, notified };
      }),

    followUser: (followerId: number, followeeId: number) =>
      notifying(async (tx) => {
        if (followerId === followeeId) throw invalid('You cannot follow yourself');
        const followee = await tx.user.findUnique({ where: { id: followeeId } });
        if (!followee) throw notFound('User');
        await tx.follow.createMany({ data: { followerId, followeeId }, skipDuplicates: true });
        const notified = await notifications.create(tx, followerId, [{ userId: followeeId, type: 'FOLLOW', refId: followerId, videoId: null }]);
        return { result: userView(followee), notified };
      }),

    async unfollowUser(followerId: number, followeeId: number): Promise<UserView> {
      const followee = await prisma.user.findUnique({ where: { id: followeeId } });
      if (!followee) throw notFound('User');
      await prisma.follow.deleteMany({ where: { followerId, followeeId } });
      return userView(followee);
    },
  };
}

async function mentionsIn(tx: P.TransactionClient, content: string): Promise<number[]> {
  const names = mentionedUsernames(content);
  if (!names.length) return [];
  const users = await tx.user.findMany({ where: { usernameKey: { in: names.slice(0, 50) } }, select: { id: true } });
  return users.map((u) => u.id);
}
