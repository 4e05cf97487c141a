// Inputs that the JSON socket and REST both accept, defined once so the transports cannot drift apart.
import { z } from 'zod';
import { MAX_PRESENCE_IDS } from '../domain/presence.ts';

export const MAX_ID = 2 ** 31 - 1; // PostgreSQL int: larger ids would fail in the database rather than here
export const id = z.number().int().min(1).max(MAX_ID);
// Left out or null = all; [] = none, as on every transport.
const ids = z.array(id).nullish();

export const MessagesSeenInput = z.object({ conversationWith: id, messageIds: ids });
export const NotificationsSeenInput = z.object({ notificationIds: ids });
export const PresenceInput = z.object({ userIds: z.array(id).min(1).max(MAX_PRESENCE_IDS) });
