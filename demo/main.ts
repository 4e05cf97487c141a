// The demo page: everything live comes from the client (socket or polling, the page cannot tell), everything else
// from REST through the same client. Each region of the page is re-rendered from the state below when it changes.
import './style.css';
import { connect, type ConnectionState, type Inbox, type Message, type Notification, type Presence, type User } from '../client/src/index.ts';
import { expired, loadSession, saveSession, signIn, social, type Session } from './api.ts';
import { h } from './dom.ts';

const app = document.getElementById('app')!;
const initial = loadSession();
if (initial && !expired(initial.token)) start(initial);
else showLogin();

function showLogin() {
  const error = h('div', { class: 'error', 'data-testid': 'login-error' });
  const username = h('input', { placeholder: 'username', autocomplete: 'username', 'data-testid': 'username' });
  const password = h('input', { placeholder: 'password (8 characters or more)', type: 'password', 'data-testid': 'password' });
  const go = (mode: 'login' | 'register') => async () => {
    try {
      const session = await signIn(mode, username.value.trim(), password.value);
      saveSession(session);
      start(session);
    } catch (err) {
      error.textContent = (err as Error).message;
    }
  };
  app.replaceChildren(
    h(
      'div',
      { class: 'login' },
      h('h1', {}, 'Realtime demo'),
      username,
      password,
      h(
        'div',
        { class: 'row' },
        h('button', { class: 'primary', onclick: go('login'), 'data-testid': 'login' }, 'Log in'),
        h('button', { onclick: go('register'), 'data-testid': 'register' }, 'Register'),
      ),
      error,
    ),
  );
}

const NOTIFICATION_TEXT: Record<Notification['type'], (n: Notification) => string> = {
  like: (n) => `liked your video “${n.target.title}”`,
  comment: (n) => `commented on “${n.target.title}”`,
  reply: () => 'replied to your comment',
  mention: (n) => `mentioned you on “${n.target.title}”`,
  follow: () => 'started following you',
};

/** Drawn, not an emoji: closed networks and minimal systems often have no emoji font. */
function bellIcon(): SVGSVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('fill', 'currentColor');
  path.setAttribute(
    'd',
    'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z',
  );
  svg.append(path);
  return svg;
}

async function demoVideo(session: Session) {
  const key = `realtime-demo-video-${session.user.id}`;
  const known = localStorage.getItem(key);
  if (known) return JSON.parse(known) as { id: number; title: string };
  const video = await social(session.token).createVideo(`${session.user.username}'s demo video`);
  localStorage.setItem(key, JSON.stringify(video));
  return video;
}

function start(session: Session) {
  const me = session.user;
  const actions = social(session.token);
  const client = connect({
    url: location.origin,
    getToken: () => {
      if (expired(session.token)) {
        logout();
        throw new Error('Session expired: log in again');
      }
      return session.token;
    },
  });

  let state: ConnectionState = client.state;
  let conversations: Inbox['conversations'] = [];
  let partner: User | undefined;
  const messages = new Map<number, Message>();
  let pending: { key: number; content: string }[] = [];
  let typing = false;
  let typingTimer: ReturnType<typeof setTimeout> | undefined;
  let notifications: Notification[] = [];
  const presence = new Map<number, Presence>();
  let unseen = 0;

  const regions = {
    state: h('span', { class: 'state', 'data-testid': 'state' }),
    bellCount: h('span', { class: 'badge', 'data-testid': 'bell-count' }),
    conversations: h('ul', { class: 'conversations', 'data-testid': 'conversations' }),
    chatTitle: h('h2', { 'data-testid': 'chat-title' }),
    follow: h('button', { 'data-testid': 'follow', hidden: true, onclick: () => partner && void actions.follow(partner.id) }, 'Follow'),
    messages: h('ul', { class: 'messages', 'data-testid': 'messages' }),
    typing: h('div', { class: 'typing', 'data-testid': 'typing' }),
    sendError: h('div', { class: 'error', 'data-testid': 'send-error' }),
    notifications: h('ul', { class: 'notifications', 'data-testid': 'notifications' }),
    video: h('div', { class: 'muted', 'data-testid': 'my-video' }),
  };
  const composer = h('input', { placeholder: 'Write a message…', 'data-testid': 'composer', disabled: true });
  const openId = h('input', { placeholder: 'user id', size: 6, 'data-testid': 'open-user-id' });
  const videoId = h('input', { placeholder: 'video id', size: 6, 'data-testid': 'video-id' });
  const commentText = h('input', { placeholder: 'Comment (try @username)', 'data-testid': 'comment-text' });

  const sendMessage = () => {
    const content = composer.value.trim();
    if (!partner || !content) return;
    composer.value = '';
    regions.sendError.textContent = '';
    const item = { key: Math.random(), content };
    pending.push(item);
    renderChat();
    client.sendMessage(partner.id, content).then(
      (message) => {
        pending = pending.filter((p) => p !== item);
        if (message.receiverId === partner?.id) messages.set(message.id, message);
        renderChat();
        scheduleInbox();
      },
      (err: Error) => {
        pending = pending.filter((p) => p !== item);
        regions.sendError.textContent = `Not sent: “${content}”: ${err.message}`;
        renderChat();
      },
    );
  };
  composer.addEventListener('input', () => partner && client.typing(partner.id));
  composer.addEventListener('blur', () => partner && client.stopTyping(partner.id));
  composer.addEventListener('keydown', (e) => e.key === 'Enter' && sendMessage());

  app.replaceChildren(
    h(
      'header',
      {},
      h('span', { class: 'me', 'data-testid': 'me' }, `${me.username} (#${me.id})`),
      regions.state,
      h('span', { class: 'spacer' }),
      h(
        'button',
        { class: 'bell', 'data-testid': 'bell', title: 'Mark all notifications seen', onclick: () => void client.markNotificationsSeen() },
        bellIcon(),
        regions.bellCount,
      ),
      h('button', { onclick: logout, 'data-testid': 'logout' }, 'Log out'),
    ),
    h(
      'main',
      {},
      h(
        'section',
        {},
        h('h2', {}, 'Conversations'),
        h(
          'div',
          { class: 'row' },
          openId,
          h('button', { 'data-testid': 'open-chat', onclick: () => Number(openId.value) && void openChat(Number(openId.value)) }, 'Chat'),
        ),
        regions.conversations,
      ),
      h(
        'section',
        { class: 'chat' },
        h('div', { class: 'row' }, regions.chatTitle, regions.follow),
        regions.messages,
        regions.typing,
        regions.sendError,
        h('div', { class: 'composer' }, composer, h('button', { class: 'primary', 'data-testid': 'send', onclick: sendMessage }, 'Send')),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Notifications'),
        regions.notifications,
        h('h2', { style: 'margin-top:16px' }, 'Make some'),
        regions.video,
        h('div', { class: 'row' }, videoId, h('button', { 'data-testid': 'like', onclick: () => void actions.like(Number(videoId.value)) }, 'Like')),
        h(
          'div',
          { class: 'row' },
          commentText,
          h(
            'button',
            { 'data-testid': 'comment', onclick: () => void actions.comment(Number(videoId.value), commentText.value).then(() => (commentText.value = '')) },
            'Comment',
          ),
        ),
      ),
    ),
  );

  function renderHeader() {
    regions.state.dataset.state = state;
    regions.state.textContent = state;
    regions.bellCount.dataset.count = String(unseen);
    regions.bellCount.textContent = unseen ? String(unseen) : '';
  }

  function renderConversations() {
    regions.conversations.replaceChildren(
      ...conversations.map((c) =>
        h(
          'li',
          { class: c.user.id === partner?.id ? 'active' : '', 'data-user-id': c.user.id, onclick: () => void openChat(c.user.id) },
          h('div', {}, h('div', {}, presenceDot(c.user.id), c.user.username), h('div', { class: 'preview' }, c.lastMessage.content)),
          h('span', { class: 'badge', 'data-testid': `unread-${c.user.id}`, 'data-count': c.unreadCount }, c.unreadCount || ''),
        ),
      ),
    );
  }

  /** "Active now" as a green dot; otherwise grey, with when they were last active as its title. */
  function presenceDot(userId: number) {
    const p = presence.get(userId);
    const title = p?.online ? 'Active now' : p?.lastActiveAt ? `Active ${new Date(p.lastActiveAt).toLocaleString()}` : '';
    return h('span', { class: 'presence', 'data-testid': `presence-${userId}`, 'data-online': String(p?.online ?? false), title });
  }

  function renderChat() {
    regions.chatTitle.textContent = partner ? `Chat with ${partner.username}` : 'Pick a conversation';
    regions.follow.hidden = !partner;
    composer.disabled = !partner;
    const mark = (m: Message) => h('span', { class: 'mark', 'data-testid': m.seen ? 'seen-mark' : 'sent-mark' }, m.seen ? '✓✓' : '✓');
    regions.messages.replaceChildren(
      ...[...messages.values()]
        .sort((a, b) => a.id - b.id)
        .map((m) =>
          h(
            'li',
            { class: `message ${m.senderId === me.id ? 'mine' : ''}`, 'data-testid': 'message', 'data-id': m.id },
            h('span', { class: 'content' }, m.content),
            m.senderId === me.id && mark(m),
          ),
        ),
      ...pending.map((p) =>
        h('li', { class: 'message mine', 'data-testid': 'pending-message' }, h('span', { class: 'content' }, p.content), h('span', { class: 'mark' }, '…')),
      ),
    );
    regions.messages.scrollTop = regions.messages.scrollHeight;
    regions.typing.textContent = partner && typing ? `${partner.username} is typing…` : '';
  }

  function renderNotifications() {
    regions.notifications.replaceChildren(
      ...notifications.map((n) =>
        h(
          'li',
          { class: n.seen ? '' : 'unseen', 'data-testid': 'notification', 'data-type': n.type },
          `${n.actor.username} ${NOTIFICATION_TEXT[n.type](n)} `,
          n.type !== 'like' && n.type !== 'follow' && h('button', { 'data-testid': 'reply', onclick: () => reply(n) }, 'Reply'),
        ),
      ),
    );
    renderHeader();
  }

  function reply(n: Notification) {
    const text = prompt(`Reply to ${n.actor.username}`);
    if (text) void actions.comment(n.target.id, text, n.refId);
  }

  async function loadInbox() {
    conversations = (await client.inbox()).conversations;
    client.watchPresence(conversations.map((c) => c.user.id));
    if (partner && partner.username.startsWith('#')) partner = conversations.find((c) => c.user.id === partner!.id)?.user ?? partner;
    renderConversations();
    renderChat();
  }

  let inboxTimer: ReturnType<typeof setTimeout> | undefined;
  function scheduleInbox() {
    clearTimeout(inboxTimer);
    inboxTimer = setTimeout(() => void loadInbox(), 100);
  }

  async function loadNotifications() {
    const page = await client.notifications();
    notifications = page.notifications;
    unseen = page.unseenCount;
    renderNotifications();
  }

  async function openChat(userId: number) {
    partner = conversations.find((c) => c.user.id === userId)?.user ?? { id: userId, username: `#${userId}`, avatarUrl: null };
    messages.clear();
    typing = false;
    renderChat();
    renderConversations();
    await loadConversation();
  }

  async function loadConversation() {
    if (!partner) return;
    const id = partner.id;
    const page = await client.conversation(id);
    if (partner?.id !== id) return;
    for (const m of page.messages) messages.set(m.id, m);
    renderChat();
    await markSeen();
  }

  async function markSeen() {
    if (!partner || document.visibilityState === 'hidden') return;
    const unread = [...messages.values()].filter((m) => m.senderId === partner!.id && !m.seen).map((m) => m.id);
    if (unread.length === 0) return;
    await client.markSeen(partner.id, unread);
    for (const id of unread) messages.set(id, { ...messages.get(id)!, seen: true });
    scheduleInbox();
  }

  client.on('state', (now) => {
    state = now;
    renderHeader();
  });
  client.on('message:new', (m) => {
    if (partner && m.senderId === partner.id) {
      messages.set(m.id, m);
      typing = false;
      renderChat();
      void markSeen();
    }
    scheduleInbox();
  });
  client.on('message:seen', (receipt) => {
    for (const id of receipt.messageIds) {
      const m = messages.get(id);
      if (m) messages.set(id, { ...m, seen: true, seenAt: receipt.seenAt });
    }
    renderChat();
  });
  client.on('message:typing', (t) => {
    if (t.userId !== partner?.id) return;
    typing = t.isTyping;
    // The server sends the stop after its timeout; this only covers a stop lost with a dropped connection.
    clearTimeout(typingTimer);
    if (typing) typingTimer = setTimeout(() => ((typing = false), renderChat()), 6000);
    renderChat();
  });
  client.on('message:unread_count', scheduleInbox);
  client.on('presence:update', (p) => {
    presence.set(p.userId, p);
    renderConversations();
  });
  client.on('notification:new', (n) => {
    notifications = [n, ...notifications.filter((x) => x.id !== n.id)];
    renderNotifications();
  });
  client.on('notification:unseen_count', ({ count }) => {
    unseen = count;
    renderHeader();
  });
  client.on('notification:seen', ({ notificationIds }) => {
    notifications = notifications.map((n) => (notificationIds.includes(n.id) ? { ...n, seen: true } : n));
    renderNotifications();
  });
  client.on('resync', () => void Promise.all([loadInbox(), loadNotifications(), loadConversation()]));
  document.addEventListener('visibilitychange', () => void markSeen());

  function logout() {
    client.close();
    saveSession(undefined);
    showLogin();
  }

  renderHeader();
  renderChat();
  void loadInbox();
  void loadNotifications();
  void demoVideo(session).then((video) => {
    regions.video.textContent = `Your demo video: #${video.id} “${video.title}” (give its id to others)`;
    regions.video.dataset.videoId = String(video.id);
  });
}
