import { type IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * Finds who sent a request, as budgets (rate limits, connection caps) count clients: the
 * socket's peer or the client a trusted load balancer names, as an IPv4 address or an IPv6
 * /64 network.
 */
export type ClientAddressResolver = (request: IncomingMessage) => string;

/** One spelling per address: IPv4-mapped IPv6 as IPv4, IPv6 in its canonical short form. */
function normalise(address: string): string {
  const trimmed = address.trim().toLowerCase();
  if (isIP(trimmed) !== 6) {
    return trimmed;
  }
  // The WHATWG URL parser writes IPv6 canonically (`::ffff:c000:209` becomes `::ffff:c000:209`,
  // `2001:DB8:0::1` becomes `2001:db8::1`).
  const canonical = new URL(`http://[${trimmed}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped) {
    const high = parseInt(mapped[1], 16);
    const low = parseInt(mapped[2], 16);
    return [high >> 8, high & 255, low >> 8, low & 255].join('.');
  }
  return canonical;
}

/**
 * The budget of an address: itself for IPv4, its /64 network for IPv6, since one subscriber
 * is handed a whole /64 and could otherwise change address at every request.
 */
function budgetAddress(address: string): string {
  if (isIP(address) !== 6) {
    return address;
  }
  const [head, tail = ''] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = [
    ...headGroups,
    ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'),
    ...tailGroups,
  ];
  return normalise(`${groups.slice(0, 4).join(':')}::`) + '/64';
}

function trustedList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) {
      list.addAddress(address, family);
    } else {
      list.addSubnet(address, Number(prefix), family);
    }
  }
  return list;
}

function isListed(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Builds the resolver for `TRUSTED_PROXIES` (addresses and CIDR blocks, validated by the
 * config). A request whose socket is not a trusted proxy is its own client, whatever
 * `X-Forwarded-For` says (anyone can send that header). From a trusted proxy, the client is
 * the right-most `X-Forwarded-For` entry that is not itself a trusted proxy: entries further
 * left were written by the client and cannot be believed.
 */
export function createClientAddressResolver(trustedProxies: readonly string[]): ClientAddressResolver {
  const trusted = trustedList(trustedProxies);
  return (request) => {
    const socketAddress = normalise(request.socket.remoteAddress ?? 'unknown');
    if (trustedProxies.length === 0 || !isListed(trusted, socketAddress)) {
      return budgetAddress(socketAddress);
    }
    const header = request.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map(normalise)
      .filter((hop) => hop !== '');
    for (let index = hops.length - 1; index >= 0; index -= 1) {
      const hop = hops[index];
      if (isIP(hop) === 0) {
        // Garbage in the chain: what lies left of it is unknowable; the last trusted hop answers.
        break;
      }
      if (!isListed(trusted, hop)) {
        return budgetAddress(hop);
      }
    }
    return budgetAddress(socketAddress);
  };
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether the request comes from this machine, for this machine: the socket's peer is
 * loopback, no proxy relayed it, and it names a loopback host (a page of another site whose
 * name was re-pointed at 127.0.0.1 — DNS rebinding — sends its own name).
 */
export function isLoopbackRequest(request: IncomingMessage): boolean {
  const address = normalise(request.socket.remoteAddress ?? '');
  const relayed = request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined;
  let host: string;
  try {
    host = new URL(`http://${request.headers.host ?? ''}/`).hostname;
  } catch {
    return false;
  }
  return !relayed && LOOPBACK_HOSTS.has(host) && (address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address));
}
