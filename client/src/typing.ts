// Typing indicators without flooding: at most one "started" per conversation every interval (the server lets it
// expire after 3 s and rate-limits it), and a "stopped" only when a start was sent.
export type SendTyping = (conversationWith: number, isTyping: boolean) => void;

export class TypingThrottle {
  private readonly startedAt = new Map<number, number>();

  constructor(
    private readonly send: SendTyping,
    private readonly intervalMs: number,
  ) {}

  start(conversationWith: number): void {
    const last = this.startedAt.get(conversationWith);
    const now = Date.now();
    if (last !== undefined && now - last < this.intervalMs) return;
    this.startedAt.set(conversationWith, now);
    this.send(conversationWith, true);
  }

  stop(conversationWith: number): void {
    if (this.startedAt.delete(conversationWith)) this.send(conversationWith, false);
  }
}
