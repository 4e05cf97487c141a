// What the demo needs beyond the client: accounts and the social actions (GraphQL), and the session in localStorage.
import type { User } from '../client/src/index.ts';

export interface Session {
  token: string;
  user: User;
}

const KEY = 'realtime-demo-session';

export const loadSession = (): Session | undefined => JSON.parse(localStorage.getItem(KEY) ?? 'null') ?? undefined;
export const saveSession = (session: Session | undefined) => (session ? localStorage.setItem(KEY, JSON.stringify(session)) : localStorage.removeItem(KEY));

/** Whether the token's `exp` has passed (the server would refuse it: the user must log in again). */
export function expired(token: string): boolean {
  const exp = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).exp as number;
  return exp * 1000 <= Date.now();
}

export async function gql<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors[0]!.message);
  return body.data!;
}

export async function signIn(mode: 'login' | 'register', username: string, password: string): Promise<Session> {
  const data = await gql<Record<string, Session>>(
    `mutation($u: String!, $p: String!) { ${mode}(username: $u, password: $p) { token user { id username avatarUrl } } }`,
    { u: username, p: password },
  );
  return data[mode]!;
}

export const social = (token: string) => ({
  createVideo: (title: string) =>
    gql<{ createVideo: { id: number; title: string } }>('mutation($t: String!) { createVideo(title: $t) { id title } }', { t: title }, token).then(
      (d) => d.createVideo,
    ),
  like: (videoId: number) => gql('mutation($v: Int!) { likeVideo(videoId: $v) { id } }', { v: videoId }, token),
  comment: (videoId: number, content: string, parentId?: number) =>
    gql(
      'mutation($v: Int!, $c: String!, $p: Int) { commentOnVideo(videoId: $v, content: $c, parentId: $p) { id } }',
      { v: videoId, c: content, p: parentId },
      token,
    ),
  follow: (userId: number) => gql('mutation($u: Int!) { followUser(userId: $u) { id } }', { u: userId }, token),
});
