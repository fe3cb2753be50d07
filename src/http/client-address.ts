import type { Context, MiddlewareHandler } from 'hono';

/*
 * Where a request comes from. The address the connection came from is the only one a client cannot choose;
 * a forwarded address (X-Forwarded-For, Forwarded) is believed only when the connection comes from a proxy
 * the operator named in TRUSTED_PROXIES, and then only the part of it that proxy (and other trusted ones
 * before it) appended. Limits per address and the audit log both read the address from here.
 */

/** An IPv4 or IPv6 address as a number, with its family; null when the text is not an address. */
function parseAddress(text: string): { v6: boolean; value: bigint } | null {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split('.').map(Number);
    if (parts.some((p) => p > 255)) return null;
    return { v6: false, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return null;
  // An IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseAddress(tail);
    if (!v4 || v4.v6) return null;
    s = `${s.slice(0, lastColon + 1)}${(v4.value >> 16n).toString(16)}:${(v4.value & 0xffffn).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  // An IPv4 address written the IPv6 way (::ffff:a.b.c.d, as Node reports IPv4 clients on a dual-stack socket) is that IPv4 address.
  if (value >> 32n === 0xffffn) return { v6: false, value: value & 0xffffffffn };
  return { v6: true, value };
}

/** An address written the one way it is kept and compared (IPv4 dotted; IPv6 in full lower-case groups); null if not an address. */
export function normalizeAddress(text: string | null | undefined): string | null {
  if (!text) return null;
  const parsed = parseAddress(text);
  if (!parsed) return null;
  if (!parsed.v6) return [24n, 16n, 8n, 0n].map((shift) => String((parsed.value >> shift) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((parsed.value >> shift) & 0xffffn).toString(16));
  return groups.join(':');
}

/** A set of addresses and ranges (`10.0.0.0/8`, `192.0.2.7`, `fd00::/8`, `loopback`); `matches` tells whether an address is in it. */
export interface AddressSet {
  matches(address: string | null): boolean;
  readonly size: number;
}

/** Parses a list of addresses and CIDR ranges; throws with the entry that is not one. `loopback` stands for 127.0.0.0/8 and ::1. */
export function addressSet(entries: readonly string[]): AddressSet {
  const ranges: { v6: boolean; value: bigint; bits: number }[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (!entry) continue;
    if (entry.toLowerCase() === 'loopback') {
      ranges.push({ v6: false, value: 127n << 24n, bits: 8 }, { v6: true, value: 1n, bits: 128 });
      continue;
    }
    const [address, prefix, extra] = entry.split('/');
    const parsed = parseAddress(address ?? '');
    const max = parsed?.v6 ? 128 : 32;
    const bits = prefix === undefined ? max : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (!parsed || extra !== undefined || !(bits >= 0 && bits <= max)) throw new Error(`not an address or CIDR range: ${JSON.stringify(entry)}`);
    ranges.push({ v6: parsed.v6, value: parsed.value, bits });
  }
  return {
    size: ranges.length,
    matches(address) {
      const parsed = address ? parseAddress(address) : null;
      if (!parsed) return false;
      return ranges.some((r) => {
        if (r.v6 !== parsed.v6) return false;
        const width = BigInt(r.v6 ? 128 : 32);
        const shift = width - BigInt(r.bits);
        return parsed.value >> shift === r.value >> shift;
      });
    },
  };
}

/** The addresses a `Forwarded` header names in its `for=` parameters, in order (RFC 7239); obfuscated names become null. */
function forwardedFor(header: string): (string | null)[] {
  const out: (string | null)[] = [];
  for (const element of header.split(',')) {
    const pair = element.split(';').map((p) => p.trim()).find((p) => p.toLowerCase().startsWith('for='));
    if (!pair) continue;
    let value = pair.slice(4).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    // for="[2001:db8::1]:4711" or for=192.0.2.60:4711: the port is not part of the address.
    const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
    if (bracket) value = bracket[1]!;
    else if (/^[\d.]+:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'));
    out.push(normalizeAddress(value));
  }
  return out;
}

/**
 * The client's address: the connection's peer, unless the peer is a trusted proxy; then the forwarded chain
 * is read from its end (what the nearest proxy appended) back past every trusted proxy, and the first
 * address that is not one is the client. A chain that runs out, or holds something that is not an address,
 * gives the last trusted hop: whatever a client wrote at the start of the header is never believed.
 */
export function resolveClientAddress(peer: string | null, headers: { forwarded?: string | undefined; xForwardedFor?: string | undefined }, trusted: AddressSet): string | null {
  const direct = normalizeAddress(peer);
  if (!direct || !trusted.matches(direct)) return direct;
  const chain = headers.forwarded ? forwardedFor(headers.forwarded) : headers.xForwardedFor ? headers.xForwardedFor.split(',').map((a) => normalizeAddress(a)) : [];
  let client = direct;
  for (let i = chain.length - 1; i >= 0; i--) {
    const hop = chain[i];
    if (!hop) return client;
    client = hop;
    if (!trusted.matches(hop)) return hop;
  }
  return client;
}

/** How the entry tells the address of the connection: Node's socket, or what Cloudflare's edge says on Workers. */
export type PeerAddress = (c: Context) => string | null;

/** Node (@hono/node-server): the socket the request came in on. Without those bindings (a test's app.request), unknown. */
export const socketPeerAddress: PeerAddress = (c) => {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
};

const ADDRESS_KEY = 'clientAddress';

/** Works out each request's client address once, before any route, for `clientAddress(c)`. */
export function clientAddressMiddleware(opts: { peer: PeerAddress; trusted: AddressSet }): MiddlewareHandler {
  return async (c, next) => {
    const address = resolveClientAddress(opts.peer(c), { forwarded: c.req.header('forwarded'), xForwardedFor: c.req.header('x-forwarded-for') }, opts.trusted);
    c.set(ADDRESS_KEY as never, address as never);
    await next();
  };
}

/** The client's address as the app's first middleware worked it out; null when it is not known. */
export function clientAddress(c: Context): string | null {
  return (c.get(ADDRESS_KEY as never) as string | null | undefined) ?? null;
}
