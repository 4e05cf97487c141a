// The demo at /demo in a real browser (Debian's chromium driven by playwright-core): two users in two browser
// contexts, a server restart under them, and a user whose WebSocket is blocked. Saves the screenshots in docs/.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../client/src/index.ts';
import { startServer, tempDir, type TestServer } from './support/server.ts';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) console.warn(`\n*** SKIPPED: demo browser tests — ${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it). ***\n`);

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const WAIT = { timeout: 15_000 };

interface Person {
  context: BrowserContext;
  page: Page;
  id: number;
  username: string;
  token: string;
  errors: Error[];
}

describe.skipIf(!available)('demo in a real browser', () => {
  let browser: Browser;
  let server: TestServer;
  let dataDir: string;
  let alice: Person;
  let bob: Person;

  const demoUrl = () => `${server.url}/demo`;

  async function register(prefix: string, prepare?: (context: BrowserContext) => Promise<void>): Promise<Person> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
    await prepare?.(context);
    const page = await context.newPage();
    const errors: Error[] = [];
    page.on('pageerror', (err) => errors.push(err));
    await page.goto(demoUrl());
    const username = prefix;
    await page.getByTestId('username').fill(username);
    await page.getByTestId('password').fill('correct horse battery');
    if (prefix === 'alice') await page.screenshot({ path: 'docs/demo-login.png' });
    await page.getByTestId('register').click();
    await page.waitForSelector('[data-testid="state"][data-state="open"]', WAIT);
    const session = await page.evaluate(() => JSON.parse(localStorage.getItem('realtime-demo-session')!));
    return { context, page, id: session.user.id, username, token: session.token, errors };
  }

  const text = (page: Page, testId: string) => page.getByTestId(testId).textContent();
  const messageTexts = (page: Page) => page.getByTestId('messages').locator('[data-testid="message"] .content').allTextContents();

  async function send(person: Person, content: string) {
    await person.page.getByTestId('composer').fill(content);
    await person.page.getByTestId('composer').press('Enter');
  }

  async function openChat(person: Person, other: Person) {
    await person.page.getByTestId('open-user-id').fill(String(other.id));
    await person.page.getByTestId('open-chat').click();
  }

  async function conversation(person: Person, other: Person): Promise<string[]> {
    const res = await fetch(`${server.url}/api/v1/messages/?with=${other.id}&limit=100`, { headers: { authorization: `Bearer ${person.token}` } });
    return ((await res.json()) as { messages: Message[] }).messages.map((m) => m.content).reverse();
  }

  beforeAll(async () => {
    // A database of its own (PGlite), so that the users are alice #1 and bob #2 and the screenshots the same on
    // every run.
    dataDir = await tempDir();
    server = await startServer({ dataDir, backend: 'pglite' });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    alice = await register('alice');
    bob = await register('bob');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("shows alice's message in bob's conversation list with an unread badge", async () => {
    await openChat(alice, bob);
    await send(alice, 'Hi bob, seen my video?');
    const entry = bob.page.locator(`[data-user-id="${alice.id}"]`);
    await expect.poll(() => entry.textContent(), WAIT).toContain('Hi bob, seen my video?');
    expect(await text(bob.page, `unread-${alice.id}`)).toBe('1');
    // Alice's page is open: the online dot beside her name, from the presence API.
    await expect.poll(() => bob.page.getByTestId(`presence-${alice.id}`).getAttribute('data-online'), WAIT).toBe('true');
    await bob.page.screenshot({ path: 'docs/demo-inbox.png' });
  });

  it('bob opens the chat: the message is there and alice sees the seen mark', async () => {
    await bob.page.locator(`[data-user-id="${alice.id}"]`).click();
    await expect.poll(() => messageTexts(bob.page), WAIT).toEqual(['Hi bob, seen my video?']);
    await expect.poll(() => alice.page.getByTestId('seen-mark').count(), WAIT).toBe(1);
    await expect.poll(() => text(bob.page, `unread-${alice.id}`), WAIT).toBe('');
  });

  it("bob's typing shows for alice and disappears after the timeout", async () => {
    await bob.page.getByTestId('composer').pressSequentially('Not yet', { delay: 20 });
    await expect.poll(() => text(alice.page, 'typing'), WAIT).toBe(`${bob.username} is typing…`);
    await alice.page.screenshot({ path: 'docs/demo-chat.png' });
    // No more keys and no send: the server's typing timeout (3 s) ends it.
    await expect.poll(() => text(alice.page, 'typing'), WAIT).toBe('');
    await bob.page.getByTestId('composer').fill('');
  });

  it('a live message lands in the open chat and is marked seen at once', async () => {
    await send(alice, 'Here it is');
    await expect.poll(() => messageTexts(bob.page), WAIT).toEqual(['Hi bob, seen my video?', 'Here it is']);
    await expect.poll(() => alice.page.getByTestId('seen-mark').count(), WAIT).toBe(2);
  });

  it("a like, a follow, a comment and a mention raise bob's bell; bob replies and alice's bell rings", async () => {
    const videoId = await bob.page.getByTestId('my-video').getAttribute('data-video-id');
    expect(videoId).toMatch(/^\d+$/);
    expect(await text(bob.page, 'bell-count')).toBe('');
    await alice.page.getByTestId('video-id').fill(videoId!);
    await alice.page.getByTestId('like').click();
    await alice.page.getByTestId('follow').click();
    await expect.poll(() => text(bob.page, 'bell-count'), WAIT).toBe('2');
    await alice.page.getByTestId('comment-text').fill('Great one');
    await alice.page.getByTestId('comment').click();
    await expect.poll(() => text(bob.page, 'bell-count'), WAIT).toBe('3');
    await alice.page.getByTestId('comment-text').fill(`Look at this @${bob.username}`);
    await alice.page.getByTestId('comment').click();
    await expect.poll(() => text(bob.page, 'bell-count'), WAIT).toBe('4');
    const types = await bob.page.getByTestId('notification').evaluateAll((items) => items.map((i) => i.getAttribute('data-type')));
    expect(types).toEqual(['mention', 'comment', 'follow', 'like']);
    await bob.page.screenshot({ path: 'docs/demo-notifications.png' });

    bob.page.once('dialog', (dialog) => void dialog.accept('Thanks!'));
    await bob.page.locator('[data-testid="notification"][data-type="comment"] [data-testid="reply"]').click();
    await expect.poll(() => alice.page.locator('[data-testid="notification"][data-type="reply"]').count(), WAIT).toBe(1);
    expect(await text(alice.page, 'bell-count')).toBe('1');

    await bob.page.getByTestId('bell').click();
    await expect.poll(() => text(bob.page, 'bell-count'), WAIT).toBe('');
  });

  it('a server restart under both: they reconnect, and nothing sent during it is missing or doubled', async () => {
    const port = Number(new URL(server.url).port);
    await server.close();
    await expect.poll(() => text(alice.page, 'state'), WAIT).not.toBe('open');
    await send(alice, 'sent during the restart 1');
    await send(alice, 'sent during the restart 2');
    await expect.poll(async () => [await alice.page.getByTestId('pending-message').count(), await text(alice.page, 'send-error')], WAIT).toEqual([2, '']);

    server = await startServer({ dataDir, port, backend: 'pglite' });
    for (const person of [alice, bob]) await expect.poll(() => text(person.page, 'state'), WAIT).toBe('open');
    const expected = ['Hi bob, seen my video?', 'Here it is', 'sent during the restart 1', 'sent during the restart 2'];
    await expect.poll(() => messageTexts(bob.page), WAIT).toEqual(expected);
    await expect.poll(() => messageTexts(alice.page), WAIT).toEqual(expected);
    expect(await alice.page.getByTestId('pending-message').count()).toBe(0);
    expect(await conversation(bob, alice)).toEqual(expected);

    await send(bob, 'back online');
    await expect.poll(async () => (await messageTexts(alice.page)).at(-1), WAIT).toBe('back online');
  });

  it("with bob's WebSocket blocked, bob's view keeps updating by polling", async () => {
    const storage = await bob.page.evaluate(() => JSON.stringify(localStorage));
    await bob.context.close();
    bob = { ...bob, ...(await reopen(storage)) };
    await expect.poll(() => text(bob.page, 'state'), WAIT).toBe('polling');
    await bob.page.locator(`[data-user-id="${alice.id}"]`).click();
    await send(alice, 'can you hear me?');
    await expect.poll(async () => (await messageTexts(bob.page)).at(-1), WAIT).toBe('can you hear me?');
    await expect.poll(() => bob.page.locator(`[data-user-id="${alice.id}"]`).textContent(), WAIT).toContain('can you hear me?');
    await bob.page.screenshot({ path: 'docs/demo-polling.png' });
    // Typing has no REST call: while polling the client sends it with the setTyping mutation.
    await bob.page.getByTestId('composer').pressSequentially('yes', { delay: 20 });
    await expect.poll(() => text(alice.page, 'typing'), WAIT).toBe(`${bob.username} is typing…`);
    await send(bob, 'yes, by polling');
    await expect.poll(async () => (await messageTexts(alice.page)).at(-1), WAIT).toBe('yes, by polling');
    // Notifications come by polling too.
    const before = await bob.page.getByTestId('notification').count();
    await alice.page.getByTestId('comment-text').fill('Polling works');
    await alice.page.getByTestId('comment').click();
    await expect.poll(() => bob.page.getByTestId('notification').count(), WAIT).toBe(before + 1);
    expect(await bob.page.locator('[data-testid="notification"]').first().getAttribute('data-type')).toBe('comment');
    expect(await bob.page.getByTestId('state').textContent()).toBe('polling');
  });

  it('logs out, refuses a wrong password, and logs back in to the same conversations', async () => {
    const page = alice.page;
    await page.getByTestId('logout').click();
    await page.getByTestId('username').fill('alice');
    await page.getByTestId('password').fill('not the password');
    await page.getByTestId('login').click();
    await expect.poll(() => text(page, 'login-error'), WAIT).toMatch(/./);
    await page.getByTestId('password').fill('correct horse battery');
    await page.getByTestId('login').click();
    await page.waitForSelector('[data-testid="state"][data-state="open"]', WAIT);
    await expect.poll(() => page.locator(`[data-user-id="${bob.id}"]`).textContent(), WAIT).toContain('yes, by polling');
  });

  /** Bob again in a new context whose WebSocket upgrades to /api/v1/ws fail, with the same local storage (session). */
  async function reopen(storage: string): Promise<Pick<Person, 'context' | 'page' | 'errors'>> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
    await context.routeWebSocket(/\/api\/v1\/ws/, (ws) => ws.close({ code: 1011, reason: 'blocked by the test' }));
    await context.addInitScript((saved) => {
      for (const [key, value] of Object.entries(JSON.parse(saved) as Record<string, string>)) localStorage.setItem(key, value);
    }, storage);
    const page = await context.newPage();
    const errors: Error[] = [];
    page.on('pageerror', (err) => errors.push(err));
    await page.goto(demoUrl());
    return { context, page, errors };
  }

  it('raised no error in either page', () => {
    expect([...alice.errors, ...bob.errors]).toEqual([]);
  });
});

describe('demo files', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('serves the page and its bundle, built on the first request; 404 for anything else under /demo', async () => {
    for (const path of ['/demo', '/demo/']) {
      const page = await fetch(`${server.url}${path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await page.text()).toContain('<script type="module" src="/demo/main.js">');
    }
    const script = await fetch(`${server.url}/demo/main.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // The client is bundled in, not fetched from anywhere else.
    expect(await script.text()).toContain('/api/v1/ws');
    const css = await fetch(`${server.url}/demo/main.css`, { method: 'HEAD' });
    expect([css.status, css.headers.get('content-type'), Number(css.headers.get('content-length'))]).toEqual([
      200,
      'text/css; charset=utf-8',
      expect.any(Number),
    ]);
    expect(await css.text()).toBe('');
    expect((await fetch(`${server.url}/demo/secret.ts`)).status).toBe(404);
    expect((await fetch(`${server.url}/demo/../package.json`)).status).not.toBe(200);
  });

  it('is off in production unless DEMO=true', async () => {
    for (const [env, status] of [
      [{}, 404],
      [{ DEMO: 'true' }, 200],
    ] as const) {
      const production = await startServer({ env: { NODE_ENV: 'production', ...env } });
      try {
        expect((await fetch(`${production.url}/demo`)).status).toBe(status);
      } finally {
        await production.close();
      }
    }
  });
});
