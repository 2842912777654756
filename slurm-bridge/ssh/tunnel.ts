import { Agent as HttpAgent } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Agent as UndiciAgent } from 'undici';

/** The part of SshConnection tunnels need: a direct-tcpip channel as seen from the login node. */
export interface TcpChannelOpener {
  openTcp(host: string, port: number): Promise<Duplex>;
}

export interface ForwardTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * undici hands the connector's result to its HTTP/1 parser, which only needs a Duplex with `destroyed`,
 * plus optional `setKeepAlive`/`ref`/`unref`. An ssh2 channel is such a Duplex; the cast documents that
 * undici's type says net.Socket where a stream suffices.
 */
function asSocket(stream: Duplex): Socket {
  return stream as unknown as Socket;
}

/**
 * An HTTP endpoint on a compute node reached through SSH direct-tcpip channels. It IS an undici
 * dispatcher: `fetch(forward.url('/api/tags'), { dispatcher: forward })` with undici's `fetch`. Every
 * connection goes to the forwarded host:port whatever the URL says, so a request cannot be steered
 * elsewhere. `httpAgent` serves node:http clients the same way.
 */
export class SshForward extends UndiciAgent {
  readonly httpAgent: HttpAgent;

  constructor(
    opener: TcpChannelOpener,
    readonly target: ForwardTarget,
  ) {
    super({
      connect: (_options, callback) => {
        opener.openTcp(target.host, target.port).then(
          (stream) => callback(null, asSocket(stream)),
          (err: Error) => callback(err, null),
        );
      },
      // A channel is cheap to reopen, and an idle one would hold the remote service's connection.
      keepAliveTimeout: 4_000,
    });
    this.httpAgent = new ForwardHttpAgent(opener, target);
  }

  /** `http://host:port` of the target, for building URLs. */
  get baseUrl(): string {
    return `http://${this.target.host.includes(':') ? `[${this.target.host}]` : this.target.host}:${this.target.port}`;
  }

  url(path: string): string {
    return new URL(path, this.baseUrl).toString();
  }
}

class ForwardHttpAgent extends HttpAgent {
  constructor(
    private readonly opener: TcpChannelOpener,
    private readonly target: ForwardTarget,
  ) {
    super({ keepAlive: false });
  }

  override createConnection(
    _options: unknown,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | undefined {
    this.opener.openTcp(this.target.host, this.target.port).then(
      (stream) => callback?.(null, stream),
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

export interface LocalListener {
  /** The port actually bound (useful when 0 was asked for). */
  readonly port: number;
  /** Connections accepted so far; for metrics. */
  readonly accepted: number;
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Where to bind locally. Loopback by default: a tunnel must not be opened to the network by accident. */
  readonly bindHost?: string;
  readonly onError?: (err: Error) => void;
}

/**
 * Listens on a local TCP port and pipes each accepted connection through a new direct-tcpip channel to
 * the target `resolveTarget()` returns at that moment. The target may change between connections (the
 * Grafana tunnel follows the monitoring job when it moves to another node).
 */
export async function listenLocal(
  opener: TcpChannelOpener,
  localPort: number,
  resolveTarget: () => ForwardTarget | Promise<ForwardTarget>,
  options: ListenOptions = {},
): Promise<LocalListener> {
  let accepted = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((socket) => {
    accepted += 1;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pause();
    Promise.resolve()
      .then(resolveTarget)
      .then((target) => opener.openTcp(target.host, target.port))
      .then(
        (channel) => {
          channel.on('error', () => socket.destroy());
          socket.on('close', () => channel.destroy());
          channel.on('close', () => socket.destroy());
          socket.pipe(channel).pipe(socket);
          socket.resume();
        },
        (err: Error) => {
          options.onError?.(err);
          socket.destroy();
        },
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(localPort, options.bindHost ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : localPort;
  return {
    port,
    get accepted() {
      return accepted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
