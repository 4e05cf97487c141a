// Content rules shared by messages, comments and titles: sanitised to plain text, trimmed, bounded.
import sanitizeHtml from 'sanitize-html';
import { decodeHTML } from 'entities';
import { invalid } from './errors.ts';

const NO_MARKUP: sanitizeHtml.IOptions = { allowedTags: [], allowedAttributes: {}, disallowedTagsMode: 'discard' };
// C0/C1 control characters except tab and newline; carriage returns go too (CRLF becomes LF below).
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/**
 * Plain text with no HTML markup. The sanitizer returns HTML-escaped text; decoding it gives the plain text back,
 * and repeating until nothing changes stops markup smuggled in as entities (`&lt;script&gt;`).
 */
export function stripMarkup(input: string): string {
  // Without `<` there is no tag and without `&` no entity: the sanitizer would give the text back unchanged.
  if (!/[<&]/.test(input)) return input;
  let text = input;
  for (let round = 0; round < 5; round++) {
    const next = decodeHTML(sanitizeHtml(text, NO_MARKUP));
    if (next === text) return text;
    text = next;
  }
  return sanitizeHtml(text, NO_MARKUP);
}

/** Sanitised, trimmed, non-empty text of at most maxLength code points; throws INVALID_MESSAGE otherwise. */
export function cleanText(input: unknown, field: string, maxLength: number): string {
  if (typeof input !== 'string') throw invalid(`${field} must be a string`);
  // Markup can shrink a text, but not by this much: refuse before spending time sanitising it.
  if (input.length > 8 * maxLength + 1024) throw invalid(`${field} is longer than ${maxLength} characters`);
  const text = stripMarkup(input.replace(/\r\n?/g, '\n').replace(CONTROL, '')).trim();
  if (!text) throw invalid(`${field} must not be empty`);
  const length = [...text].length;
  if (length > maxLength) throw invalid(`${field} is longer than ${maxLength} characters (${length})`);
  return text;
}

export const TITLE_MAX_LENGTH = 200;

// Characters that end or break out of an HTML attribute or a CSS url(), and whitespace and controls, which
// parsers drop or read differently: refused before parsing, since the parser would quietly encode or drop them.
const UNSAFE_IN_URL = /["'`<>\\\s\u0000-\u001F\u007F-\u009F]/u;
const PATH_BASE = 'http://path.invalid';

/**
 * URLs that other users' apps display (avatars, thumbnails): an absolute http(s) URL without credentials, or a
 * root-relative path such as `/avatars/999.jpg`, stored in WHATWG serialisation. Anything else (javascript:, data:,
 * `//host`, relative paths, quotes) is refused with INVALID_MESSAGE naming the field.
 */
export function cleanUrl(input: string | null | undefined, field: string): string | null {
  if (input == null || input.trim() === '') return null;
  if (input.length > 2048) throw invalid(`${field} is longer than 2048 characters`);
  const refused = invalid(`${field} must be an http(s) URL or a path starting with a single /`);
  if (UNSAFE_IN_URL.test(input)) throw refused;
  if (input.startsWith('/')) {
    // `//host` would be another host (protocol-relative): a path stays one only if it resolves on the same origin.
    const url = parseUrl(input, PATH_BASE);
    if (input.startsWith('//') || url?.origin !== PATH_BASE) throw refused;
    return url.pathname + url.search + url.hash;
  }
  const url = parseUrl(input);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) throw refused;
  return url.href;
}

function parseUrl(input: string, base?: string): URL | undefined {
  try {
    return new URL(input, base);
  } catch {
    return undefined;
  }
}

/** `@username` mentions, case-insensitive; a trailing `.` ends the sentence, not the name. */
export function mentionedUsernames(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(/(?<![A-Za-z0-9_.@])@([A-Za-z0-9_.]{3,31})/g)) {
    const name = match[1]!.replace(/\.+$/, '');
    if (name.length >= 3 && name.length <= 30) names.add(name.toLowerCase());
  }
  return [...names];
}
