import {
  checkDestination,
  DestinationPolicy,
  DestinationRefusedError,
  HostResolver,
  nonPublicRange,
  parseDestination,
  ResolvedAddress,
} from './webhook-destination';

const STRICT: DestinationPolicy = { allowHttp: false, allowPrivateNetworks: false };
const OPEN: DestinationPolicy = { allowHttp: true, allowPrivateNetworks: true };

/** A resolver that answers from a table, as a DNS server under test would. */
class TableResolver extends HostResolver {
  constructor(private readonly table: Record<string, string[]>) {
    super();
  }

  resolve(hostname: string): Promise<ResolvedAddress[]> {
    const addresses = this.table[hostname];
    if (!addresses) return Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  }
}

async function refusal(url: string, policy: DestinationPolicy, resolver = new TableResolver({})): Promise<string> {
  try {
    await checkDestination(url, policy, resolver);
  } catch (error) {
    if (error instanceof DestinationRefusedError) return `${error.reason}: ${error.message}`;
    throw error;
  }
  return 'accepted';
}

describe('webhook destinations', () => {
  it('takes https only, unless plain http is allowed', () => {
    expect(parseDestination('https://hooks.example.com/a?b=1', STRICT).href).toBe('https://hooks.example.com/a?b=1');
    expect(() => parseDestination('http://hooks.example.com/', STRICT)).toThrow(/https URL/);
    expect(parseDestination('http://hooks.example.com/', OPEN).protocol).toBe('http:');
    for (const url of [
      'ftp://hooks.example.com/',
      'file:///etc/passwd',
      'gopher://x/',
      'javascript:alert(1)',
      'hooks',
    ]) {
      expect(() => parseDestination(url, OPEN)).toThrow(DestinationRefusedError);
    }
  });

  it('refuses credentials and fragments in the URL', () => {
    expect(() => parseDestination('https://user:pass@hooks.example.com/', STRICT)).toThrow(/credentials/);
    expect(() => parseDestination('https://hooks.example.com/#x', STRICT)).toThrow(/fragment/);
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.100.100.200', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a00:1', 'rfc6052'],
    ['2002:7f00:1::', '6to4'],
    ['::7f00:1', 'ipv4Compatible'],
    ['::a9fe:a9fe', 'ipv4Compatible'],
    ['::808:808', 'ipv4Compatible'],
  ])('judges %s as %s', (address, range) => {
    expect(nonPublicRange(address)).toBe(range);
  });

  it('judges public unicast addresses, IPv4-mapped ones too, as public', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(nonPublicRange(address)).toBeNull();
    }
  });

  it('refuses address literals of private networks in every spelling the URL parser knows', async () => {
    for (const url of [
      'https://127.0.0.1/',
      'https://2130706433/',
      'https://0x7f.1/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:7f00:1]/',
      'https://[::127.0.0.1]/',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fd00:ec2::254]/',
    ]) {
      expect(await refusal(url, STRICT)).toMatch(/^RefusedDestination: /);
    }
    expect(await refusal('https://93.184.216.34:8443/hook', STRICT)).toBe('accepted');
  });

  it('checks every address a name resolves to: one private address among public ones is refused', async () => {
    const resolver = new TableResolver({
      'public.test': ['93.184.216.34', '2606:4700::1111'],
      'mixed.test': ['93.184.216.34', '10.0.0.7'],
      'metadata.test': ['169.254.169.254'],
    });
    expect(await refusal('https://public.test/', STRICT, resolver)).toBe('accepted');
    expect(await refusal('https://mixed.test/', STRICT, resolver)).toBe(
      'RefusedDestination: url: mixed.test resolves to 10.0.0.7, a private address (WEBHOOK_ALLOW_PRIVATE_NETWORKS is off)',
    );
    expect(await refusal('https://metadata.test/', STRICT, resolver)).toMatch(/linkLocal/);
    expect(await refusal('https://nowhere.test/', STRICT, resolver)).toBe(
      'RefusedDestination: url: nowhere.test does not resolve',
    );
  });

  it('lets private destinations through when WEBHOOK_ALLOW_PRIVATE_NETWORKS is on, and returns the checked addresses', async () => {
    const resolver = new TableResolver({ 'receiver.test': ['127.0.0.1', '::1'] });
    const checked = await checkDestination('http://receiver.test:8080/in', OPEN, resolver);
    expect(checked.addresses).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    expect(await refusal('http://receiver.test:8080/in', { ...OPEN, allowPrivateNetworks: false }, resolver)).toMatch(
      /loopback/,
    );
  });
});
