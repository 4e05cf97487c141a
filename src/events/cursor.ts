// A position in one user's stream, as clients hold it: opaque to them, and carrying its user so that a cursor of
// another user is told apart from one of the caller's (it resumes nothing, it leaks nothing).
export interface StreamPosition {
  userId: number;
  position: number;
}

export const encodeCursor = (userId: number, position: number): string => Buffer.from(`${userId}:${position}`).toString('base64url');

/** The position in `cursor`, or undefined when it is not one this service wrote. */
export function decodeCursor(cursor: string | null | undefined): StreamPosition | undefined {
  if (!cursor || cursor.length > 64) return undefined;
  const match = /^(\d{1,10}):(\d{1,10})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!match) return undefined;
  const [userId, position] = [Number(match[1]), Number(match[2])];
  return userId > 0 && position <= 2 ** 31 - 1 ? { userId, position } : undefined;
}
