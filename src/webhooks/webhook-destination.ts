import { Injectable } from '@nestjs/common';
import ipaddr from 'ipaddr.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface DestinationPolicy {
  /** Plain http allowed (WEBHOOK_ALLOW_HTTP). */
  allowHttp: boolean;
  /** Loopback, private, link-local and other non-public addresses allowed (WEBHOOK_ALLOW_PRIVATE_NETWORKS). */
  allowPrivateNetworks: boolean;
}

/** A resolved address, in the shape node's `lookup` hands to a socket. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** A destination that was checked: the connection must go to one of exactly these addresses. */
export interface CheckedDestination {
  url: URL;
  addresses: ResolvedAddress[];
}

/** Why a webhook URL is refused: its form, or where it leads. The message names the URL's host at most. */
export class DestinationRefusedError extends Error {
  constructor(
    readonly reason: 'InvalidUrl' | 'RefusedDestination',
    message: string,
  ) {
    super(message);
    this.name = 'DestinationRefusedError';
  }
}

/**
 * Resolves host names to every address they have. A seam, so specs can play a name that resolves
 * differently from one lookup to the next (DNS rebinding).
 */
export abstract class HostResolver {
  abstract resolve(hostname: string): Promise<ResolvedAddress[]>;
}

@Injectable()
export class SystemHostResolver extends HostResolver {
  async resolve(hostname: string): Promise<ResolvedAddress[]> {
    const found = await lookup(hostname, { all: true, verbatim: true });
    return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
  }
}

/**
 * The URL rules, before any lookup: absolute http(s) (http only when allowed), no credentials in it
 * (they would be stored and shown in clear), no fragment.
 */
export function parseDestination(text: string, policy: DestinationPolicy): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DestinationRefusedError('InvalidUrl', 'url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    throw new DestinationRefusedError(
      'InvalidUrl',
      policy.allowHttp ? 'url must be an http or https URL' : 'url must be an https URL (WEBHOOK_ALLOW_HTTP is off)',
    );
  }
  if (url.username !== '' || url.password !== '')
    throw new DestinationRefusedError('InvalidUrl', 'url must not contain credentials');
  if (url.hash !== '') throw new DestinationRefusedError('InvalidUrl', 'url must not contain a fragment');
  return url;
}

/** IPv4-compatible IPv6 addresses (RFC 4291 §2.5.5.1, deprecated): ipaddr.js calls them unicast. */
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');

/**
 * Why an address is no place to send a request to, or null for a public unicast address. IPv4-mapped
 * IPv6 addresses are judged as the IPv4 address they carry; every other special range (loopback,
 * private, link-local with the cloud metadata addresses, unique-local, carrier-grade NAT, multicast,
 * reserved, and the IPv6 ranges that embed an IPv4 address: IPv4-compatible, NAT64, 6to4, Teredo) is
 * refused.
 */
export function nonPublicRange(address: string): string | null {
  // process() turns an IPv4-mapped IPv6 address into the IPv4 address it carries.
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (range !== 'unicast') return range;
  return parsed instanceof ipaddr.IPv6 && parsed.match(IPV4_COMPATIBLE) ? 'ipv4Compatible' : null;
}

/**
 * The whole check of a destination, made at registration and again before every delivery: the URL
 * rules, then every address the host resolves to (one private address among public ones is refused,
 * or a rebinding name could pick it). The caller connects only to the returned addresses.
 */
export async function checkDestination(
  text: string,
  policy: DestinationPolicy,
  resolver: HostResolver,
): Promise<CheckedDestination> {
  const url = parseDestination(text, policy);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await resolver.resolve(host);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0)
      throw new DestinationRefusedError('RefusedDestination', `url: ${host} does not resolve`);
  }
  if (!policy.allowPrivateNetworks) {
    for (const { address } of addresses) {
      const range = nonPublicRange(address);
      if (range !== null) {
        throw new DestinationRefusedError(
          'RefusedDestination',
          `url: ${host} resolves to ${address}, a ${range} address (WEBHOOK_ALLOW_PRIVATE_NETWORKS is off)`,
        );
      }
    }
  }
  return { url, addresses };
}
