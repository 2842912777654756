import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that forwards to `target` and sends the answers back at most `bytesPerSecond`
 * in total, over all its connections at once (Ollama pulls one blob over several connections, each a
 * byte range). Requests go upstream unthrottled. `bytesDown` counts what reached the clients, so a test
 * can tell a real transfer from a cache hit.
 */
export class ThrottledProxy {
  bytesDown = 0;
  private nextFreeAt = 0;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(
    private readonly target: { host: string; port: number },
    private readonly bytesPerSecond: number,
  ) {
    this.server = createServer((client) => this.relay(client));
  }

  static async start(
    target: { host: string; port: number },
    bytesPerSecond: number,
  ): Promise<ThrottledProxy> {
    const proxy = new ThrottledProxy(target, bytesPerSecond);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy does not listen');
    return address.port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket): void {
    const upstream = createConnection(this.target);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    }
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    // Each chunk waits for its slot on one shared clock; the upstream is paused meanwhile, so TCP's
    // back-pressure slows the registry instead of this process buffering the blob.
    upstream.on('data', (chunk: Buffer) => {
      const now = Date.now();
      const at = Math.max(now, this.nextFreeAt);
      this.nextFreeAt = at + (1000 * chunk.length) / this.bytesPerSecond;
      upstream.pause();
      setTimeout(() => {
        if (client.destroyed) return;
        this.bytesDown += chunk.length;
        client.write(chunk);
        upstream.resume();
      }, at - now);
    });
    // A paused stream emits no 'end': it comes after the last chunk was written and the upstream resumed.
    upstream.on('end', () => client.end());
  }
}
