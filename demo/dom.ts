// Building DOM without a framework: text always goes in as text nodes, never as HTML.
type Child = Node | string | number | false | null | undefined;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | ((e: any) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false) el.setAttribute(name, String(value));
  }
  for (const child of children) if (child !== false && child !== null && child !== undefined) el.append(typeof child === 'number' ? String(child) : child);
  return el;
}

export const byTestId = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`)!;
