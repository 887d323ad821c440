// The pure parts of the replication UI (src/ui/replication/{pairSpecs,pairView,terminalText,reports}.ts
// import no vscode): `npx vitest run --config test/e2e/replication/vitest.config.mjs` from the repository root.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/replication/*.test.ts'],
    testTimeout: 20_000,
  },
});
