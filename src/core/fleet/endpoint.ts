/**
 * `HOST[:DATASET]` as the CLI and the pair settings write it. HOST is `local`, an ssh-config alias,
 * or `[user@]host[:port]` (`[user@][v6addr]:port` for IPv6). A pool name must begin with a letter,
 * so an all-digit part after the first ':' is a port; ':' inside the dataset name stays in the name.
 */
import { validateName, type ZfsName } from '../zfs/names.js';

export interface Endpoint {
  /** The host spec as the transport resolves it (alias, `user@host:port`, or `local`). */
  host: string;
  /** The dataset, snapshot or bookmark, validated with OpenZFS rules. */
  name?: ZfsName;
}

export class EndpointError extends Error {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid host or dataset ${JSON.stringify(input)}: ${reason}`);
    this.name = 'EndpointError';
  }
}

const HOST_PART = /^(?:[A-Za-z0-9._-]+@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._%+-]+)$/;

export function validateHostSpec(host: string): string {
  if (host === '') throw new EndpointError(host, 'the host is empty');
  if (/\s/.test(host)) throw new EndpointError(host, 'a host cannot contain white space');
  const m = /^(.*?)(?::(\d+))?$/.exec(host)!;
  if (!HOST_PART.test(m[1]!)) throw new EndpointError(host, 'expected an ssh-config alias, [user@]host[:port], or local');
  if (m[2] !== undefined) {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw new EndpointError(host, `port ${m[2]} is out of range (1-65535)`);
  }
  return host;
}

export function parseEndpoint(input: string): Endpoint {
  let rest = input;
  let host = '';
  if (rest.startsWith('[') || /^[^:[]*@\[/.test(rest)) {
    const close = rest.indexOf(']');
    if (close < 0) throw new EndpointError(input, "missing ']' after an IPv6 address");
    host = rest.slice(0, close + 1);
    rest = rest.slice(close + 1);
  } else {
    const colon = rest.indexOf(':');
    host = colon < 0 ? rest : rest.slice(0, colon);
    rest = colon < 0 ? '' : rest.slice(colon);
  }
  const port = /^:(\d+)(?=:|$)/.exec(rest);
  if (port) {
    host += port[0];
    rest = rest.slice(port[0].length);
  }
  validateHostSpec(host);
  if (rest === '') return { host };
  if (!rest.startsWith(':')) throw new EndpointError(input, `unexpected ${JSON.stringify(rest)} after the host`);
  const dataset = rest.slice(1);
  if (dataset === '') throw new EndpointError(input, "nothing after ':' (expected a dataset name)");
  try {
    return { host, name: validateName(dataset) };
  } catch (e) {
    throw new EndpointError(input, (e as Error).message);
  }
}

export function formatEndpoint(e: Endpoint): string {
  return e.name ? `${e.host}:${e.name.full}` : e.host;
}
