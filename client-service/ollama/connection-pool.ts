import { Http1Connection, type OutgoingRequest } from './http1-connection.js';

interface Waiter {
  resolve(connection: Http1Connection): void;
  reject(err: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export interface PoolOptions {
  /** Connections open at most; null for no limit (an open loop without a concurrency limit). */
  connections: number | null;
  /** How long an idle connection is kept. */
  keepAliveMs: number;
}

/**
 * Keep-alive connections to one origin. A closed-loop run sizes it to its clients, so each client in
 * effect keeps one connection; nothing else caps how many requests are in flight. A released connection
 * goes straight to the oldest waiter, in the same turn of the event loop.
 */
export class ConnectionPool {
  private readonly idle: Http1Connection[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly all = new Set<Http1Connection>();
  /** Connections open or being opened. */
  private count = 0;
  private closed = false;

  constructor(
    readonly origin: URL,
    private readonly options: PoolOptions,
  ) {}

  get openConnections(): number {
    return this.count;
  }

  /** An idle connection now, or null (then acquire() opens one or waits). */
  tryAcquire(): Http1Connection | null {
    if (this.closed) return null;
    for (let connection = this.idle.pop(); connection !== undefined; connection = this.idle.pop()) {
      if (connection.reusable) {
        connection.idleFor(0);
        return connection;
      }
    }
    return null;
  }

  /** A connection for one request; give it back with release() or destroy it. */
  acquire(signal?: AbortSignal): Promise<Http1Connection> {
    if (this.closed) return Promise.reject(new Error('the connection pool is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const idle = this.tryAcquire();
    if (idle !== null) return Promise.resolve(idle);
    if (this.hasRoom()) return this.openOne(signal);
    return new Promise<Http1Connection>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(signal?.reason);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Returns a connection after its answer ended; one that cannot carry another request is closed. */
  release(connection: Http1Connection): void {
    if (this.closed || !connection.reusable) {
      connection.destroy();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(connection);
      return;
    }
    connection.idleFor(this.options.keepAliveMs);
    this.idle.push(connection);
  }

  /** Closes every connection, idle or busy; waiters are refused. */
  close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(new Error('the connection pool is closed'));
    }
    this.idle.length = 0;
    for (const connection of this.all) connection.destroy();
    return Promise.resolve();
  }

  private hasRoom(): boolean {
    return this.options.connections === null || this.count < this.options.connections;
  }

  private openOne(signal: AbortSignal | undefined): Promise<Http1Connection> {
    this.count++;
    return Http1Connection.open(this.origin, {
      signal,
      onClose: (connection) => this.forget(connection),
    }).then((connection) => {
      if (this.closed) {
        connection.destroy();
        throw new Error('the connection pool is closed');
      }
      this.all.add(connection);
      return connection;
    });
  }

  /** A connection is gone: make room, and open one for a waiter if there is one. */
  private forget(connection: Http1Connection): void {
    this.count--;
    this.all.delete(connection);
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    if (this.closed || this.waiters.length === 0 || !this.hasRoom()) return;
    const waiter = this.waiters.shift() as Waiter;
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    this.openOne(waiter.signal).then(waiter.resolve, waiter.reject);
  }
}

/** A whole small answer, for requests that are not measured (GET /api/version). */
export async function requestText(
  pool: ConnectionPool,
  request: OutgoingRequest,
  signal: AbortSignal,
  maxBytes = 1024 * 1024,
): Promise<{ status: number; body: string }> {
  const connection = await pool.acquire(signal);
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let status = 0;
    const onAbort = (): void => {
      connection.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => signal.removeEventListener('abort', onAbort);
    try {
      connection.request(request, {
        head: (head) => {
          status = head.status;
        },
        body: (bytes) => {
          size += bytes.length;
          if (size > maxBytes) {
            settle();
            connection.destroy();
            reject(new Error(`answer larger than ${maxBytes} bytes`));
            return;
          }
          parts.push(Buffer.from(bytes));
        },
        end: () => {
          settle();
          pool.release(connection);
          resolve({ status, body: Buffer.concat(parts).toString('utf8') });
        },
        error: (err) => {
          settle();
          reject(err);
        },
      });
    } catch (err) {
      settle();
      connection.destroy();
      reject(err);
    }
  });
}
