import { type IncomingMessage } from 'node:http';
import { createClientAddressResolver, isLoopbackRequest } from '../../src/security/client-address';

function request(remoteAddress: string, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress }, headers } as unknown as IncomingMessage;
}

describe('client address', () => {
  it('is the socket address when no proxy is trusted, whatever X-Forwarded-For says', () => {
    const resolve = createClientAddressResolver([]);
    expect(resolve(request('203.0.113.5', { 'x-forwarded-for': '1.2.3.4' }))).toBe('203.0.113.5');
    expect(resolve(request('::ffff:203.0.113.5'))).toBe('203.0.113.5');
  });

  it('ignores X-Forwarded-For from an untrusted socket when proxies are configured', () => {
    const resolve = createClientAddressResolver(['10.0.0.0/8']);
    expect(resolve(request('203.0.113.5', { 'x-forwarded-for': '1.2.3.4' }))).toBe('203.0.113.5');
  });

  it('takes the right-most untrusted hop from a trusted proxy', () => {
    const resolve = createClientAddressResolver(['10.0.0.0/8', '2001:db8::1']);
    expect(resolve(request('10.1.1.1', { 'x-forwarded-for': '198.51.100.9' }))).toBe('198.51.100.9');
    // The client wrote "6.6.6.6"; the proxy appended what it saw.
    expect(resolve(request('10.1.1.1', { 'x-forwarded-for': '6.6.6.6, 198.51.100.9' }))).toBe('198.51.100.9');
    // Two trusted proxies in a row.
    expect(resolve(request('::ffff:10.1.1.1', { 'x-forwarded-for': '198.51.100.9, 10.2.2.2' }))).toBe(
      '198.51.100.9',
    );
    expect(resolve(request('2001:db8::1', { 'x-forwarded-for': '2001:db8:0:5::77' }))).toBe(
      '2001:db8:0:5::/64',
    );
    // No header, or garbage: the proxy itself is all we know.
    expect(resolve(request('10.1.1.1'))).toBe('10.1.1.1');
    expect(resolve(request('10.1.1.1', { 'x-forwarded-for': 'nonsense' }))).toBe('10.1.1.1');
  });

  it('counts an IPv6 client by its /64 network, whatever the spelling', () => {
    const resolve = createClientAddressResolver([]);
    expect(resolve(request('2001:db8:1:2::1'))).toBe('2001:db8:1:2::/64');
    expect(resolve(request('2001:DB8:1:2:ffff::9'))).toBe('2001:db8:1:2::/64');
    expect(resolve(request('2001:0db8:0001:0002:0000:0000:0000:0001'))).toBe('2001:db8:1:2::/64');
    expect(resolve(request('::1'))).toBe('::/64');
    // IPv4-mapped addresses, in either spelling, are the IPv4 client.
    expect(resolve(request('::ffff:192.0.2.9'))).toBe('192.0.2.9');
    expect(resolve(request('::ffff:c000:209'))).toBe('192.0.2.9');
  });

  it('sees a loopback client only when nothing relayed the request and it names this machine', () => {
    const local = { host: 'localhost:4000' };
    expect(isLoopbackRequest(request('127.0.0.1', local))).toBe(true);
    expect(isLoopbackRequest(request('::1', { host: '[::1]:4000' }))).toBe(true);
    expect(isLoopbackRequest(request('::ffff:127.0.0.1', { host: '127.0.0.1:4000' }))).toBe(true);
    expect(isLoopbackRequest(request('10.0.0.1', local))).toBe(false);
    expect(isLoopbackRequest(request('127.0.0.1', { ...local, 'x-forwarded-for': '203.0.113.1' }))).toBe(
      false,
    );
    // DNS rebinding: another site's name pointed at 127.0.0.1.
    expect(isLoopbackRequest(request('127.0.0.1', { host: 'evil.example:4000' }))).toBe(false);
    expect(isLoopbackRequest(request('127.0.0.1'))).toBe(false);
  });
});
