// The one event stream the app sees, whichever way events arrive (socket, long polling, plain polling): it keeps
// the resume cursor and the highest ids seen, and drops an event it already delivered (a message polled over REST
// comes back in the socket's offline queue on a server without resumable streams).
import type { Emits } from './emitter.ts';
import type { EventFrame, StreamEvents } from './protocol.ts';

export interface ResyncEvent {
  /** Why the app should refetch its lists (inbox, conversation, notifications) over REST. */
  reason: 'not-resumed' | 'polling-started';
}

export type StreamEmitter = Emits<StreamEvents & { resync: ResyncEvent }>;

/** A set that forgets its oldest entries: enough to catch the overlap of two ways of delivery. */
class RecentIds {
  private readonly ids = new Set<number>();
  constructor(private readonly max = 2000) {}
  clear(): void {
    this.ids.clear();
  }
  /** False when `id` was already there. */
  add(id: number): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}

export class Stream {
  /** The cursor of the last processed frame that had one (resumable-streams protocol). */
  cursor: string | undefined;
  /** The highest message / notification id delivered: what plain polling compares against. */
  lastMessageId: number | undefined;
  lastNotificationId: number | undefined;
  private started = false;
  private readonly messages = new RecentIds();
  private readonly notifications = new RecentIds();

  constructor(private readonly emitter: StreamEmitter) {}

  deliver(frame: EventFrame): void {
    if (frame.cursor !== undefined) this.cursor = frame.cursor;
    if (frame.type === 'message:new') {
      if (!this.messages.add(frame.data.id)) return;
      this.lastMessageId = Math.max(this.lastMessageId ?? 0, frame.data.id);
    }
    if (frame.type === 'notification:new') {
      if (!this.notifications.add(frame.data.id)) return;
      this.lastNotificationId = Math.max(this.lastNotificationId ?? 0, frame.data.id);
    }
    this.emitter.emit(frame.type, frame.data as never);
  }

  /**
   * A way of delivery (re)starts: unless it resumed exactly where the last one stopped, the app may have missed
   * something and is told to refetch. The very first start needs no resync: the app loads its lists anyway.
   */
  begin(resumed: boolean | undefined, reason: ResyncEvent['reason'], cursorSent = false): void {
    if (!resumed && this.started) this.emitter.emit('resync', { reason });
    // The server could not continue after our cursor (restored from a backup, another deployment): it replays
    // nothing, and the ids seen before say nothing about the ones to come.
    if (resumed === false && cursorSent) this.forget();
    this.started = true;
  }

  private forget() {
    this.messages.clear();
    this.notifications.clear();
    this.lastMessageId = this.lastNotificationId = undefined;
  }
}
