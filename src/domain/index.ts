// The domain layer every transport calls: validation, authorization, rate limits, persistence, then publishing.
import type { Prisma } from '../db/database.ts';
import type { Bus } from '../events/bus.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import type { RateLimits } from './rate-limits.ts';
import type { SharedStore } from './shared-store.ts';
import { createAccounts } from './accounts.ts';
import { createConnections } from './connections.ts';
import { createMessages } from './messages.ts';
import { createNotifications } from './notifications.ts';
import { createSocial } from './social.ts';
import { createTyping } from './typing.ts';

export interface DomainDeps {
  prisma: Prisma;
  bus: Bus;
  tokens: TokenService;
  limits: RateLimits;
  store: SharedStore;
  metrics: Metrics;
  logger: Logger;
  /** Open sockets and event streams per user, across instances; 0 = no cap. */
  maxSocketsPerUser: number;
  messageMaxLength: number;
  typingTimeoutMs: number;
}

export type Domain = ReturnType<typeof createDomain>;

export function createDomain(deps: DomainDeps) {
  const { prisma, bus, limits, store, metrics, logger } = deps;
  const connections = createConnections({ store, maxPerUser: deps.maxSocketsPerUser });
  const accounts = createAccounts({ ...deps, connections });
  const notifications = createNotifications({ prisma, bus });
  return {
    /** Both badge counts in one round trip: the first thing a socket shows. */
    async counts(userId: number): Promise<{ unread: number; unseen: number }> {
      const [row] = await prisma.$queryRaw<[{ unread: number; unseen: number }]>`
        SELECT (SELECT COUNT(*) FROM "Message" WHERE "receiverId" = ${userId} AND "seenAt" IS NULL)::int AS unread,
               (SELECT COUNT(*) FROM "Notification" WHERE "userId" = ${userId} AND "seenAt" IS NULL)::int AS unseen`;
      return row;
    },
    accounts,
    connections,
    messages: createMessages({ prisma, bus, limits, accounts, metrics, logger, maxLength: deps.messageMaxLength }),
    notifications,
    social: createSocial({ prisma, notifications, maxLength: deps.messageMaxLength }),
    typing: createTyping({ bus, limits, accounts, store, metrics, timeoutMs: deps.typingTimeoutMs }),
  };
}
