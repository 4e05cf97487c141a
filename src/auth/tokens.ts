// HS256 JWTs. The key object is derived once, and tokens already verified are remembered until they expire:
// clients present the same token on every request and every poll, and verifying it again costs real CPU.
import { createSecretKey } from 'node:crypto';
import { SignJWT, jwtVerify, errors } from 'jose';

export interface TokenClaims {
  userId: number;
  /** Seconds since the epoch. */
  exp: number;
  /** Present on tokens minted by another backend that shares the secret: creates the user on first use. */
  username?: string;
  avatarUrl?: string;
}

export type TokenFailure = 'missing' | 'expired' | 'invalid';

export class TokenError extends Error {
  constructor(
    readonly reason: TokenFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface TokenService {
  issue(userId: number): Promise<{ token: string; expiresAt: Date }>;
  verify(token: string | undefined | null): Promise<TokenClaims>;
}

export function createTokenService(options: { secret: string; ttlSeconds: number; issuer?: string; audience?: string }): TokenService {
  const key = createSecretKey(Buffer.from(options.secret, 'utf8'));
  const verified = new Map<string, TokenClaims>();
  const VERIFIED_MAX = 50_000;
  return {
    async issue(userId) {
      const expiresAt = new Date((Math.floor(Date.now() / 1000) + options.ttlSeconds) * 1000);
      let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(String(userId)).setIssuedAt().setExpirationTime(expiresAt);
      if (options.issuer) jwt = jwt.setIssuer(options.issuer);
      if (options.audience) jwt = jwt.setAudience(options.audience);
      return { token: await jwt.sign(key), expiresAt };
    },
    async verify(token) {
      if (!token) throw new TokenError('missing', 'Missing token');
      const known = verified.get(token);
      if (known) {
        if (known.exp * 1000 > Date.now()) return known;
        verified.delete(token);
      }
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: options.issuer,
          audience: options.audience,
          requiredClaims: ['sub', 'exp'],
        });
        const userId = Number(payload.sub);
        if (!/^[1-9][0-9]{0,9}$/.test(payload.sub!) || userId > 2 ** 31 - 1) throw new TokenError('invalid', 'Invalid or expired token');
        const claims: TokenClaims = {
          userId,
          exp: payload.exp!,
          username: typeof payload.username === 'string' ? payload.username : undefined,
          avatarUrl: typeof payload.avatarUrl === 'string' ? payload.avatarUrl : undefined,
        };
        if (verified.size >= VERIFIED_MAX) verified.clear();
        // A copy: the token is often a slice of a longer string (the upgrade URL) that it would keep alive.
        verified.set(Buffer.from(token, 'latin1').toString('latin1'), claims);
        return claims;
      } catch (err) {
        if (err instanceof TokenError) throw err;
        if (err instanceof errors.JWTExpired) throw new TokenError('expired', 'Invalid or expired token');
        throw new TokenError('invalid', 'Invalid or expired token');
      }
    },
  };
}

/** The token of an `Authorization: Bearer …` header value, or undefined. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

// setTimeout fires at once for delays beyond 2^31-1 ms (~24.8 days); tokens may well live longer.
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Calls `expire` once `expSeconds` (a token's `exp`, seconds since the epoch) has passed; returns the cancel. */
export function atExpiry(expSeconds: number, expire: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = expSeconds * 1000 - Date.now();
    timer = setTimeout(left > MAX_DELAY_MS ? arm : expire, Math.max(0, Math.min(left, MAX_DELAY_MS)));
  };
  arm();
  return () => clearTimeout(timer);
}
