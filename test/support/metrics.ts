// Reads a server's /metrics (Prometheus text) and sums the series of a name whose labels include the given ones.
import { expect } from 'vitest';

export type MetricReader = (name: string, labels?: Record<string, string>) => number;

export async function scrape(url: string): Promise<MetricReader> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  expect(res.headers.get('content-type')).toMatch(/text\/plain/);
  const text = await res.text();
  return (name, labels = {}) => {
    const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    let total = 0;
    for (const line of text.split('\n')) {
      const match = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
      if (match?.[1] === name && wanted.every((w) => (match[2] ?? '').includes(w))) total += Number(match[3]);
    }
    return total;
  };
}
