/**
 * Resume tokens read without zfs, checked against what `zfs send -nvP -t TOKEN` prints for the same
 * real tokens (test/fixtures/openzfs-2.3, recorded on the VM by record-resume-fixtures.sh and
 * record-fixtures.sh), and judged stale or not against the source's recorded listings.
 */
import { describe, expect, it } from 'vitest';
import { checkResumeToken, decodeResumeToken } from '../../../src/core/replication/resumeToken.js';
import { openzfsListing, openzfsOutput } from './fixtures.js';

/** The `name = value` lines zfs prints under "resume token contents:" (stdout, or before its refusal). */
function zfsPrinted(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const i = text.indexOf('resume token contents:');
  expect(i).toBeGreaterThanOrEqual(0);
  for (const line of text.slice(i).split('\n').slice(2)) {
    const m = /^\t(\w+) = (.*)$/.exec(line);
    if (!m) break;
    out[m[1]!] = m[2]!;
  }
  return out;
}

const hex = (decimal: string | number | undefined) => `0x${BigInt(decimal!).toString(16)}`;
/** The token a `zfs list ... receive_resume_token` listing shows for a dataset. */
const tokenIn = (listing: string, dataset: string) => openzfsListing(listing, 'zfsvm').datasets.get(dataset)!.object.receiveResumeToken!;

const CASES = [
  { what: 'an incremental stream', token: () => openzfsOutput('root_resume_token_i').trim(), printed: 'root_resume_send_nvP_t_i' },
  { what: 'a full stream (first receive)', token: () => tokenIn('root_resume_list_backup2', 'backup/it5-rec2'), printed: 'root_resume_send_nvP_t_full' },
  { what: 'a full stream of record-fixtures.sh', token: () => openzfsOutput('root_get_resume_token').trim().split('\t')[2]!, printed: 'root_send_nvP_resume' },
];

describe('decodeResumeToken on real tokens', () => {
  for (const c of CASES) {
    it(`${c.what}: the same contents zfs prints`, () => {
      const d = decodeResumeToken(c.token());
      if (!d.ok) throw new Error(d.reason);
      const z = zfsPrinted(openzfsOutput(c.printed));
      expect(d.info.toname).toBe(z.toname);
      expect(hex(d.info.toguid)).toBe(z.toguid);
      expect(d.info.fromguid === undefined ? undefined : hex(d.info.fromguid)).toBe(z.fromguid);
      expect(hex(d.info.bytes)).toBe(z.bytes);
    });
  }

  it('the listing and `zfs get` show the same token', () => {
    expect(tokenIn('root_resume_list_backup', 'backup/it5-rec')).toBe(openzfsOutput('root_resume_token_i').trim());
  });

  it('damaged or foreign tokens are unreadable, with the reason; nothing throws', () => {
    const t = openzfsOutput('root_resume_token_i').trim();
    const flip = t.slice(0, -3) + (t.at(-3) === '0' ? '1' : '0') + t.slice(-2);
    expect(decodeResumeToken(flip)).toEqual({ ok: false, reason: 'checksum mismatch (the token is damaged)' });
    expect(decodeResumeToken(t.slice(0, -2))).toMatchObject({ ok: false });
    expect(decodeResumeToken('2' + t.slice(1))).toEqual({ ok: false, reason: 'token version 2 (only version 1 is known)' });
    expect(decodeResumeToken('-')).toMatchObject({ ok: false, reason: 'not in the form VERSION-CHECKSUM-LENGTH-HEX' });
  });
});

describe('checkResumeToken against the source listing', () => {
  const token = openzfsOutput('root_resume_token_i').trim();

  it('resumable while the snapshot being sent and its incremental source exist', () => {
    const c = checkResumeToken(token, openzfsListing('root_resume_list_tank', 'zfsvm'), 'tank/it5-rec');
    expect(c.stale).toBeUndefined();
    expect(c.sending?.name).toBe('tank/it5-rec@s2');
    expect(c.from?.name).toBe('tank/it5-rec@s1');
  });

  it('stale once @s2 is destroyed on the source, as zfs send -t says', () => {
    const c = checkResumeToken(token, openzfsListing('root_resume_list_tank_stale', 'zfsvm'), 'tank/it5-rec');
    expect(c.stale).toBe('@s2 no longer exists on the source');
    // zfs printed the same snapshot in its refusal (root_resume_send_nvP_t_i_stale.stderr: "... no longer exists")
    expect(zfsPrinted(openzfsOutput('root_resume_send_nvP_t_i_stale')).toname).toBe('tank/it5-rec@s2');
  });

  it('stale when the snapshot was re-created with the same name (another guid), as zfs says', () => {
    const t2 = tokenIn('root_resume_list_backup2', 'backup/it5-rec2');
    const c = checkResumeToken(t2, openzfsListing('root_resume_list_tank2_recreated', 'zfsvm'), 'tank/it5-rec2');
    expect(c.stale).toMatch(/^@f1 on the source was re-created since the stream started \(guid \d+, the stream's is \d+\)$/);
  });

  it('stale when the incremental source is gone (neither snapshot nor bookmark)', () => {
    const l = openzfsListing('root_resume_list_tank', 'zfsvm');
    const e = l.datasets.get('tank/it5-rec')!;
    e.snapshots = e.snapshots.filter((s) => !s.name.endsWith('@s1'));
    expect(checkResumeToken(token, l, 'tank/it5-rec').stale).toMatch(/^the incremental source of the stream \(guid \d+\) no longer exists on the source/);
  });

  it('a stream of another dataset is not resumed into this pair', () => {
    const c = checkResumeToken(token, openzfsListing('root_resume_list_tank', 'zfsvm'), 'tank/off/products');
    expect(c.stale).toBe('the stream is of tank/it5-rec@s2, which is not a snapshot of the source zfsvm:tank/off/products');
  });

  it('an unreadable token is not called stale', () => {
    const c = checkResumeToken('1-0-0-00', openzfsListing('root_resume_list_tank', 'zfsvm'), 'tank/it5-rec');
    expect(c.stale).toBeUndefined();
    expect(c.unreadable).toBeDefined();
  });
});
