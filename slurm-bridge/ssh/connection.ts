import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { z } from 'zod';
import { shellQuote } from '../shell/quote.js';
import {
  AuthFailedError,
  ClosedError,
  CommandTimeoutError,
  ConnectionLostError,
  HostKeyMismatchError,
  HostKeyUnknownError,
  InvalidPrivateKeyError,
  type SshError,
  type SshErrorReason,
  UnreachableError,
} from './errors.js';
import { type HostKeyVerdict, parseKnownHosts, verifyHostKey } from './known-hosts.js';
import { Semaphore } from './semaphore.js';
import {
  type ForwardTarget,
  type ListenOptions,
  type LocalListener,
  listenLocal,
  SshForward,
} from './tunnel.js';

const { Client, utils } = ssh2;
type Ssh2Client = InstanceType<typeof Client>;
type Ssh2Sftp = ssh2.SFTPWrapper;

export const SshConnectionOptions = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().min(1),
  /** The private key bytes, e.g. straight from a Secret: never a path, never logged. */
  privateKey: z.union([z.string().min(1), z.instanceof(Buffer)]),
  passphrase: z.string().optional(),
  /** known_hosts file content. Without a matching entry the connection is refused. */
  knownHosts: z.string(),
  /**
   * Session channels (exec, sftp) open at once. OpenSSH's default MaxSessions is 10 and the 11th is
   * refused, so stay below it with room for an interactive user or a second process.
   */
  maxSessions: z.number().int().min(1).max(64).default(8),
  keepaliveIntervalMs: z.number().int().min(0).default(15_000),
  keepaliveCountMax: z.number().int().min(1).default(3),
  readyTimeoutMs: z.number().int().min(1000).default(20_000),
  reconnect: z
    .object({
      initialDelayMs: z.number().int().min(1).default(500),
      maxDelayMs: z.number().int().min(1).default(30_000),
      /** Attempts per connect cycle; a later call starts a new cycle. */
      maxAttempts: z.number().int().min(1).default(6),
    })
    .prefault({}),
  /** Remote timeout applied to commands that do not set their own. */
  defaultTimeoutSeconds: z.number().int().min(1).default(120),
});
export type SshConnectionOptions = z.input<typeof SshConnectionOptions>;
type ResolvedOptions = z.output<typeof SshConnectionOptions>;

export type ConnectionState =
  | { readonly status: 'idle' }
  | { readonly status: 'connecting'; readonly attempt: number }
  | { readonly status: 'connected'; readonly since: Date }
  | {
      readonly status: 'reconnecting';
      readonly attempt: number;
      readonly nextDelayMs: number;
      readonly lastReason: SshErrorReason;
      readonly lastMessage: string;
    }
  | { readonly status: 'failed'; readonly reason: SshErrorReason; readonly message: string }
  | { readonly status: 'closed' };

export interface ExecOptions {
  /** Enforced on the remote side with `timeout`, so the remote process dies too. */
  readonly timeoutSeconds?: number;
  readonly stdin?: string | Buffer;
  /** Output beyond this is dropped (and `truncated` set) so a runaway command cannot exhaust memory. */
  readonly maxOutputBytes?: number;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code; null when the remote process died from a signal. */
  readonly code: number | null;
  readonly truncated: boolean;
}

/** What the SLURM layer and the job helpers depend on: nothing but this function. */
export type ExecFunction = (command: string, options?: ExecOptions) => Promise<ExecResult>;

export interface SshConnectionEvents {
  state: [ConnectionState];
}

/** GNU timeout's exit code when it had to signal the command. */
const TIMEOUT_EXIT_CODE = 124;
const KILL_AFTER_SECONDS = 5;
/** Local guard beyond the remote timeout, for a remote side too broken to report back. */
const LOCAL_GRACE_SECONDS = 15;
const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
const CHANNEL_OPEN_ATTEMPTS = 6;

function isChannelOpenRefusal(err: unknown): boolean {
  return err instanceof Error && /Channel open failure/i.test(err.message);
}

/**
 * ONE SSH connection to a cluster's login node, shared by everything that talks to that cluster.
 * It connects lazily, verifies the host key against known_hosts, keeps the connection alive, reconnects
 * with exponential backoff and jitter, and caps concurrent session channels with a semaphore.
 */
export class SshConnection extends EventEmitter<SshConnectionEvents> {
  readonly options: ResolvedOptions;
  readonly sessions: Semaphore;
  private readonly knownHosts;
  private client: Ssh2Client | null = null;
  private pending: Promise<Ssh2Client> | null = null;
  private currentState: ConnectionState = { status: 'idle' };
  private closed = false;
  private connectCount = 0;
  private channelOpenRetries = 0;

  constructor(options: SshConnectionOptions) {
    super();
    this.options = SshConnectionOptions.parse(options);
    // Fail at construction, not on every reconnect: a bad key never becomes good by retrying.
    const parsed = utils.parseKey(this.options.privateKey, this.options.passphrase);
    if (parsed instanceof Error) throw new InvalidPrivateKeyError(parsed.message);
    this.knownHosts = parseKnownHosts(this.options.knownHosts);
    this.sessions = new Semaphore(this.options.maxSessions);
  }

  get target(): string {
    return `${this.options.username}@${this.options.host}:${this.options.port}`;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** How many times a TCP+SSH handshake succeeded: a reconnect shows as an increase. */
  get connects(): number {
    return this.connectCount;
  }

  /** Session opens sshd refused and that were retried: should stay near zero; for metrics. */
  get channelRetries(): number {
    return this.channelOpenRetries;
  }

  /** Connects now (instead of lazily on first use); rejects with a typed SshError. */
  async connect(): Promise<void> {
    await this.ready();
  }

  /**
   * Runs `command` through `sh -c` on the login node, wrapped in `timeout` so it cannot outlive its
   * deadline remotely (ssh2 cannot signal a non-pty session). Resolves with the exit code; throws only for
   * transport failures and timeouts.
   */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const timeoutSeconds = options.timeoutSeconds ?? this.options.defaultTimeoutSeconds;
    const wrapped = `timeout -k ${KILL_AFTER_SECONDS} ${timeoutSeconds} sh -c ${shellQuote(command)}`;
    const release = await this.sessions.acquire();
    try {
      // Collect from inside the open callback, before any await: a quick command's output, exit-status and
      // close can arrive in the same socket read as the exec reply, and ssh2 emits 'exit' synchronously, so a
      // listener attached one microtask later misses it and the command looks like a dropped connection.
      const running = await this.openSession<{ result: Promise<ExecResult> }>((client, cb) =>
        client.exec(wrapped, (err, channel) => {
          if (err)
            cb(err, undefined as never); // an error carries no value
          else cb(undefined, { result: this.collect(channel, command, timeoutSeconds, options) });
        }),
      );
      const started = Date.now();
      const result = await running.result;
      // 124: timeout sent TERM; 137: it had to KILL. A command may return those codes itself, so only
      // count them as a timeout when the deadline has actually passed.
      const deadlinePassed = Date.now() - started >= timeoutSeconds * 1000 - 250;
      if ((result.code === TIMEOUT_EXIT_CODE || result.code === 128 + 9) && deadlinePassed) {
        throw new CommandTimeoutError(command, timeoutSeconds);
      }
      return result;
    } finally {
      release();
    }
  }

  /** The exec function bound to this connection, for SlurmClient and friends. */
  get execFunction(): ExecFunction {
    return (command, options) => this.exec(command, options);
  }

  /** Opens an SFTP session for the duration of `work`; it holds one session permit. */
  async withSftp<T>(work: (sftp: Ssh2Sftp) => Promise<T>): Promise<T> {
    const release = await this.sessions.acquire();
    try {
      const sftp = await this.openSession<Ssh2Sftp>((client, cb) => client.sftp(cb));
      try {
        return await work(sftp);
      } finally {
        sftp.end();
      }
    } finally {
      release();
    }
  }

  /**
   * A direct-tcpip channel to host:port as seen from the login node. These are not sessions (MaxSessions
   * does not count them), so they take no semaphore permit.
   */
  async openTcp(host: string, port: number): Promise<Duplex> {
    return this.openSession<Duplex>((client, cb) => client.forwardOut('127.0.0.1', 0, host, port, cb));
  }

  /** An undici dispatcher (and `.httpAgent`) whose connections go to host:port via this connection. */
  forward(host: string, port: number): SshForward {
    return new SshForward(this, { host, port });
  }

  /** A local listener on 127.0.0.1:localPort tunnelling to whatever `target()` says at accept time. */
  listen(
    localPort: number,
    target: () => ForwardTarget | Promise<ForwardTarget>,
    options?: ListenOptions,
  ): Promise<LocalListener> {
    return listenLocal(this, localPort, target, options);
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    this.pending = null;
    this.setState({ status: 'closed' });
    if (client) {
      await new Promise<void>((resolve) => {
        client.once('close', () => resolve());
        client.end();
        setTimeout(resolve, 2000).unref();
      });
    }
  }

  private setState(state: ConnectionState): void {
    this.currentState = state;
    this.emit('state', state);
  }

  private ready(): Promise<Ssh2Client> {
    if (this.closed) return Promise.reject(new ClosedError());
    if (this.client) return Promise.resolve(this.client);
    if (!this.pending) {
      const attempt = this.connectWithRetry();
      this.pending = attempt;
      attempt.then(
        () => {
          if (this.pending === attempt) this.pending = null;
        },
        () => {
          if (this.pending === attempt) this.pending = null;
        },
      );
    }
    return this.pending;
  }

  /**
   * Opens a channel with the current client. If the connection died between `ready()` and the channel
   * open, nothing ran remotely yet, so it is safe to reconnect and try once more.
   */
  private async openSession<T>(
    open: (client: Ssh2Client, cb: (err: Error | undefined, value: T) => void) => void,
  ): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      const client = await this.ready();
      try {
        return await new Promise<T>((resolve, reject) => {
          try {
            open(client, (err, value) => (err ? reject(err) : resolve(value)));
          } catch (thrown) {
            reject(thrown instanceof Error ? thrown : new Error(String(thrown)));
          }
        });
      } catch (err) {
        const connectionGone = this.client !== client;
        if (connectionGone && attempt < 2) continue;
        if (connectionGone) throw new ConnectionLostError(this.target);
        // sshd frees a session slot a moment after the channel close reaches us, so a refusal right
        // after a release is transient: back off briefly instead of failing the command.
        if (isChannelOpenRefusal(err) && attempt < CHANNEL_OPEN_ATTEMPTS) {
          this.channelOpenRetries += 1;
          await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
          continue;
        }
        throw err;
      }
    }
  }

  private collect(
    channel: ssh2.ClientChannel,
    command: string,
    timeoutSeconds: number,
    options: ExecOptions,
  ): Promise<ExecResult> {
    const maxBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    return new Promise<ExecResult>((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let bytes = 0;
      let truncated = false;
      let code: number | null | undefined;
      const keep = (sink: Buffer[]) => (chunk: Buffer) => {
        if (bytes + chunk.length > maxBytes) {
          truncated = true;
          return;
        }
        bytes += chunk.length;
        sink.push(chunk);
      };
      const guard = setTimeout(
        () => {
          channel.close();
          reject(new CommandTimeoutError(command, timeoutSeconds));
        },
        (timeoutSeconds + KILL_AFTER_SECONDS + LOCAL_GRACE_SECONDS) * 1000,
      );
      channel.on('data', keep(stdout));
      channel.stderr.on('data', keep(stderr));
      channel.on('exit', (exitCode: number | null) => {
        code = exitCode;
      });
      channel.on('close', () => {
        clearTimeout(guard);
        // No exit status means the transport died under the command (sshd restart, network).
        if (code === undefined) {
          reject(new ConnectionLostError(this.target));
          return;
        }
        resolve({
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          code,
          truncated,
        });
      });
      if (options.stdin !== undefined) channel.end(options.stdin);
      else channel.end();
    });
  }

  private async connectWithRetry(): Promise<Ssh2Client> {
    const { initialDelayMs, maxDelayMs, maxAttempts } = this.options.reconnect;
    for (let attempt = 1; ; attempt += 1) {
      if (this.closed) throw new ClosedError();
      this.setState({ status: 'connecting', attempt });
      try {
        const client = await this.connectOnce();
        if (this.closed) {
          client.end();
          throw new ClosedError();
        }
        this.client = client;
        this.connectCount += 1;
        this.setState({ status: 'connected', since: new Date() });
        return client;
      } catch (err) {
        const error = err as SshError;
        if (error.permanent || attempt >= maxAttempts) {
          if (!this.closed) this.setState({ status: 'failed', reason: error.reason, message: error.message });
          throw error;
        }
        // Equal jitter: half fixed, half random, so many operators do not reconnect in lockstep.
        const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
        const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
        this.setState({
          status: 'reconnecting',
          attempt,
          nextDelayMs: delay,
          lastReason: error.reason,
          lastMessage: error.message,
        });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private connectOnce(): Promise<Ssh2Client> {
    const { host, port, username } = this.options;
    return new Promise<Ssh2Client>((resolve, reject) => {
      const client = new Client();
      let verdict: HostKeyVerdict | null = null;
      let settled = false;
      const fail = (error: SshError) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(error);
      };
      client.on('ready', () => {
        settled = true;
        resolve(client);
      });
      client.on('error', (err: Error & { level?: string }) => {
        if (!settled) {
          fail(this.classifyConnectError(err, verdict));
          return;
        }
        // After ready, errors are followed by 'close', which drives the reconnect.
      });
      client.on('close', () => {
        if (!settled) {
          fail(new UnreachableError(this.target, 'the connection closed during the handshake'));
          return;
        }
        if (this.client === client) this.onUnexpectedClose();
      });
      client.connect({
        host,
        port,
        username,
        privateKey: this.options.privateKey,
        ...(this.options.passphrase === undefined ? {} : { passphrase: this.options.passphrase }),
        keepaliveInterval: this.options.keepaliveIntervalMs,
        keepaliveCountMax: this.options.keepaliveCountMax,
        readyTimeout: this.options.readyTimeoutMs,
        hostVerifier: (key: Buffer) => {
          verdict = verifyHostKey(this.knownHosts, host, port, key);
          return verdict.kind === 'match';
        },
      });
    });
  }

  private classifyConnectError(err: Error & { level?: string }, verdict: HostKeyVerdict | null): SshError {
    const name = this.options.port === 22 ? this.options.host : `[${this.options.host}]:${this.options.port}`;
    if (verdict && verdict.kind === 'unknown') return new HostKeyUnknownError(name, verdict.fingerprint);
    if (verdict && verdict.kind !== 'match') return new HostKeyMismatchError(name, verdict.fingerprint);
    if (err.level === 'client-authentication') return new AuthFailedError(this.options.username, this.target);
    if (err.level === 'client-timeout')
      return new UnreachableError(this.target, 'timed out during the handshake');
    return new UnreachableError(this.target, err.message);
  }

  private onUnexpectedClose(): void {
    this.client = null;
    if (this.closed) return;
    // Reconnect in the background so state (and tunnels) recover without waiting for the next command.
    this.ready().catch(() => {
      // The failure is visible in `state`; the next call starts a new cycle.
    });
  }
}
