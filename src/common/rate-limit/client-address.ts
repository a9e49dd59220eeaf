import { isIP } from 'node:net';

/** What the limit reads of a Fastify request: `ips` exists only with TRUST_PROXY set. */
export interface ForwardedAddresses {
  ip: string | undefined;
  /** From the socket's peer outwards to `ip`, as far as TRUST_PROXY believes X-Forwarded-For. */
  ips?: string[];
}

/**
 * The client address the public rate limit counts by: the furthest address TRUST_PROXY believes that is
 * an IP address. An X-Forwarded-For entry that is not one (any text a client put there, 200 characters
 * of it) is passed over as if the hop that forwarded it had sent nothing, so it is never a key and never
 * stored. IPv6 zone ids (`%eth0`, any length) say nothing about a remote client and are dropped.
 */
export function clientAddressOf(request: ForwardedAddresses): string {
  const chain = request.ips ?? [request.ip];
  for (let hop = chain.length - 1; hop >= 0; hop--) {
    const address = chain[hop]?.split('%')[0];
    if (address !== undefined && isIP(address) !== 0) return address.toLowerCase();
  }
  // No peer address at all (the socket is already gone): one shared budget rather than none.
  return 'unknown';
}
