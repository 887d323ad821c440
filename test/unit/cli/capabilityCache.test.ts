/** The CLI's capability cache: an entry from another probe format (an older release's) is probed again. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCapabilityCache } from '../../../src/cli/capabilityCache.js';
import { capabilities } from '../replication/fixtures.js';

describe('FileCapabilityCache', () => {
  it('keeps what it wrote; drops an entry written without its probe format', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zf-capcache-'));
    try {
      const file = path.join(dir, 'capabilities.json');
      const probe = { identity: 'zfs-fuse 0.7.0', capabilities: capabilities('off1') };
      fs.writeFileSync(file, JSON.stringify({ old: probe }));
      expect(new FileCapabilityCache(file).get('old')).toBeUndefined();
      new FileCapabilityCache(file).set('new', probe);
      expect(new FileCapabilityCache(file).get('new')).toMatchObject(probe);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
