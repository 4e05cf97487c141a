// The error vocabulary every transport shares (GraphQL extensions.code, JSON socket `error.code`, REST body).

export type ErrorCode = 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'INVALID_MESSAGE' | 'RATE_LIMIT' | 'INTERNAL_ERROR';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const invalid = (message: string) => new AppError('INVALID_MESSAGE', message);
export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);

/** Any thrown value as an AppError; unknown errors become INTERNAL_ERROR without their details. */
export function toAppError(err: unknown): AppError {
  return err instanceof AppError ? err : new AppError('INTERNAL_ERROR', 'Internal server error');
}

/** A foreign key refused the write: what it points to does not exist. Prisma reports it in several shapes. */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; meta?: unknown };
  return e?.code === 'P2003' || (e?.code === 'P2010' && /ForeignKeyConstraintViolation|23503/.test(JSON.stringify(e.meta ?? {})));
}
