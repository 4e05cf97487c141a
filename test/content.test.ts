// The content rules, table-driven: what survives of a text, and what is refused.
import { describe, expect, it } from 'vitest';
import { cleanText, mentionedUsernames, stripMarkup } from '../src/domain/content.ts';

describe('stripMarkup', () => {
  it.each([
    ['plain text', 'plain text'],
    ['<script>alert(1)</script>hello', 'hello'],
    ['<b>bold</b> and <i>italic</i>', 'bold and italic'],
    ['1 < 2 && 3 > 2', '1 < 2 && 3 > 2'],
    ['Tom & Jerry', 'Tom & Jerry'],
    ['&lt;script&gt;alert(1)&lt;/script&gt;x', 'x'],
    ['<img src=x onerror=alert(1)>after', 'after'],
    ['<<script>script>alert(1)<</script>/script>', ''],
    ['a<style>body{}</style>b', 'ab'],
    ['café "quoted" it\'s 😀', 'café "quoted" it\'s 😀'],
  ])('%j -> %j', (input, output) => {
    expect(stripMarkup(input)).toBe(output);
  });
});

describe('cleanText', () => {
  it('trims, removes control characters but tab and newline, and counts code points', () => {
    expect(cleanText('  a\u0000b\u0007c\td\r\ne  ', 'content', 10)).toBe('abc\td\ne');
    expect(cleanText('😀'.repeat(3), 'content', 3)).toBe('😀😀😀');
    expect(() => cleanText('😀'.repeat(4), 'content', 3)).toThrow(/longer than 3/);
  });

  it.each([[''], ['   '], ['<p> </p>'], ['\u0000\u0001']])('refuses %j as empty', (input) => {
    expect(() => cleanText(input, 'content', 100)).toThrow(/must not be empty/);
  });

  it('refuses non-strings and absurd sizes before sanitising', () => {
    expect(() => cleanText(42, 'content', 100)).toThrow(/must be a string/);
    expect(() => cleanText('x'.repeat(10_000), 'content', 100)).toThrow(/longer than 100/);
  });
});

describe('mentionedUsernames', () => {
  it.each([
    ['hi @alice and @Bob.', ['alice', 'bob']],
    ['@a.b.c. end', ['a.b.c']],
    ['mail bob@example.com', []],
    ['@ab too short', []],
    ['@alice @ALICE', ['alice']],
  ])('%j -> %j', (text, names) => {
    expect(mentionedUsernames(text)).toEqual(names);
  });
});
