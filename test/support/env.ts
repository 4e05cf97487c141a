// What the suite can reach. Suites that need PostgreSQL or Redis say loudly when they are skipped.
export const DATABASE_URL = process.env.DATABASE_URL || undefined;
export const REDIS_URL = process.env.REDIS_URL || undefined;

export function announceSkip(suite: string, missing: string) {
  console.warn(`\n*** SKIPPED: ${suite} — ${missing} is not set; CI sets it. ***\n`);
}
