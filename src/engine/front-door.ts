/**
 * The workflow front door: the host's HTTP listeners. Each request is handed
 * to whatever engine is active when it arrives; swapping engines never closes
 * a listener, so no request sees a refused connection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListenError } from '../errors.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

const splitAddress = (address: string): { host: string; port: number } => {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) };
};

/** Start an HTTP server on `address` (host:port); rejects with ListenError. */
export async function listenOn(address: string, handler: RequestHandler): Promise<Server> {
  const server = createServer(handler);
  // Keep-alive connections must not hold a replaced listener open for long.
  server.keepAliveTimeout = 5_000;
  const { host, port } = splitAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new ListenError(address, error)));
    server.listen({ host, port, exclusive: true }, () => resolve());
  });
  return server;
}

/** Stop accepting, let requests in flight finish, then drop idle keep-alive connections. */
export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
}

export const boundAddress = (server: Server): string => {
  const info = server.address() as AddressInfo;
  return info.family === 'IPv6' ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`;
};

export class FrontDoor {
  /** Config `http.listen` value → its listener. */
  private readonly servers = new Map<string, Server>();

  constructor(private readonly route: RequestHandler) {}

  has(listen: string): boolean {
    return this.servers.has(listen);
  }

  /** Bind `listen` if it is not bound yet. Rejects with ListenError and binds nothing on failure. */
  async bind(listen: string): Promise<void> {
    if (this.servers.has(listen)) return;
    this.servers.set(listen, await listenOn(listen, this.route));
  }

  /** The address actually bound (port 0 resolved), or null. */
  address(listen: string): string | null {
    const server = this.servers.get(listen);
    return server ? boundAddress(server) : null;
  }

  async close(listen: string): Promise<void> {
    const server = this.servers.get(listen);
    if (!server) return;
    this.servers.delete(listen);
    await closeServer(server);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.servers.keys()].map((listen) => this.close(listen)));
  }
}
