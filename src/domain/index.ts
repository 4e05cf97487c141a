// The domain layer every transport calls: validation, authorization, rate limits, persistence, then publishing.
import type { Prisma } from '../db/database.ts';
import type { Bus } from '../events/bus.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import type { RateLimits } from './rate-limits.ts';
import { createAccounts } from './accounts.ts';
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
  metrics: Metrics;
  logger: Logger;
  messageMaxLength: number;
  typingTimeoutMs: number;
  eventRetentionDays: number;
}

export type Domain = ReturnType<typeof createDomain>;

export function createDomain(deps: DomainDeps) {
  const { prisma, bus, limits, metrics, logger } = deps;
  const accounts = createAccounts(deps);
  const streams = createStreams({ prisma, bus, logger, retentionDays: deps.eventRetentionDays });
  const notifications = createNotifications({ prisma, streams });
  return {
    accounts,
    streams,
    messages: createMessages({ prisma, streams, limits, metrics, logger, maxLength: deps.messageMaxLength }),
    notifications,
    social: createSocial({ prisma, notifications, streams, maxLength: deps.messageMaxLength }),
    typing: createTyping({ bus, limits, accounts, timeoutMs: deps.typingTimeoutMs }),
  };
}
