import { describe, expect, it } from 'vitest';
import { EndpointError, parseEndpoint } from '../../../src/core/fleet/endpoint.js';
import { parsePair } from '../../../src/core/fleet/pairs.js';

describe('HOST[:DATASET]', () => {
  it('splits hosts, ports, users and datasets', () => {
    expect(parseEndpoint('off1')).toEqual({ host: 'off1' });
    expect(parseEndpoint('off1:zfs-hdd/off/products').name?.full).toBe('zfs-hdd/off/products');
    expect(parseEndpoint('root@127.0.0.1:2231')).toEqual({ host: 'root@127.0.0.1:2231' });
    const e = parseEndpoint('root@127.0.0.1:2231:zfs-hdd/off/my data');
    expect(e.host).toBe('root@127.0.0.1:2231');
    expect(e.name?.full).toBe('zfs-hdd/off/my data');
    expect(parseEndpoint('ovh3:rpool/a:b').name?.full).toBe('rpool/a:b');
    expect(parseEndpoint('[::1]:22:tank/x')).toMatchObject({ host: '[::1]:22', name: { full: 'tank/x' } });
    expect(parseEndpoint('local:tank@snap').name?.kind).toBe('snapshot');
  });

  it('refuses bad input with the reason', () => {
    expect(() => parseEndpoint('')).toThrow(/host is empty/);
    expect(() => parseEndpoint('off 1:tank')).toThrow(/white space/);
    expect(() => parseEndpoint('off1:')).toThrow(/nothing after ':'/);
    expect(() => parseEndpoint('off1:tank/a$b')).toThrow(/invalid character '\$'/);
    expect(() => parseEndpoint('off1:99999')).toThrow(/out of range/);
    expect(() => parseEndpoint('[::1:tank')).toThrow(EndpointError);
  });

  it('pairs need datasets on both sides and a known route', () => {
    const p = parsePair({ source: 'off1:zfs-hdd/off/products', target: 'ovh3:rpool/off/products', route: 'pull' });
    expect(p).toMatchObject({ id: 'off1:zfs-hdd/off/products->ovh3:rpool/off/products', route: 'pull', options: { intermediates: true } });
    expect(() => parsePair({ source: 'off1', target: 'ovh3:rpool/x' })).toThrow(/needs a dataset/);
    expect(() => parsePair({ source: 'off1:a/b@s', target: 'ovh3:rpool/x' })).toThrow(/not a snapshot/);
    expect(() => parsePair({ source: 'off1:a/b', target: 'ovh3:rpool/x', route: 'teleport' as never })).toThrow(/route/);
    expect(() => parsePair({ source: 'off1:a/b', target: 'off1:a/b' })).toThrow(/same dataset/);
  });
});
