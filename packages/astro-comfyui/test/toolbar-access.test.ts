import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { decideToolbarAccess, type ToolbarAccessRules } from '../src/toolbar/toolbar-access.js';

// The browser tests (test/browser/toolbar-access.test.ts) drive the real cases end to end: another
// port's page, DNS rebinding, a browser on another machine. This table pins the decision for the edges
// that no browser test reaches: IPv6 hosts, Vite's allowedHosts rules, origins that are not web pages.

const local: ToolbarAccessRules = { allowNetwork: false, allowedHosts: [] };

function ask(headers: { host?: string; origin?: string }, peer = '127.0.0.1', rules = local) {
  const request = { headers, socket: { remoteAddress: peer } } as unknown as Pick<IncomingMessage, 'headers' | 'socket'>;
  return decideToolbarAccess(request, rules).level;
}

describe('decideToolbarAccess', () => {
  it.each([
    ['localhost:4321', 'http://localhost:4321', '127.0.0.1'],
    ['127.0.0.1:4321', 'http://127.0.0.1:4321', '::ffff:127.0.0.1'],
    ['[::1]:4321', 'http://[::1]:4321', '::1'],
    ['blog.localhost:4321', 'http://blog.localhost:4321', '127.0.0.1'],
    ['LOCALHOST:4321', 'http://localhost:4321', '127.0.0.1'],
    // One port has one server: a page of it over https is the dev server's own (Vite's server.https).
    ['localhost:4321', 'https://localhost:4321', '127.0.0.1'],
  ])('lets the dev server’s own page (Host %s) write from this machine', (host, origin, peer) => {
    expect(ask({ host, origin }, peer)).toBe('write');
  });

  it('lets a program on this machine, which sends no Origin, write: it could edit the posts anyway', () => {
    expect(ask({ host: 'localhost:4321' })).toBe('write');
  });

  it.each([
    ['another port', 'http://localhost:5173'],
    ['a sandboxed frame or a file (Origin: null)', 'null'],
    ['a browser extension', 'chrome-extension://abcdef'],
    ['text that is no URL', 'not a url'],
  ])('refuses a page of %s', (_, origin) => {
    expect(ask({ host: 'localhost:4321', origin })).toBe('refused');
  });

  it('refuses a Host name that only DNS rebinding would send, and a missing or unreadable Host', () => {
    expect(ask({ host: 'attacker.example:4321', origin: 'http://attacker.example:4321' })).toBe('refused');
    expect(ask({ host: 'attacker.example:4321' })).toBe('refused');
    expect(ask({})).toBe('refused');
    expect(ask({ host: 'bad host:4321' })).toBe('refused');
  });

  it("follows Vite's allowedHosts: a name, a leading-dot domain with its subdomains, or true for any", () => {
    const rules = (allowedHosts: readonly string[] | true): ToolbarAccessRules => ({ allowNetwork: false, allowedHosts });
    expect(ask({ host: 'blog.test:4321', origin: 'http://blog.test:4321' }, '127.0.0.1', rules(['blog.test']))).toBe('write');
    expect(ask({ host: 'www.blog.test:4321' }, '127.0.0.1', rules(['blog.test']))).toBe('refused');
    expect(ask({ host: 'dev.example.com' }, '127.0.0.1', rules(['.example.com']))).toBe('write');
    expect(ask({ host: 'example.com' }, '127.0.0.1', rules(['.example.com']))).toBe('write');
    expect(ask({ host: 'notexample.com' }, '127.0.0.1', rules(['.example.com']))).toBe('refused');
    expect(ask({ host: 'anything.example' }, '127.0.0.1', rules(true))).toBe('write');
  });

  it('lets a browser on another machine read only, unless allowNetwork; an IP address is a host name it may use', () => {
    const lan = { host: '192.168.1.20:4321', origin: 'http://192.168.1.20:4321' };
    expect(ask(lan, '192.168.1.31')).toBe('read');
    expect(ask(lan, '::ffff:192.168.1.31')).toBe('read');
    expect(ask(lan, '192.168.1.31', { allowNetwork: true, allowedHosts: [] })).toBe('write');
    // Another machine never writes through a Host or Origin it claims: the peer address decides.
    expect(ask({ host: 'localhost:4321', origin: 'http://localhost:4321' }, '192.168.1.31')).toBe('read');
  });
});
