import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Fleet } from '../../../src/core/fleet/fleet.js';
import { silentLogger } from '../../../src/core/log.js';
import { LocalRunner } from '../../../src/transport/local.js';
import { RunnerError } from '../../../src/core/runner.js';

describe('which hosts connect', () => {
  it('with onlyListed (the extension), a host that is not configured does not get a connection', () => {
    const made: string[] = [];
    const fleet = new Fleet(
      (spec) => (made.push(spec), new LocalRunner()),
      { zfsPath: 'zfs', zpoolPath: 'zpool', commandTimeoutMs: 1000 },
      silentLogger,
      undefined,
      true,
    );
    fleet.setHosts(['local']);
    expect(() => fleet.host('attacker.example')).toThrow(RunnerError);
    expect(() => fleet.host('attacker.example')).toThrow(/not one of the configured hosts/);
    expect(fleet.host('local').name).toBe('local');
    expect(made).toEqual(['local']);
    fleet.setHosts([]);
    expect(() => fleet.host('local')).toThrow(/not one of the configured hosts/);
  });

  it('an untrusted workspace cannot change what decides where and how long commands run, or turn passphrase storage on', () => {
    const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8'));
    const restricted: string[] = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
    for (const k of [
      'hosts',
      'sshConfigPath',
      'knownHostsPath',
      'zfsPath',
      'zpoolPath',
      'pairs',
      'commandTimeoutSeconds',
      'maxChannelsPerHost',
      'rememberPassphrases',
    ])
      expect(restricted).toContain(`zfsFleet.${k}`);
  });
});
