// Why a JSON socket ends: one row per reason, with the close code and text the client sees and the `reason` label
// of rt_connection_errors_total (the row's key). docs/protocol.md ("Close codes") is the client's view of it.

/** Reasons this side closes a socket for. */
export const CLOSE_REASONS = {
  /** No client frame for WS_IDLE_TIMEOUT_MS (pongs do not count). */
  idle: { code: 4000, text: 'Idle timeout' },
  /** A bad, missing or expired token on connect. */
  unauthorized: { code: 4401, text: 'Unauthorized' },
  /** The token's `exp` passed on an open socket (no auth:refresh in time). */
  token_expired: { code: 4401, text: 'Token expired' },
  /** A ping went unanswered for WS_PONG_TIMEOUT_MS. */
  pong_timeout: { code: 4408, text: 'No pong' },
  /** Over RATE_LIMIT_CONNECTIONS_PER_MIN or MAX_SOCKETS_PER_USER for this user: retry after the error's retryAfterMs. */
  rate_limit: { code: 4429, text: 'Too many connections' },
  internal_error: { code: 1011, text: 'Internal error' },
  /** The client stopped reading and its unsent data passed WS_MAX_BUFFERED_BYTES: try again later. */
  slow_consumer: { code: 1013, text: 'Slow consumer' },
} as const satisfies Record<string, { code: number; text: string }>;

export type CloseReason = keyof typeof CLOSE_REASONS;

/**
 * Ends counted in rt_connection_errors_total that this side did not close for: ws' own 1009 (frame_too_large) and
 * 1002 (protocol_error) closes, a peer that vanished without a close frame (abnormal, 1006), and a browser origin
 * refused before the upgrade (origin).
 */
const OTHER_ENDS = ['frame_too_large', 'protocol_error', 'abnormal', 'origin'] as const;

/** Every `reason` label of the JSON socket in rt_connection_errors_total. */
export const CONNECTION_ERROR_REASONS: readonly string[] = [...Object.keys(CLOSE_REASONS), ...OTHER_ENDS];
