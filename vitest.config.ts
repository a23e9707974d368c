import { defineConfig } from 'vitest/config';

// Unit tests sit next to the code; integration, browser e2e and chaos tests live in test/.
export default defineConfig({
  test: {
    // Runs once per run (the root project's), whichever projects are selected.
    globalSetup: ['test/setup/shared-data.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['model/**/*.test.ts', 'server/**/*.test.ts', 'web/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
      {
        // The trust boundary: one test per attack (issue 12), property tests of every JSON route, two instances.
        test: {
          name: 'security',
          include: ['test/security/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        // Fault injection: killed servers, dropped requests and responses.
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 300_000,
        },
      },
      {
        // Headless Chromium against the built app (dist/web): one file at a time, the machine has 2 cores.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
