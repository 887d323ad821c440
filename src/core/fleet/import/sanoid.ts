/**
 * sanoid.conf to a retention policy and freshness thresholds per dataset, merged the way sanoid
 * itself does it (jimsalterjrs/sanoid, `sub init` in `sanoid`, and `sub monitor_snapshots` /
 * `sub convertTimePeriod` for the thresholds):
 *
 * 1. every setting of sanoid.defaults.conf's `[template_default]`, except those matching
 *    /template|recursive|children_only/;
 * 2. the user's own `[template_default]`, if any (keys matching /template|recursive/ ignored);
 * 3. each template of `use_template`, in the order written (keys matching /template|recursive/ ignored);
 * 4. the section's own settings (except /template|recursive|skip_children/);
 * 5. toggles (autosnap, autoprune, monitor, ...) normalised: 1/true/yes/on -> 1, 0/false/no/off -> 0.
 *
 * `recursive` is read from the section itself only. A key sanoid does not know makes sanoid refuse
 * to start; here it is a warning and the key is skipped. Child datasets of a recursive section are
 * not listed (this is pure: no `zfs list`): the policy says `recursive` and applies to the tree.
 */
import { validateName } from '../../zfs/names.js';
import { SNAPSHOT_PERIODS, type ImportedPolicy, type ImportResult, type ImportWarning, type ImportWarningKind, type SnapshotPeriod } from './types.js';

/**
 * sanoid.defaults.conf (jimsalterjrs/sanoid at 8e1d11e, `[template_default]`, version 2): its keys
 * are also the list of settings sanoid accepts.
 */
export const SANOID_DEFAULTS: Readonly<Record<string, string>> = {
  path: '',
  recursive: '',
  use_template: '',
  process_children_only: '',
  skip_children: '',
  pre_snapshot_script: '',
  post_snapshot_script: '',
  pre_pruning_script: '',
  pruning_script: '',
  script_timeout: '5',
  no_inconsistent_snapshot: '',
  force_post_snapshot_script: '',
  frequent_period: '15',
  autoprune: 'yes',
  frequently: '0',
  hourly: '48',
  daily: '90',
  weekly: '0',
  monthly: '6',
  yearly: '0',
  prune_defer: '0',
  autosnap: '1',
  hourly_min: '0',
  daily_hour: '23',
  daily_min: '59',
  weekly_wday: '1',
  weekly_hour: '23',
  weekly_min: '30',
  monthly_mday: '1',
  monthly_hour: '0',
  monthly_min: '0',
  yearly_mon: '1',
  yearly_mday: '1',
  yearly_hour: '0',
  yearly_min: '0',
  monitor: 'yes',
  monitor_dont_warn: 'no',
  monitor_dont_crit: 'no',
  frequently_warn: '0',
  frequently_crit: '0',
  hourly_warn: '90m',
  hourly_crit: '360m',
  daily_warn: '28h',
  daily_crit: '32h',
  weekly_warn: '0',
  weekly_crit: '0',
  monthly_warn: '32d',
  monthly_crit: '40d',
  yearly_warn: '0',
  yearly_crit: '0',
  capacity_warn: '80',
  capacity_crit: '95',
};

const TOGGLES = [
  'autosnap',
  'autoprune',
  'monitor_dont_warn',
  'monitor_dont_crit',
  'monitor',
  'recursive',
  'process_children_only',
  'skip_children',
  'no_inconsistent_snapshot',
  'force_post_snapshot_script',
];
const IS_TRUE = ['1', 'true', 'True', 'TRUE', 'yes', 'Yes', 'YES', 'on', 'On', 'ON'];
const IS_FALSE = ['0', 'false', 'False', 'FALSE', 'no', 'No', 'NO', 'off', 'Off', 'OFF'];

/** The unit of a threshold written without one: one period smaller than the snapshot type (monitor_snapshots). */
const SMALLER_PERIOD_SECONDS: Record<SnapshotPeriod, number> = {
  frequently: 1,
  hourly: 60,
  daily: 60 * 60,
  weekly: 60 * 60 * 24,
  monthly: 60 * 60 * 24 * 7,
  yearly: 60 * 60 * 24 * 31,
};

/**
 * sanoid's convertTimePeriod: `90m`, `28h`, `2d`, `4w`, `1y`, `30s` (case-insensitive), or a bare
 * number in the fallback unit; anything else is 1 second (so the monitor complains). `y` is
 * 60*60*24*31*365 seconds in sanoid, and is kept so: these are the thresholds sanoid applies.
 */
export function convertTimePeriod(value: string, fallbackSeconds: number): number | undefined {
  const m = /^(\d+)([yYwWdDhHmMsS]?)$/.exec(value);
  if (!m) return undefined;
  const unit: Record<string, number> = { y: 60 * 60 * 24 * 31 * 365, w: 60 * 60 * 24 * 7, d: 60 * 60 * 24, h: 60 * 60, m: 60, s: 1 };
  return Number(m[1]) * (m[2] ? unit[m[2].toLowerCase()]! : fallbackSeconds);
}

interface Setting {
  value: string;
  line: number;
}
interface Section {
  name: string;
  line: number;
  keys: Map<string, Setting>;
}

/** Config::IniFiles as sanoid uses it: `[section]`, `key = value`, `#`/`;` comment lines; the first of duplicate keys wins. */
function parseIni(text: string, warn: (kind: ImportWarningKind, line: number, message: string) => void): Section[] {
  const sections = new Map<string, Section>();
  let cur: Section | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const t = raw.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) return;
    const sec = /^\[\s*(.*?)\s*\]$/.exec(t);
    if (sec) {
      const name = sec[1]!;
      if (name === '') return warn('unparsable', line, 'an empty section name []');
      cur = sections.get(name);
      if (!cur) sections.set(name, (cur = { name, line, keys: new Map() }));
      return;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(t);
    if (!kv) return warn('unparsable', line, `not a [section] nor a key = value line: ${JSON.stringify(t.slice(0, 80))}`);
    if (!cur) return warn('unparsable', line, `${kv[1]} = ... before any [section]: ignored`);
    const key = kv[1]!;
    const prev = cur.keys.get(key);
    if (prev) return warn('ignored-key', line, `duplicate key ${key} in [${cur.name}]: sanoid uses the first one (line ${prev.line})`);
    cur.keys.set(key, { value: kv[2]!, line });
  });
  return [...sections.values()];
}

export interface SanoidImportOptions {
  file: string;
  /** The fleet host this sanoid.conf is on. */
  host: string;
}

const truthy = (v: string | undefined) => v !== undefined && v !== '' && v !== '0';

export function importSanoidConf(text: string, o: SanoidImportOptions): ImportResult {
  const warnings: ImportWarning[] = [];
  const warn = (kind: ImportWarningKind, line: number, message: string) => warnings.push({ kind, message, file: o.file, line });
  const sections = parseIni(text, warn);
  for (const s of sections) {
    for (const [key, v] of s.keys) {
      if (!(key in SANOID_DEFAULTS)) {
        warn('unknown-key', v.line, `[${s.name}] sets ${key}, which sanoid does not know (sanoid refuses to start on it): ignored`);
        s.keys.delete(key);
      }
    }
  }
  const templates = new Map(sections.filter((s) => s.name.startsWith('template_')).map((s) => [s.name.slice('template_'.length), s]));
  const policies: ImportedPolicy[] = [];

  for (const s of sections) {
    if (s.name.startsWith('template_')) continue;
    const config = new Map<string, string>();
    const applied: string[] = [];
    for (const [k, v] of Object.entries(SANOID_DEFAULTS)) if (!/template|recursive|children_only/.test(k)) config.set(k, v);
    const applyTemplate = (name: string, t: Section, from: number) => {
      applied.push(name);
      for (const [k, v] of t.keys) {
        if (/template|recursive/.test(k)) {
          // sanoid warns each time a section uses the template; once per use here, on the using line.
          warn('ignored-key', from, `[${s.name}]: sanoid ignores ${k} in [template_${name}] (line ${v.line})`);
          continue;
        }
        config.set(k, v.value);
      }
    };
    const userDefault = templates.get('default');
    if (userDefault) applyTemplate('default', userDefault, s.line);
    const use = s.keys.get('use_template');
    if (use) {
      for (const raw of use.value.split(/ *, */)) {
        const name = raw.trim();
        if (name === '') continue;
        const t = templates.get(name);
        if (!t) warn('unknown-template', use.line, `[${s.name}] uses template ${name}, but there is no [template_${name}]: sanoid applies nothing for it`);
        else applyTemplate(name, t, use.line);
      }
    }
    for (const [k, v] of s.keys) if (!/template|recursive|skip_children/.test(k)) config.set(k, v.value);
    for (const t of TOGGLES) {
      const v = config.get(t);
      if (v === undefined) continue;
      if (IS_TRUE.includes(v)) config.set(t, '1');
      else if (IS_FALSE.includes(v)) config.set(t, '0');
    }

    const path = s.keys.get('path')?.value || s.name;
    try {
      validateName(path, 'any');
      if (path.includes('@') || path.includes('#')) throw new Error('a snapshot or bookmark, not a dataset');
    } catch (e) {
      warn('unparsable', s.line, `[${s.name}] is not a dataset: ${(e as Error).message}`);
      continue;
    }
    const rec = s.keys.get('recursive')?.value;
    const recursive: ImportedPolicy['recursive'] = rec !== undefined && /zfs/i.test(rec) ? 'zfs' : rec !== undefined && IS_TRUE.includes(rec) ? 'yes' : false;
    const processChildrenOnly = truthy(config.get('process_children_only'));
    const monitor = truthy(config.get('monitor'));

    const count = (period: SnapshotPeriod): number => {
      const v = config.get(period)!;
      if (/^\d+$/.test(v)) return Number(v);
      warn(
        'unparsable',
        s.keys.get(period)?.line ?? s.line,
        `[${s.name}] ${period} = ${JSON.stringify(v)} is not a number of snapshots: read as ${parseInt(v, 10) || 0}, as sanoid would`,
      );
      return parseInt(v, 10) || 0;
    };
    const retention = Object.fromEntries(SNAPSHOT_PERIODS.map((p) => [p, count(p)])) as Record<SnapshotPeriod, number>;
    const threshold = (period: SnapshotPeriod, level: 'warn' | 'crit'): number => {
      const key = `${period}_${level}`;
      const v = config.get(key)!;
      const secs = convertTimePeriod(v, SMALLER_PERIOD_SECONDS[period]);
      if (secs !== undefined) return secs;
      warn(
        'unparsable',
        s.keys.get(key)?.line ?? s.line,
        `[${s.name}] ${key} = ${JSON.stringify(v)} is not a time (90m, 28h, 2d, ...): sanoid reads it as 1 second`,
      );
      return 1;
    };
    // sanoid --monitor-snapshots skips a section with monitor off or process_children_only, and a period kept 0 times.
    const checked = (p: SnapshotPeriod) => monitor && !processChildrenOnly && retention[p] > 0;
    const freshness = Object.fromEntries(
      SNAPSHOT_PERIODS.map((p) => {
        const warnS = threshold(p, 'warn');
        const critS = threshold(p, 'crit');
        return [p, checked(p) ? { warnSeconds: warnS, critSeconds: critS } : { warnSeconds: 0, critSeconds: 0 }];
      }),
    ) as ImportedPolicy['freshness'];

    policies.push({
      dataset: `${o.host}:${path}`,
      templates: applied,
      recursive,
      processChildrenOnly,
      autosnap: truthy(config.get('autosnap')),
      autoprune: truthy(config.get('autoprune')),
      retention,
      monitor,
      freshness,
      file: o.file,
      line: s.line,
    });
  }
  return { pairs: [], groups: [], policies, warnings: warnings.sort((a, b) => a.line - b.line) };
}
