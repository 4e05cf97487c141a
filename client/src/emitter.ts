// A typed event emitter small enough to read: `on` returns its own unsubscribe function.
type Handler<T> = (payload: T) => void;

/** The emitting half, for the parts of the client that only report. */
export interface Emits<Events extends object> {
  emit<K extends keyof Events>(type: K, payload: Events[K]): void;
}

export class Emitter<Events extends object> implements Emits<Events> {
  private readonly handlers = new Map<keyof Events, Set<Handler<never>>>();

  on<K extends keyof Events>(type: K, handler: Handler<Events[K]>): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler as Handler<never>);
    return () => set.delete(handler as Handler<never>);
  }

  emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    for (const handler of this.handlers.get(type) ?? []) {
      try {
        (handler as Handler<Events[K]>)(payload);
      } catch (err) {
        // One broken handler must not stop the others nor the client's own bookkeeping; the error still surfaces.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
