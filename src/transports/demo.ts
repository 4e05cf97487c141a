// /demo: the demo web app (demo/, which uses the first-party client in client/). esbuild bundles it on the first
// request and the bundle is kept in memory: nothing to build at install time, nothing generated in the repository,
// no CDN, and a server that never shows the demo never loads the bundler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../observability/logger.ts';

const DEMO_DIR = fileURLToPath(new URL('../../demo/', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

type Files = Map<string, { type: string; body: Uint8Array }>;

async function build(): Promise<Files> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: DEMO_DIR,
    entryPoints: ['main.ts'],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    outdir: '/demo',
    logLevel: 'silent',
  });
  const files: Files = new Map([['/demo/', { type: TYPES['.html']!, body: await readFile(`${DEMO_DIR}index.html`) }]]);
  for (const file of result.outputFiles) files.set(file.path, { type: TYPES[file.path.slice(file.path.lastIndexOf('.'))]!, body: file.contents });
  return files;
}

export function createDemoHandler(deps: { logger: Logger }) {
  let files: Promise<Files> | undefined;

  async function serve(pathname: string, req: IncomingMessage, res: ServerResponse) {
    try {
      const file = (await (files ??= build())).get(pathname === '/demo' ? '/demo/' : pathname);
      if (!file) return res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.byteLength, 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : file.body);
    } catch (err) {
      // Not cached: the next request tries the build again.
      files = undefined;
      deps.logger.error({ err }, 'demo build failed');
      res.writeHead(500, { 'content-type': 'text/plain' }).end('Demo build failed');
    }
  }

  /** Answers and returns true for GET/HEAD under /demo. */
  return (pathname: string, req: IncomingMessage, res: ServerResponse): boolean => {
    if (pathname !== '/demo' && !pathname.startsWith('/demo/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    void serve(pathname, req, res);
    return true;
  };
}
