// The token comes from the app's callback and is cached until it expires or the server refuses it; a refused
// token is never offered again (docs/protocol.md: "Get a new token before trying again").
export type GetToken = () => string | Promise<string>;

export interface TokenClaims {
  /** The user id. */
  sub?: string;
  /** Seconds since the epoch. */
  exp?: number;
}

/** The JWT's payload, unverified: the client only needs to know when to refresh and who it is. */
export function claimsOf(token: string): TokenClaims {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(json) as TokenClaims;
  } catch {
    return {};
  }
}

export class Tokens {
  private current: Promise<string> | undefined;

  constructor(private readonly getToken: GetToken) {}

  get(): Promise<string> {
    if (!this.current) {
      const pending = Promise.resolve().then(this.getToken);
      // A failed callback is asked again next time rather than remembered.
      pending.catch(() => {
        if (this.current === pending) this.current = undefined;
      });
      this.current = pending;
    }
    return this.current;
  }

  /** The server refused `token` (4401 or HTTP 401): the next `get` asks the app again. */
  async refused(token: string): Promise<void> {
    const current = this.current;
    if (current && (await current.catch(() => undefined)) === token && this.current === current) this.current = undefined;
  }

  /** Asks the app for a token now (for an in-band refresh before expiry). */
  fresh(): Promise<string> {
    this.current = undefined;
    return this.get();
  }
}
