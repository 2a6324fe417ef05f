/**
 * go-plugin's handshake line, which plugin.Serve prints as the first line of
 * stdout: CORE|APP|NETWORK|ADDR|PROTOCOL, and a sixth field with the
 * server's certificate when the host asked for AutoMTLS (wfreload does not).
 */

/** go-plugin's CoreProtocolVersion: the only one there has been. */
export const GO_PLUGIN_CORE_VERSION = 1;

export interface GoPluginHandshake {
  appProtocolVersion: number;
  network: 'unix' | 'tcp';
  address: string;
  /** The address as a @grpc/grpc-js target. */
  target: string;
}

/** The handshake in `line`, or a sentence saying what is wrong with it. */
export function parseHandshake(line: string, acceptedVersions: readonly number[]): GoPluginHandshake | string {
  const fields = line.trim().split('|');
  if (fields.length < 5 || fields.length > 6) return `expected 5 fields separated by "|", got ${fields.length}`;
  const [core, app, network, address, protocol, certificate] = fields as [string, string, string, string, string, string | undefined];
  if (core !== String(GO_PLUGIN_CORE_VERSION)) return `the core protocol version is ${JSON.stringify(core)}; go-plugin's, and the only one this host speaks, is ${GO_PLUGIN_CORE_VERSION}`;
  const version = /^\d+$/.test(app) ? Number(app) : NaN;
  if (!acceptedVersions.includes(version)) {
    return `the plugin serves app protocol version ${JSON.stringify(app)}, but plugin.json's goPlugin.appProtocolVersions accepts only ${acceptedVersions.join(', ')}`;
  }
  if (protocol !== 'grpc') return `the protocol is ${JSON.stringify(protocol)}; this host speaks only "grpc" (net/rpc plugins are not supported)`;
  if (certificate) return 'the plugin sent a TLS certificate, but the host did not ask for AutoMTLS';
  if (network === 'unix') {
    if (!address.startsWith('/')) return `the unix socket address ${JSON.stringify(address)} is not an absolute path`;
    return { appProtocolVersion: version, network, address, target: `unix://${address}` };
  }
  if (network === 'tcp') {
    if (!/^(127\.0\.0\.1|\[::1\]|localhost):\d{1,5}$/.test(address)) return `the tcp address ${JSON.stringify(address)} is not a loopback host:port`;
    return { appProtocolVersion: version, network, address, target: address };
  }
  return `the network is ${JSON.stringify(network)}; go-plugin serves on "unix" or "tcp"`;
}
