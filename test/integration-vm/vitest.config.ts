/** The suite that needs modern ZFS: run against the OpenZFS 2.3.2 lab VM (`bash test/lab/vm/vm.sh up`). */
import * as path from 'node:path';
// A type-only import: this file is type-checked as CommonJS (tsconfig includes test/**), vitest/config is ESM.
import type { ViteUserConfig } from 'vitest/config' with { 'resolution-mode': 'import' };

const config: ViteUserConfig = {
  test: {
    root: path.resolve(__dirname, '../..'),
    include: ['test/integration-vm/**/*.test.ts'],
    // Every zfs command costs a fraction of a second to seconds under emulation.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One VM, shared: the files run one after another.
    fileParallelism: false,
  },
};

export default config;
