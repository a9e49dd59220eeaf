import { clientAddressOf } from './client-address';

describe(clientAddressOf.name, () => {
  it('takes the address Fastify gives when it is an IP address', () => {
    expect(clientAddressOf({ ip: '127.0.0.1' })).toBe('127.0.0.1');
    expect(clientAddressOf({ ip: '203.0.113.7', ips: ['127.0.0.1', '203.0.113.7'] })).toBe('203.0.113.7');
    expect(clientAddressOf({ ip: '2001:DB8::1', ips: ['::1', '2001:DB8::1'] })).toBe('2001:db8::/64');
  });

  it('counts an IPv6 client by its /64 in any spelling, and an IPv4-mapped one as its IPv4 address', () => {
    for (const address of ['2001:db8:7:1::1', '2001:db8:7:1:ffff:ffff:ffff:ffff', '2001:0DB8:0007:0001:0:0:0:abcd']) {
      expect(clientAddressOf({ ip: address })).toBe('2001:db8:7:1::/64');
    }
    expect(clientAddressOf({ ip: '2001:db8:7:2::1' })).toBe('2001:db8:7:2::/64');
    expect(clientAddressOf({ ip: '::ffff:198.51.100.9', ips: ['127.0.0.1', '::ffff:198.51.100.9'] })).toBe(
      '198.51.100.9',
    );
    expect(clientAddressOf({ ip: '::1' })).toBe('::/64');
  });

  it('passes over forwarded entries that are not IP addresses, back to the hop that sent them', () => {
    const junk = 'x'.repeat(200);
    expect(clientAddressOf({ ip: junk, ips: ['127.0.0.1', junk] })).toBe('127.0.0.1');
    expect(clientAddressOf({ ip: 'unknown', ips: ['10.0.0.1', '198.51.100.4', 'unknown'] })).toBe('198.51.100.4');
    for (const notAnAddress of ['1.2.3.4:80', '[::1]', '01.2.3.4', "1.2.3.4' OR 1=1", '']) {
      expect(clientAddressOf({ ip: notAnAddress, ips: ['10.0.0.1', notAnAddress] })).toBe('10.0.0.1');
    }
  });

  it('drops an IPv6 zone id of any length', () => {
    const zoned = `fe80::1%${'a'.repeat(300)}`;
    expect(clientAddressOf({ ip: zoned, ips: ['10.0.0.1', zoned] })).toBe('fe80::/64');
  });

  it('answers one shared key when there is no address at all', () => {
    expect(clientAddressOf({ ip: undefined })).toBe('unknown');
  });
});
