// The committed test/support/generated/ must be exactly what `npm run codegen` makes of schema.graphql and the
// operations now: the tests type-check against it without a generation step, so a stale copy would go unnoticed.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { expect, it } from 'vitest';
import config, { OUTPUT_DIR } from '../codegen.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

it('test/support/generated/ is up to date with schema.graphql and the operations (else: npm run codegen)', async () => {
  const out = await mkdtemp(path.join(tmpdir(), 'codegen-'));
  try {
    // The same configuration, writing to a temporary directory instead of the committed one.
    await generate({ ...config, cwd: root, generates: { [`${out}/`]: config.generates[OUTPUT_DIR]! } }, true);
    const committed = path.join(root, OUTPUT_DIR);
    const files = (await readdir(out)).sort();
    expect((await readdir(committed)).sort()).toEqual(files);
    for (const file of files) {
      const [fresh, current] = await Promise.all([readFile(path.join(out, file), 'utf8'), readFile(path.join(committed, file), 'utf8')]);
      expect(current, `${OUTPUT_DIR}${file} is stale: run npm run codegen`).toBe(fresh);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}, 60_000);
