/** go-plugin's handshake line, parsed strictly (src/plugins/go-plugin/handshake.ts). */
import { describe, expect, it } from 'vitest';
import { parseHandshake } from '../../src/plugins/go-plugin/handshake.js';

describe('parseHandshake', () => {
  it('accepts what plugin.Serve prints, on a unix socket or loopback tcp, with or without the empty certificate field', () => {
    expect(parseHandshake('1|1|unix|/tmp/plugin123|grpc|', [1])).toEqual({ appProtocolVersion: 1, network: 'unix', address: '/tmp/plugin123', target: 'unix:///tmp/plugin123' });
    expect(parseHandshake('1|3|tcp|127.0.0.1:10001|grpc', [2, 3])).toEqual({ appProtocolVersion: 3, network: 'tcp', address: '127.0.0.1:10001', target: '127.0.0.1:10001' });
  });

  it.each([
    ['not a handshake', 'listening on :8080', /expected 5 fields separated by "\|", got 1/],
    ['too many fields', '1|1|unix|/tmp/p|grpc|cert|extra', /got 7/],
    ['another core version', '2|1|unix|/tmp/p|grpc', /core protocol version is "2"; go-plugin's, and the only one this host speaks, is 1/],
    ['an app version the manifest does not accept', '1|2|unix|/tmp/p|grpc', /serves app protocol version "2", but plugin\.json's goPlugin\.appProtocolVersions accepts only 1/],
    ['a version that is not a number', '1|x|unix|/tmp/p|grpc', /app protocol version "x"/],
    ['net/rpc', '1|1|unix|/tmp/p|netrpc', /this host speaks only "grpc" \(net\/rpc plugins are not supported\)/],
    ['a TLS certificate nobody asked for', '1|1|unix|/tmp/p|grpc|MIIB', /did not ask for AutoMTLS/],
    ['a relative socket path', '1|1|unix|plugin.sock|grpc', /not an absolute path/],
    ['a tcp address off the machine', '1|1|tcp|10.0.0.5:10000|grpc', /not a loopback host:port/],
    ['another network', '1|1|udp|127.0.0.1:1|grpc', /the network is "udp"/],
  ])('refuses %s, saying why', (_what, line, problem) => {
    const result = parseHandshake(line, [1]);
    expect(typeof result).toBe('string');
    expect(result).toMatch(problem);
  });
});
