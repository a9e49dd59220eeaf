import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

/** What the limit reads of a Fastify request: `ips` exists only with TRUST_PROXY set. */
export interface ForwardedAddresses {
  ip: string | undefined;
  /** From the socket's peer outwards to `ip`, as far as TRUST_PROXY believes X-Forwarded-For. */
  ips?: string[];
}

/**
 * IPv6 clients are counted by network: a line or a host is given at least a /64 (RFC 6177) and may
 * take a new address of it for every request, so counting single addresses would give it 2^64 budgets.
 */
const IPV6_CLIENT_PREFIX = 64;

/**
 * The client the public rate limit counts by: the furthest address TRUST_PROXY believes that is an IP
 * address. An X-Forwarded-For entry that is not one (any text a client put there, 200 characters of it)
 * is passed over as if the hop that forwarded it had sent nothing, so it is never a key and never
 * stored. IPv6 zone ids (`%eth0`, any length) say nothing about a remote client and are dropped. An
 * IPv4 address is the key in its dotted form (also when it came IPv4-mapped, `::ffff:a.b.c.d`); an IPv6
 * address counts as its /64 (`2001:db8:7:1::/64`), whatever its spelling.
 */
export function clientAddressOf(request: ForwardedAddresses): string {
  const chain = request.ips ?? [request.ip];
  for (let hop = chain.length - 1; hop >= 0; hop--) {
    const address = chain[hop]?.split('%')[0];
    if (address !== undefined && isIP(address) !== 0) return clientKeyOf(address);
  }
  // No peer address at all (the socket is already gone): one shared budget rather than none.
  return 'unknown';
}

function clientKeyOf(address: string): string {
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/${IPV6_CLIENT_PREFIX}`);
  return `${network.toString()}/${IPV6_CLIENT_PREFIX}`;
}
