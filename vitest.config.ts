import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build for the libraries; make the project's own imports use the same one,
    // or the schema's types come from "another module or realm".
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/support/skipped-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Each file starts its own servers; two cores run two files at a time well.
    maxWorkers: 2,
  },
});
