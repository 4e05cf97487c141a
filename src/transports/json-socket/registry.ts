// userId -> the JSON socket connections of that user on this instance. However many devices a user has here, the
// instance holds one subscription to the user's stream, and each event is translated and serialised once for all.
import type { Bus } from '../../events/bus.ts';
import type { UserEvent } from '../../events/user-event.ts';
import type { Logger } from '../../observability/logger.ts';
import { encode, type EncodedEvent } from './frames.ts';

export interface RegisteredConnection {
  readonly userId: number;
  /** Writes (or holds) the event; must not throw. */
  deliver(encoded: EncodedEvent): void;
}

interface UserEntry<C> {
  connections: Set<C>;
  /** The user's stream subscription; resolves once it is live, to its unsubscribe function. */
  subscription: Promise<() => void>;
}

export class ConnectionRegistry<C extends RegisteredConnection = RegisteredConnection> {
  private readonly users = new Map<number, UserEntry<C>>();

  constructor(
    private readonly bus: Bus,
    private readonly logger: Logger,
  ) {}

  /** Adds a connection; resolves once its user's events published on any instance reach it. */
  async add(connection: C): Promise<void> {
    let entry = this.users.get(connection.userId);
    if (!entry) {
      const connections = new Set<C>();
      entry = { connections, subscription: this.bus.subscribe(connection.userId, (event) => this.fanOut(connections, event)) };
      this.users.set(connection.userId, entry);
    }
    entry.connections.add(connection);
    await entry.subscription;
  }

  /** Removes a connection (idempotent); the last one of a user ends the user's subscription. */
  remove(connection: C): void {
    const entry = this.users.get(connection.userId);
    if (!entry?.connections.delete(connection) || entry.connections.size > 0) return;
    this.users.delete(connection.userId);
    // The subscription may still be on its way; end it once it is there. A failed one has nothing to end.
    entry.subscription.then(
      (unsubscribe) => unsubscribe(),
      () => undefined,
    );
  }

  /** Every registered connection (shutdown). */
  *connections(): IterableIterator<C> {
    for (const entry of this.users.values()) yield* entry.connections;
  }

  /** How many users and connections are registered: for tests and diagnostics. */
  stats(): { users: number; connections: number } {
    let connections = 0;
    for (const entry of this.users.values()) connections += entry.connections.size;
    return { users: this.users.size, connections };
  }

  private fanOut(connections: Set<C>, event: UserEvent) {
    if (!connections.size) return;
    const encoded = encode(event);
    for (const connection of connections) {
      try {
        connection.deliver(encoded);
      } catch (err) {
        // One broken connection must not cost the user's other devices the event.
        this.logger.error({ err, userId: connection.userId, type: encoded.type }, 'json socket delivery failed');
      }
    }
  }
}
