// The REST fallback while the socket cannot be established: long polling of GET /api/v1/events where the server
// has it (the socket's own frames and cursors, so switching back and forth loses and repeats nothing), otherwise
// the requirements' plain polling (inbox every 3 s, notifications every 5 s) turned into the same events.
import { backoffDelay, sleep, type BackoffOptions } from './backoff.ts';
import { HttpError, type Http } from './http.ts';
import type { EventsPage, Inbox, Message, MessagePage, NotificationPage } from './protocol.ts';
import type { Stream } from './stream.ts';

export interface PollerOptions {
  http: Http;
  stream: Stream;
  /** The user's id (the token's subject). */
  me(): Promise<number>;
  inboxMs: number;
  notificationsMs: number;
  /** How long the server may hold a long poll (seconds, at most 30). */
  waitSeconds: number;
  backoff: BackoffOptions;
  /** Whether the last poll reached the server. */
  health(ok: boolean): void;
}

export class Poller {
  private readonly abort = new AbortController();
  /** Plain polling: the server answered 404 to GET /api/v1/events. */
  private plain = false;
  private nextInbox = 0;
  private nextNotifications = 0;
  private unread: number | undefined;
  private unseen: number | undefined;
  /** My last messages of each conversation not yet seen, for the `message:seen` that plain polling can infer. */
  private readonly unseenSent = new Set<number>();

  constructor(private readonly options: PollerOptions) {
    void this.run();
  }

  stop(): void {
    this.abort.abort();
  }

  private async run() {
    const { signal } = this.abort;
    const { stream } = this.options;
    for (let failures = 0; !signal.aborted;) {
      try {
        if (this.plain) await this.pollLists(signal);
        else await this.longPoll(signal);
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof HttpError && err.status === 404 && !this.plain) {
          this.plain = true;
          stream.begin(false, 'polling-started');
          continue;
        }
        this.options.health(false);
        await sleep((err as HttpError).retryAfterMs ?? backoffDelay(failures++, this.options.backoff), signal);
      }
    }
  }

  private async longPoll(signal: AbortSignal) {
    const { stream, http, waitSeconds } = this.options;
    const query = new URLSearchParams({ wait: String(waitSeconds), limit: '100' });
    const after = stream.cursor;
    if (after !== undefined) query.set('after', after);
    const page = await http.request<EventsPage>('GET', `/api/v1/events?${query}`, { signal, timeoutMs: (waitSeconds + 10) * 1000 });
    if (signal.aborted) return;
    this.options.health(true);
    stream.begin(page.resumed, 'polling-started', after !== undefined);
    for (const frame of page.events) stream.deliver(frame);
    stream.cursor = page.nextCursor;
  }

  private async pollLists(signal: AbortSignal) {
    if (Date.now() >= this.nextInbox) {
      await this.pollInbox(signal);
      this.nextInbox = Date.now() + this.options.inboxMs;
    }
    if (Date.now() >= this.nextNotifications) {
      await this.pollNotifications(signal);
      this.nextNotifications = Date.now() + this.options.notificationsMs;
    }
    this.options.health(true);
    await sleep(Math.min(this.nextInbox, this.nextNotifications) - Date.now(), signal);
  }

  private async pollInbox(signal: AbortSignal) {
    const { http, stream } = this.options;
    const me = await this.options.me();
    const inbox = await http.request<Inbox>('GET', '/api/v1/messages/inbox?limit=100', { signal });
    const newest = Math.max(0, ...inbox.conversations.map((c) => c.lastMessage.id));
    const watermark = stream.lastMessageId ?? newest;
    const fresh: Message[] = [];
    for (const { user, lastMessage } of inbox.conversations) {
      if (lastMessage.id > watermark) {
        const page = await http.request<MessagePage>('GET', `/api/v1/messages/?with=${user.id}&limit=100`, { signal });
        fresh.push(...page.messages.filter((m) => m.receiverId === me && m.id > watermark));
      }
      if (lastMessage.senderId === me && !lastMessage.seen) this.unseenSent.add(lastMessage.id);
      else if (this.unseenSent.delete(lastMessage.id) && lastMessage.seen) {
        stream.deliver({ type: 'message:seen', data: { messageIds: [lastMessage.id], seenBy: user.id, seenAt: lastMessage.seenAt! } });
      }
    }
    if (signal.aborted) return;
    stream.lastMessageId = Math.max(stream.lastMessageId ?? 0, watermark);
    for (const message of fresh.sort((a, b) => a.id - b.id)) stream.deliver({ type: 'message:new', data: message });
    if (inbox.unreadCount !== this.unread) stream.deliver({ type: 'message:unread_count', data: { count: inbox.unreadCount } });
    this.unread = inbox.unreadCount;
  }

  private async pollNotifications(signal: AbortSignal) {
    const { http, stream } = this.options;
    const page = await http.request<NotificationPage>('GET', '/api/v1/notifications/?limit=100', { signal });
    if (signal.aborted) return;
    const watermark = stream.lastNotificationId ?? Math.max(0, ...page.notifications.map((n) => n.id));
    stream.lastNotificationId = Math.max(stream.lastNotificationId ?? 0, watermark);
    for (const n of page.notifications.filter((n) => n.id > watermark).reverse()) stream.deliver({ type: 'notification:new', data: n });
    if (page.unseenCount !== this.unseen) stream.deliver({ type: 'notification:unseen_count', data: { count: page.unseenCount } });
    this.unseen = page.unseenCount;
  }
}
