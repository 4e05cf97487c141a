// The GraphQL operations the suites use, written once.
export const MESSAGE_FIELDS = 'id senderId receiverId content createdAt seen seenAt';
export const NOTIFICATION_FIELDS = 'id userId type refId createdAt seen actor { id username avatarUrl } target { type id title thumbUrl }';

export const SEND = `mutation($to: Int!, $c: String!) { sendMessage(receiverId: $to, content: $c) { ${MESSAGE_FIELDS} } }`;
export const MARK_SEEN = 'mutation($w: Int!, $ids: [Int!]) { markMessagesSeen(conversationWith: $w, messageIds: $ids) { messageIds seenBy seenAt } }';
export const SET_TYPING = 'mutation($w: Int!, $t: Boolean!) { setTyping(conversationWith: $w, isTyping: $t) }';
export const MARK_NOTIFICATIONS_SEEN = 'mutation($ids: [Int!]) { markNotificationsSeen(notificationIds: $ids) { notificationIds seenAt } }';
export const CREATE_VIDEO = 'mutation($t: String!, $th: String) { createVideo(title: $t, thumbUrl: $th) { id title thumbUrl owner { id } } }';
export const LIKE = 'mutation($v: Int!) { likeVideo(videoId: $v) { id } }';
export const UNLIKE = 'mutation($v: Int!) { unlikeVideo(videoId: $v) { id } }';
export const COMMENT = 'mutation($v: Int!, $c: String!, $p: Int) { commentOnVideo(videoId: $v, content: $c, parentId: $p) { id content parentId createdAt author { id } video { id } } }';
export const FOLLOW = 'mutation($u: Int!) { followUser(userId: $u) { id username } }';
export const UNFOLLOW = 'mutation($u: Int!) { unfollowUser(userId: $u) { id } }';

export const SUB_MESSAGE_NEW = `subscription { messageNew { ${MESSAGE_FIELDS} } }`;
export const SUB_MESSAGE_SEEN = 'subscription { messageSeen { messageIds seenBy seenAt } }';
export const SUB_TYPING = 'subscription { typing { userId conversationWith isTyping } }';
export const SUB_UNREAD = 'subscription { unreadMessageCount }';
export const SUB_NOTIFICATION_NEW = `subscription { notificationNew { ${NOTIFICATION_FIELDS} } }`;
export const SUB_NOTIFICATION_SEEN = 'subscription { notificationSeen { notificationIds seenAt } }';
export const SUB_UNSEEN = 'subscription { unseenCount }';
