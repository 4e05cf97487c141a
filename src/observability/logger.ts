import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs. Tokens, passwords and message content never reach a log line: callers log ids and sizes. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'realtime' },
    redact: { paths: ['token', 'password', 'content', '*.token', '*.password', '*.content', 'authorization'], censor: '[redacted]' },
  });
}
