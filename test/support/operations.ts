// The GraphQL operations the suites use, written once as typed documents: `npm run codegen` checks them against
// schema.graphql and regenerates ./generated/, which gives each its result and variables types.
import { graphql } from './generated/gql.ts';

export const MESSAGE_FIELDS = graphql(`fragment MessageFields on Message { id senderId receiverId content createdAt seen seenAt }`);
export const NOTIFICATION_FIELDS = graphql(
  `fragment NotificationFields on Notification { id userId type refId createdAt seen actor { id username avatarUrl } target { type id title thumbUrl } }`,
);

export const SEND = graphql(`mutation Send($to: Int!, $c: String!) { sendMessage(receiverId: $to, content: $c) { ...MessageFields } }`);
export const MARK_SEEN = graphql(
  `mutation MarkSeen($w: Int!, $ids: [Int!]) { markMessagesSeen(conversationWith: $w, messageIds: $ids) { messageIds seenBy seenAt } }`,
);
export const SET_TYPING = graphql(`mutation SetTyping($w: Int!, $t: Boolean!) { setTyping(conversationWith: $w, isTyping: $t) }`);
export const MARK_NOTIFICATIONS_SEEN = graphql(
  `mutation MarkNotificationsSeen($ids: [Int!]) { markNotificationsSeen(notificationIds: $ids) { notificationIds seenAt } }`,
);
export const CREATE_VIDEO = graphql(
  `mutation CreateVideo($t: String!, $th: String) { createVideo(title: $t, thumbUrl: $th) { id title thumbUrl owner { id } } }`,
);
export const LIKE = graphql(`mutation Like($v: Int!) { likeVideo(videoId: $v) { id } }`);
export const UNLIKE = graphql(`mutation Unlike($v: Int!) { unlikeVideo(videoId: $v) { id } }`);
export const COMMENT = graphql(
  `mutation Comment($v: Int!, $c: String!, $p: Int) { commentOnVideo(videoId: $v, content: $c, parentId: $p) { id content parentId createdAt author { id } video { id } } }`,
);
export const FOLLOW = graphql(`mutation Follow($u: Int!) { followUser(userId: $u) { id username } }`);
export const UNFOLLOW = graphql(`mutation Unfollow($u: Int!) { unfollowUser(userId: $u) { id } }`);

export const SUB_MESSAGE_NEW = graphql(`subscription MessageNew { messageNew { ...MessageFields } }`);
export const SUB_MESSAGE_SEEN = graphql(`subscription MessageSeen { messageSeen { messageIds seenBy seenAt } }`);
export const SUB_TYPING = graphql(`subscription Typing { typing { userId conversationWith isTyping } }`);
export const SUB_UNREAD = graphql(`subscription Unread { unreadMessageCount }`);
export const SUB_NOTIFICATION_NEW = graphql(`subscription NotificationNew { notificationNew { ...NotificationFields } }`);
export const SUB_NOTIFICATION_SEEN = graphql(`subscription NotificationSeen { notificationSeen { notificationIds seenAt } }`);
export const SUB_UNSEEN = graphql(`subscription Unseen { unseenCount }`);
