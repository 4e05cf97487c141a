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
import { createStreams } from './streams.ts';
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
  eventRetentionDays: number;
}

export type Domain = ReturnType<typeof createDomain>;

export function createDomain(deps: DomainDeps) {
  const { prisma, bus, limits, store, metrics, logger } = deps;
  const connections = createConnections({ store, maxPerUser: deps.maxSocketsPerUser });
  const accounts = createAccounts({ ...deps, connections });
  const streams = createStreams({ prisma, bus, logger, retentionDays: deps.eventRetentionDays });
  const notifications = createNotifications({ prisma, streams });
  return {
    accounts,
    connections,
    streams,
    messages: createMessages({ prisma, streams, limits, metrics, logger, maxLength: deps.messageMaxLength }),
    notifications,
    social: createSocial({ prisma, notifications, streams, maxLength: deps.messageMaxLength }),
    typing: createTyping({ bus, limits, accounts, store, metrics, timeoutMs: deps.typingTimeoutMs }),
  };
}
