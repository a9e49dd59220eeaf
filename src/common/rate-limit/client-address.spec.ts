import { clientAddressOf } from './client-address';

describe(clientAddressOf.name, () => {
  it('takes the address Fastify gives when it is an IP address', () => {
    expect(clientAddressOf({ ip: '127.0.0.1' })).toBe('127.0.0.1');
    expect(clientAddressOf({ ip: '203.0.113.7', ips: ['127.0.0.1', '203.0.113.7'] })).toBe('203.0.113.7');
    expect(clientAddressOf({ ip: '2001:DB8::1', ips: ['::1', '2001:DB8::1'] })).toBe('2001:db8::1');
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
    expect(clientAddressOf({ ip: zoned, ips: ['10.0.0.1', zoned] })).toBe('fe80::1');
  });

  it('answers one shared key when there is no address at all', () => {
    expect(clientAddressOf({ ip: undefined })).toBe('unknown');
  });
});
