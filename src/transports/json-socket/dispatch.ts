// Client frames after parsing: handled one after another in the order they arrived, each by one domain call.
// Answers keep the frames' order; a backlog of frames waiting for the domain pauses reading the socket.
import type { WebSocket } from 'ws';
import { AppError, toAppError } from '../../domain/errors.ts';
import type { Domain } from '../../domain/index.ts';
import type { Session } from '../../domain/accounts.ts';
import type { ClientFrame } from './client-frames.ts';

// Client frames waiting for the domain before the server stops reading the socket: TCP back-pressure instead of
// an unbounded backlog in memory.
const MAX_PENDING_FRAMES = 64;

/** Frames that ask the domain for something (pings and pongs are the connection's own business). */
export type DomainFrame = Exclude<ClientFrame, { type: 'pong' | 'ping' }>;

export class FrameQueue {
  private pending = 0;

  /**
   * @param work what runs first (the connection flow): frames wait for it.
   * @param owner whether frames still get handled, and who answers the error of a frame that failed.
   */
  constructor(
    private readonly ws: WebSocket,
    private work: Promise<void>,
    private readonly owner: { readonly isOpen: boolean; frameFailed(error: AppError, cause: unknown): void },
  ) {}

  add(task: () => Promise<void>) {
    if (++this.pending === MAX_PENDING_FRAMES) this.ws.pause();
    this.work = this.work.then(async () => {
      try {
        if (this.owner.isOpen) await task();
      } catch (err) {
        this.owner.frameFailed(toAppError(err), err);
      } finally {
        if (--this.pending < MAX_PENDING_FRAMES && this.ws.isPaused) this.ws.resume();
      }
    });
  }
}

/**
 * Does what a frame asks. Effects reach the client on its stream (receipts, counts, notification:seen), so only
 * auth:refresh answers here: with the session of the new token.
 */
export async function dispatch(domain: Domain, userId: number, frame: DomainFrame): Promise<Session | void> {
  const { messages, typing, notifications, accounts } = domain;
  switch (frame.type) {
    case 'message:mark_seen':
      // The reader's connections get message:unread_count, the senders message:seen: both from the domain.
      await messages.markSeen(userId, frame.data.conversationWith, frame.data.messageIds);
      return;
    case 'message:typing':
      await typing.set(userId, frame.data.conversationWith, frame.data.isTyping);
      return;
    case 'notification:mark_seen':
      // Every connection of the user, this one too, gets notification:seen and the new count from the stream.
      await notifications.markSeen(userId, frame.data?.notificationIds);
      return;
    case 'auth:refresh': {
      const session = await accounts.authenticate(frame.data.token);
      if (session.userId !== userId) throw new AppError('UNAUTHORIZED', 'Token belongs to another user');
      return session;
    }
  }
}
