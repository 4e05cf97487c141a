/* eslint-disable */
import * as types from './graphql.ts';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment MessageFields on Message { id senderId receiverId content createdAt seen seenAt }": typeof types.MessageFieldsFragmentDoc,
    "fragment NotificationFields on Notification { id userId type refId createdAt seen actor { id username avatarUrl } target { type id title thumbUrl } }": typeof types.NotificationFieldsFragmentDoc,
    "mutation Send($to: Int!, $c: String!) { sendMessage(receiverId: $to, content: $c) { ...MessageFields } }": typeof types.SendDocument,
    "mutation MarkSeen($w: Int!, $ids: [Int!]) { markMessagesSeen(conversationWith: $w, messageIds: $ids) { messageIds seenBy seenAt } }": typeof types.MarkSeenDocument,
    "mutation SetTyping($w: Int!, $t: Boolean!) { setTyping(conversationWith: $w, isTyping: $t) }": typeof types.SetTypingDocument,
    "mutation MarkNotificationsSeen($ids: [Int!]) { markNotificationsSeen(notificationIds: $ids) { notificationIds seenAt } }": typeof types.MarkNotificationsSeenDocument,
    "mutation CreateVideo($t: String!, $th: String) { createVideo(title: $t, thumbUrl: $th) { id title thumbUrl owner { id } } }": typeof types.CreateVideoDocument,
    "mutation Like($v: Int!) { likeVideo(videoId: $v) { id } }": typeof types.LikeDocument,
    "mutation Unlike($v: Int!) { unlikeVideo(videoId: $v) { id } }": typeof types.UnlikeDocument,
    "mutation Comment($v: Int!, $c: String!, $p: Int) { commentOnVideo(videoId: $v, content: $c, parentId: $p) { id content parentId createdAt author { id } video { id } } }": typeof types.CommentDocument,
    "mutation Follow($u: Int!) { followUser(userId: $u) { id username } }": typeof types.FollowDocument,
    "mutation Unfollow($u: Int!) { unfollowUser(userId: $u) { id } }": typeof types.UnfollowDocument,
    "subscription MessageNew { messageNew { ...MessageFields } }": typeof types.MessageNewDocument,
    "subscription MessageSeen { messageSeen { messageIds seenBy seenAt } }": typeof types.MessageSeenDocument,
    "subscription Typing { typing { userId conversationWith isTyping } }": typeof types.TypingDocument,
    "subscription Unread { unreadMessageCount }": typeof types.UnreadDocument,
    "subscription NotificationNew { notificationNew { ...NotificationFields } }": typeof types.NotificationNewDocument,
    "subscription NotificationSeen { notificationSeen { notificationIds seenAt } }": typeof types.NotificationSeenDocument,
    "subscription Unseen { unseenCount }": typeof types.UnseenDocument,
};
const documents: Documents = {
    "fragment MessageFields on Message { id senderId receiverId content createdAt seen seenAt }": types.MessageFieldsFragmentDoc,
    "fragment NotificationFields on Notification { id userId type refId createdAt seen actor { id username avatarUrl } target { type id title thumbUrl } }": types.NotificationFieldsFragmentDoc,
    "mutation Send($to: Int!, $c: String!) { sendMessage(receiverId: $to, content: $c) { ...MessageFields } }": types.SendDocument,
    "mutation MarkSeen($w: Int!, $ids: [Int!]) { markMessagesSeen(conversationWith: $w, messageIds: $ids) { messageIds seenBy seenAt } }": types.MarkSeenDocument,
    "mutation SetTyping($w: Int!, $t: Boolean!) { setTyping(conversationWith: $w, isTyping: $t) }": types.SetTypingDocument,
    "mutation MarkNotificationsSeen($ids: [Int!]) { markNotificationsSeen(notificationIds: $ids) { notificationIds seenAt } }": types.MarkNotificationsSeenDocument,
    "mutation CreateVideo($t: String!, $th: String) { createVideo(title: $t, thumbUrl: $th) { id title thumbUrl owner { id } } }": types.CreateVideoDocument,
    "mutation Like($v: Int!) { likeVideo(videoId: $v) { id } }": types.LikeDocument,
    "mutation Unlike($v: Int!) { unlikeVideo(videoId: $v) { id } }": types.UnlikeDocument,
    "mutation Comment($v: Int!, $c: String!, $p: Int) { commentOnVideo(videoId: $v, content: $c, parentId: $p) { id content parentId createdAt author { id } video { id } } }": types.CommentDocument,
    "mutation Follow($u: Int!) { followUser(userId: $u) { id username } }": types.FollowDocument,
    "mutation Unfollow($u: Int!) { unfollowUser(userId: $u) { id } }": types.UnfollowDocument,
    "subscription MessageNew { messageNew { ...MessageFields } }": types.MessageNewDocument,
    "subscription MessageSeen { messageSeen { messageIds seenBy seenAt } }": types.MessageSeenDocument,
    "subscription Typing { typing { userId conversationWith isTyping } }": types.TypingDocument,
    "subscription Unread { unreadMessageCount }": types.UnreadDocument,
    "subscription NotificationNew { notificationNew { ...NotificationFields } }": types.NotificationNewDocument,
    "subscription NotificationSeen { notificationSeen { notificationIds seenAt } }": types.NotificationSeenDocument,
    "subscription Unseen { unseenCount }": types.UnseenDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment MessageFields on Message { id senderId receiverId content createdAt seen seenAt }"): (typeof documents)["fragment MessageFields on Message { id senderId receiverId content createdAt seen seenAt }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment NotificationFields on Notification { id userId type refId createdAt seen actor { id username avatarUrl } target { type id title thumbUrl } }"): (typeof documents)["fragment NotificationFields on Notification { id userId type refId createdAt seen actor { id username avatarUrl } target { type id title thumbUrl } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Send($to: Int!, $c: String!) { sendMessage(receiverId: $to, content: $c) { ...MessageFields } }"): (typeof documents)["mutation Send($to: Int!, $c: String!) { sendMessage(receiverId: $to, content: $c) { ...MessageFields } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation MarkSeen($w: Int!, $ids: [Int!]) { markMessagesSeen(conversationWith: $w, messageIds: $ids) { messageIds seenBy seenAt } }"): (typeof documents)["mutation MarkSeen($w: Int!, $ids: [Int!]) { markMessagesSeen(conversationWith: $w, messageIds: $ids) { messageIds seenBy seenAt } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation SetTyping($w: Int!, $t: Boolean!) { setTyping(conversationWith: $w, isTyping: $t) }"): (typeof documents)["mutation SetTyping($w: Int!, $t: Boolean!) { setTyping(conversationWith: $w, isTyping: $t) }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation MarkNotificationsSeen($ids: [Int!]) { markNotificationsSeen(notificationIds: $ids) { notificationIds seenAt } }"): (typeof documents)["mutation MarkNotificationsSeen($ids: [Int!]) { markNotificationsSeen(notificationIds: $ids) { notificationIds seenAt } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CreateVideo($t: String!, $th: String) { createVideo(title: $t, thumbUrl: $th) { id title thumbUrl owner { id } } }"): (typeof documents)["mutation CreateVideo($t: String!, $th: String) { createVideo(title: $t, thumbUrl: $th) { id title thumbUrl owner { id } } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Like($v: Int!) { likeVideo(videoId: $v) { id } }"): (typeof documents)["mutation Like($v: Int!) { likeVideo(videoId: $v) { id } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Unlike($v: Int!) { unlikeVideo(videoId: $v) { id } }"): (typeof documents)["mutation Unlike($v: Int!) { unlikeVideo(videoId: $v) { id } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Comment($v: Int!, $c: String!, $p: Int) { commentOnVideo(videoId: $v, content: $c, parentId: $p) { id content parentId createdAt author { id } video { id } } }"): (typeof documents)["mutation Comment($v: Int!, $c: String!, $p: Int) { commentOnVideo(videoId: $v, content: $c, parentId: $p) { id content parentId createdAt author { id } video { id } } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Follow($u: Int!) { followUser(userId: $u) { id username } }"): (typeof documents)["mutation Follow($u: Int!) { followUser(userId: $u) { id username } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Unfollow($u: Int!) { unfollowUser(userId: $u) { id } }"): (typeof documents)["mutation Unfollow($u: Int!) { unfollowUser(userId: $u) { id } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription MessageNew { messageNew { ...MessageFields } }"): (typeof documents)["subscription MessageNew { messageNew { ...MessageFields } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription MessageSeen { messageSeen { messageIds seenBy seenAt } }"): (typeof documents)["subscription MessageSeen { messageSeen { messageIds seenBy seenAt } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription Typing { typing { userId conversationWith isTyping } }"): (typeof documents)["subscription Typing { typing { userId conversationWith isTyping } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription Unread { unreadMessageCount }"): (typeof documents)["subscription Unread { unreadMessageCount }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription NotificationNew { notificationNew { ...NotificationFields } }"): (typeof documents)["subscription NotificationNew { notificationNew { ...NotificationFields } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription NotificationSeen { notificationSeen { notificationIds seenAt } }"): (typeof documents)["subscription NotificationSeen { notificationSeen { notificationIds seenAt } }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription Unseen { unseenCount }"): (typeof documents)["subscription Unseen { unseenCount }"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;