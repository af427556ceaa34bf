import { type IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** Finds who sent a request: the socket's peer, or the client a trusted load balancer names. */
export type ClientAddressResolver = (request: IncomingMessage) => string;

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client. */
function normalise(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return (mapped ? mapped[1] : trimmed).toLowerCase();
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
      return socketAddress;
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
        return hop;
      }
    }
    return socketAddress;
  };
}

/** Whether the socket's peer is this machine (and no proxy relayed the request). */
export function isLoopbackRequest(request: IncomingMessage): boolean {
  const address = normalise(request.socket.remoteAddress ?? '');
  const relayed = request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined;
  return !relayed && (address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address));
}
