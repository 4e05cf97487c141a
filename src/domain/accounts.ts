// Users and credentials: register, login, and turning a verified token into a known user.
import type { Prisma } from '../db/database.ts';
import { Prisma as P } from '../generated/prisma/client.ts';
import { hashPassword, verifyNobody, verifyPassword } from '../auth/passwords.ts';
import { TokenError, type TokenClaims, type TokenService } from '../auth/tokens.ts';
import type { UserView } from '../events/user-event.ts';
import { AppError, invalid } from './errors.ts';
import { cleanUrl } from './content.ts';
import { userView } from './views.ts';
import type { RateLimits } from './rate-limits.ts';
import type { Connections } from './connections.ts';
import type { Metrics } from '../observability/metrics.ts';

const USERNAME = /^[A-Za-z0-9_.]{3,30}$/;
const PASSWORD_MIN = 8;
const PASSWORD_MAX = 1024;

export interface AuthPayload {
  token: string;
  expiresAt: Date;
  user: UserView;
}

export interface Session {
  userId: number;
  /** Token expiry, seconds since the epoch. */
  exp: number;
}

export type Accounts = ReturnType<typeof createAccounts>;

export function createAccounts(deps: { prisma: Prisma; tokens: TokenService; limits: RateLimits; connections: Connections; metrics: Metrics }) {
  const { prisma, tokens, limits, connections, metrics } = deps;
  // Hashes the stand-in password now, so that the first login of an unknown name does not take twice as long.
  void verifyNobody('');
  // Users are never deleted, so a user seen once stays known: saves a query per authenticated request.
  const known = new Set<number>();
  const remember = (id: number) => {
    if (known.size > 100_000) known.clear();
    known.add(id);
  };

  const issue = async (user: UserView): Promise<AuthPayload> => ({ ...(await tokens.issue(user.id)), user });
  const exists = async (id: number) => (await prisma.user.findUnique({ where: { id }, select: { id: true } })) !== null;

  /**
   * Makes sure the user of a verified token exists, in one round trip: a token carrying a `username` claim (minted
   * by another backend) creates its user on first use. Explicit ids bypass the id sequence, so the sequence is moved
   * past them and registrations never collide.
   */
  async function ensureUser(claims: TokenClaims): Promise<void> {
    const { userId, username } = claims;
    if (!username || !USERNAME.test(username)) {
      if (await exists(userId)) return;
      throw new AppError('UNAUTHORIZED', 'Unknown user');
    }
    const [{ ensured }] = await prisma.$queryRaw<[{ ensured: boolean }]>`
      WITH created AS (
        INSERT INTO "User" ("id", "username", "usernameKey", "avatarUrl")
        VALUES (${userId}, ${username}, ${username.toLowerCase()}, ${cleanUrl(claims.avatarUrl, 'avatarUrl')})
        ON CONFLICT DO NOTHING RETURNING id
      ), moved AS (
        SELECT setval(pg_get_serial_sequence('"User"', 'id'), GREATEST(id, nextval(pg_get_serial_sequence('"User"', 'id')))) FROM created
      )
      SELECT (SELECT COUNT(*) FROM moved) > 0 OR EXISTS (SELECT 1 FROM "User" WHERE id = ${userId}) AS ensured`;
    if (ensured) return;
    // Nothing inserted and no such id in the statement's snapshot: either a concurrent first request for the same
    // user committed meanwhile (look again, with a fresh snapshot), or the name belongs to someone else.
    if (await exists(userId)) return;
    throw new AppError('UNAUTHORIZED', `Username ${username} belongs to another user`);
  }

  return {
    async register(input: { username: string; password: string; avatarUrl?: string | null }, clientIp: string): Promise<AuthPayload> {
      await limits.consume('auth', clientIp);
      if (!USERNAME.test(input.username)) throw invalid('username must be 3-30 letters, digits, _ or .');
      if (input.password.length < PASSWORD_MIN) throw invalid(`password must be at least ${PASSWORD_MIN} characters`);
      if (input.password.length > PASSWORD_MAX) throw invalid(`password must be at most ${PASSWORD_MAX} characters`);
      const avatarUrl = cleanUrl(input.avatarUrl, 'avatarUrl');
      try {
        const user = await prisma.user.create({
          data: { username: input.username, usernameKey: input.username.toLowerCase(), avatarUrl, passwordHash: await hashPassword(input.password) },
        });
        remember(user.id);
        return issue(userView(user));
      } catch (err) {
        if (err instanceof P.PrismaClientKnownRequestError && err.code === 'P2002') throw invalid(`username ${input.username} is taken`);
        throw err;
      }
    },

    async login(input: { username: string; password: string }, clientIp: string): Promise<AuthPayload> {
      await limits.consume('auth', clientIp);
      // A name that cannot be registered has no account to guess the password of: no lookup, and no count.
      const account = USERNAME.test(input.username) ? input.username.toLowerCase() : undefined;
      // Per account, from any number of addresses: every attempt counts until it turns out right, so parallel
      // guesses cannot slip past the limit.
      const refund = account ? await limits.consume('login', account) : undefined;
      const user = account ? await prisma.user.findUnique({ where: { usernameKey: account } }) : null;
      // Unknown users and users without a password cost a verification too: the answer's timing reveals nothing.
      const ok = user?.passwordHash ? await verifyPassword(input.password, user.passwordHash) : await verifyNobody(input.password);
      if (!user || !ok) {
        metrics.authFailures.inc({ reason: 'password' });
        throw new AppError('UNAUTHORIZED', 'Wrong username or password');
      }
      await refund?.();
      remember(user.id);
      return issue(userView(user));
    },

    /** Verifies a token and makes sure its user exists (creating users of tokens minted elsewhere). */
    async authenticate(token: string | undefined | null): Promise<Session> {
      try {
        const claims = await tokens.verify(token);
        if (!known.has(claims.userId)) {
          await ensureUser(claims);
          remember(claims.userId);
        }
        return { userId: claims.userId, exp: claims.exp };
      } catch (err) {
        if (err instanceof TokenError) {
          metrics.authFailures.inc({ reason: err.reason });
          throw new AppError('UNAUTHORIZED', err.message);
        }
        if (err instanceof AppError) metrics.authFailures.inc({ reason: 'unknown_user' });
        throw err;
      }
    },

    /**
     * authenticate() for a new socket or event stream, which counts toward the user's connection-attempt limit and
     * takes one of the user's open-connection slots: `release` gives it back once the connection closed.
     */
    async authenticateSocket(token: string | undefined | null): Promise<Session & { release(): void }> {
      const session = await this.authenticate(token);
      await limits.consume('connection', `user:${session.userId}`);
      return { ...session, release: await connections.admit(session.userId) };
    },

    async user(id: number): Promise<UserView> {
      const user = await prisma.user.findUnique({ where: { id } });
      if (!user) throw new AppError('NOT_FOUND', 'User not found');
      return userView(user);
    },

    /** Throws NOT_FOUND unless the user exists. */
    async assertExists(id: number): Promise<void> {
      if (known.has(id)) return;
      if (!(await exists(id))) throw new AppError('NOT_FOUND', 'User not found');
      remember(id);
    },
  };
}
