// schema.graphql is generated from the Pothos schema; this fails when the committed file drifts from the code,
// and pins the names and types that clients rely on.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { buildSchema, isObjectType } from 'graphql';
import { printedSchema } from '../src/graphql/schema.ts';

const committed = await readFile(new URL('../schema.graphql', import.meta.url), 'utf8');

describe('schema.graphql', () => {
  it('matches the schema printed from the code (run `npm run schema:print`)', () => {
    expect(committed).toBe(printedSchema());
  });

  it('has every name clients rely on, with its type', () => {
    const schema = buildSchema(committed);
    const field = (type: string, name: string) => {
      const t = schema.getType(type);
      if (!isObjectType(t)) throw new Error(`${type} is not an object type`);
      const f = t.getFields()[name];
      if (!f) throw new Error(`${type}.${name} is missing`);
      // schema.graphql is sorted, so compare arguments in name order.
      const args = f.args.map((a) => `${a.name}: ${a.type}`).sort();
      return `${f.type}${args.length ? `(${args.join(', ')})` : ''}`;
    };
    const expectFields = (type: string, fields: Record<string, string>) => {
      for (const [name, signature] of Object.entries(fields)) expect(field(type, name), `${type}.${name}`).toBe(signature);
    };
    expectFields('User', { id: 'Int!', username: 'String!', avatarUrl: 'String' });
    expectFields('Video', { id: 'Int!', title: 'String!', thumbUrl: 'String', owner: 'User!' });
    expectFields('Comment', { id: 'Int!', content: 'String!', author: 'User!', video: 'Video!', parentId: 'Int', createdAt: 'DateTime!' });
    expectFields('Message', {
      id: 'Int!',
      senderId: 'Int!',
      receiverId: 'Int!',
      content: 'String!',
      createdAt: 'DateTime!',
      seen: 'Boolean!',
      seenAt: 'DateTime',
    });
    expectFields('Notification', {
      id: 'Int!',
      userId: 'Int!',
      type: 'NotificationType!',
      refId: 'Int!',
      createdAt: 'DateTime!',
      seen: 'Boolean!',
      actor: 'Actor!',
      target: 'NotificationTarget!',
    });
    expectFields('Actor', { id: 'Int!', username: 'String!', avatarUrl: 'String' });
    expectFields('NotificationTarget', { type: 'String!', id: 'Int!', title: 'String', thumbUrl: 'String' });
    expectFields('Conversation', { with: 'User!', lastMessage: 'Message!', unreadCount: 'Int!' });
    expectFields('AuthPayload', { token: 'String!', user: 'User!' });
    expectFields('MessagesSeen', { messageIds: '[Int!]!', seenBy: 'Int!', seenAt: 'DateTime!' });
    expectFields('NotificationsSeen', { notificationIds: '[Int!]!', seenAt: 'DateTime!' });
    expectFields('TypingEvent', { userId: 'Int!', conversationWith: 'Int!', isTyping: 'Boolean!' });
    expect(schema.getType('NotificationType')!.toString()).toBe('NotificationType');
    expect((schema.getType('NotificationType') as any).getValues().map((v: any) => v.name)).toEqual(['COMMENT', 'FOLLOW', 'LIKE', 'MENTION', 'REPLY']);

    const startsWith = (type: string, name: string, prefix: string) =>
      expect(field(type, name).startsWith(prefix), `${type}.${name}: ${field(type, name)}`).toBe(true);
    expect(field('Query', 'me')).toBe('User!');
    startsWith('Query', 'conversations', 'ConversationConnection!(');
    startsWith('Query', 'messages', 'MessageConnection!(');
    expect(field('Query', 'messages')).toContain('withUserId: Int!');
    expect(field('Query', 'unreadMessageCount')).toBe('Int!');
    startsWith('Query', 'notifications', 'NotificationConnection!(');
    expect(field('Query', 'notifications')).toContain('unseenOnly: Boolean');
    expect(field('Query', 'unseenNotificationCount')).toBe('Int!');
    // Forward pagination only: `last`/`before` are not offered (rather than offered and refused).
    expect(field('Query', 'conversations')).toBe('ConversationConnection!(after: String, first: Int)');
    expect(field('Query', 'messages')).toBe('MessageConnection!(after: String, first: Int, withUserId: Int!)');
    expect(field('Query', 'notifications')).toBe('NotificationConnection!(after: String, first: Int, unseenOnly: Boolean)');
    for (const connection of ['ConversationConnection', 'MessageConnection', 'NotificationConnection']) {
      expect(field(connection, 'pageInfo')).toBe('PageInfo!');
      expect(field(field(connection, 'edges').replace(/[[\]!]/g, ''), 'cursor')).toBe('String!');
    }

    const mutations: Record<string, string> = {
      register: 'AuthPayload!(username: String!, password: String!, avatarUrl: String)',
      login: 'AuthPayload!(username: String!, password: String!)',
      sendMessage: 'Message!(receiverId: Int!, content: String!, clientMessageId: String)',
      markMessagesSeen: 'MessagesSeen!(conversationWith: Int!, messageIds: [Int!])',
      setTyping: 'Boolean!(conversationWith: Int!, isTyping: Boolean!)',
      markNotificationsSeen: 'NotificationsSeen!(notificationIds: [Int!])',
      createVideo: 'Video!(title: String!, thumbUrl: String)',
      likeVideo: 'Video!(videoId: Int!)',
      unlikeVideo: 'Video!(videoId: Int!)',
      commentOnVideo: 'Comment!(videoId: Int!, content: String!, parentId: Int)',
      followUser: 'User!(userId: Int!)',
      unfollowUser: 'User!(userId: Int!)',
    };
    const sortedArgs = (signature: string) => signature.replace(/\((.*)\)/, (_, args: string) => `(${args.split(', ').sort().join(', ')})`);
    for (const [name, signature] of Object.entries(mutations)) expect(field('Mutation', name), name).toBe(sortedArgs(signature));

    expectFields('Subscription', {
      messageNew: 'Message!',
      messageSeen: 'MessagesSeen!',
      typing: 'TypingEvent!',
      unreadMessageCount: 'Int!',
      notificationNew: 'Notification!',
      notificationSeen: 'NotificationsSeen!',
      unseenCount: 'Int!',
      userEvents: 'UserEventItem!(after: String)',
    });
  });
});
