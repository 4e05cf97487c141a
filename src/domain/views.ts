// Database rows -> the plain views that events, GraphQL and REST share.
import type { Message, Notification, User, Video } from '../generated/prisma/client.ts';
import type { MessageView, NotificationKind, NotificationView, UserView } from '../events/user-event.ts';

export const userView = (u: Pick<User, 'id' | 'username' | 'avatarUrl'>): UserView => ({
  id: u.id,
  username: u.username,
  avatarUrl: u.avatarUrl,
});

export const messageView = (m: Message): MessageView => ({
  id: m.id,
  senderId: m.senderId,
  receiverId: m.receiverId,
  content: m.content,
  createdAt: m.createdAt.toISOString(),
  seen: m.seenAt !== null,
  seenAt: m.seenAt?.toISOString() ?? null,
});

export type NotificationRow = Notification & {
  actor: Pick<User, 'id' | 'username' | 'avatarUrl'>;
  video: Pick<Video, 'id' | 'title' | 'thumbUrl'> | null;
};
export const notificationInclude = { actor: true, video: true } as const;

export const notificationView = (n: NotificationRow): NotificationView => ({
  id: n.id,
  userId: n.userId,
  type: n.type.toLowerCase() as NotificationKind,
  refId: n.refId,
  createdAt: n.createdAt.toISOString(),
  seen: n.seenAt !== null,
  actor: userView(n.actor),
  // A follow is about the follower; everything else is about a video.
  target: n.video
    ? { type: 'video', id: n.video.id, title: n.video.title, thumbUrl: n.video.thumbUrl }
    : { type: 'user', id: n.actor.id, title: n.actor.username, thumbUrl: n.actor.avatarUrl },
});

/** A page of a newest-first list; `hasMore` says whether older items exist. */
export interface Page<T> {
  items: T[];
  hasMore: boolean;
}

export interface PageRequest {
  limit: number;
  /** Only items with a smaller id (the id of the last item of the previous page). */
  before?: number;
}

export const MAX_PAGE = 100;
export const DEFAULT_PAGE = 20;

export function toPage<T>(rows: T[], limit: number): Page<T> {
  return { items: rows.slice(0, limit), hasMore: rows.length > limit };
}

export interface VideoView {
  id: number;
  title: string;
  thumbUrl: string | null;
  owner: UserView;
}

export interface CommentView {
  id: number;
  content: string;
  author: UserView;
  video: VideoView;
  parentId: number | null;
  createdAt: string;
}

export const videoInclude = { owner: true } as const;

export const videoView = (v: Video & { owner: User }): VideoView => ({
  id: v.id,
  title: v.title,
  thumbUrl: v.thumbUrl,
  owner: userView(v.owner),
});
