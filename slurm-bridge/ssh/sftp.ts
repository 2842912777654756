import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type ssh2 from 'ssh2';
import { PathOutsideWorkDirError } from './errors.js';

type Sftp = ssh2.SFTPWrapper;

/** The part of SshConnection the file helpers need. */
export interface SftpProvider {
  withSftp<T>(work: (sftp: Sftp) => Promise<T>): Promise<T>;
}

export interface RemoteDirEntry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
  readonly size: number;
  readonly modifiedAt: Date;
}

/**
 * Resolves `relativeOrAbsolute` against `workDir` and refuses anything that lands outside it. Purely
 * lexical (after normalising `..`); `RemoteFiles` additionally checks the real path on the server so a
 * symlink inside the work dir cannot lead out of it.
 */
export function confinePath(workDir: string, relativeOrAbsolute: string): string {
  if (!posix.isAbsolute(workDir))
    throw new Error(`work dir must be absolute, got ${JSON.stringify(workDir)}`);
  if (relativeOrAbsolute.includes('\0')) throw new PathOutsideWorkDirError(relativeOrAbsolute, workDir);
  const root = posix.normalize(workDir).replace(/\/+$/, '') || '/';
  const resolved = posix.resolve(root, relativeOrAbsolute);
  if (resolved !== root && !resolved.startsWith(`${root}/`)) {
    throw new PathOutsideWorkDirError(relativeOrAbsolute, workDir);
  }
  return resolved;
}

function call<T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

function sftpCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number'
    ? err.code
    : undefined;
}

const SFTP_NO_SUCH_FILE = 2;

/**
 * Files on the cluster, all confined to the cluster's work dir: atomic uploads, small reads, log tails
 * and listings. Paths may be relative to the work dir or absolute inside it.
 */
export class RemoteFiles {
  private realWorkDir: string | null = null;

  constructor(
    private readonly connection: SftpProvider,
    readonly workDir: string,
  ) {
    confinePath(workDir, '.');
  }

  /** Absolute, lexically confined path; throws PathOutsideWorkDirError. */
  resolve(path: string): string {
    return confinePath(this.workDir, path);
  }

  /**
   * Writes `data` to a temp file beside the target with `mode`, then renames it over the target (POSIX
   * rename via the OpenSSH extension), so readers never see a half-written file.
   */
  async uploadAtomic(path: string, data: string | Buffer, mode = 0o644): Promise<string> {
    const target = this.resolve(path);
    const dir = posix.dirname(target);
    const temp = posix.join(dir, `.${posix.basename(target)}.tmp-${randomBytes(6).toString('hex')}`);
    await this.connection.withSftp(async (sftp) => {
      await this.mkdirpInside(sftp, dir);
      await this.assertRealInside(sftp, dir, path);
      try {
        await call<void>((cb) => sftp.writeFile(temp, data, { mode }, (err) => cb(err, undefined)));
        // writeFile's mode only applies on create and is subject to the remote umask: set it explicitly.
        await call<void>((cb) => sftp.chmod(temp, mode, (err) => cb(err, undefined)));
        await call<void>((cb) => sftp.ext_openssh_rename(temp, target, (err) => cb(err, undefined)));
      } catch (err) {
        await call<void>((cb) => sftp.unlink(temp, () => cb(null, undefined)));
        throw err;
      }
    });
    return target;
  }

  /** Reads a small file whole; `maxBytes` protects against reading a huge log by mistake. */
  async readFile(path: string, maxBytes = 4 * 1024 * 1024): Promise<string> {
    const target = this.resolve(path);
    return this.connection.withSftp(async (sftp) => {
      await this.assertRealInside(sftp, target, path);
      const stats = await call<ssh2.Stats>((cb) => sftp.stat(target, cb));
      if (stats.size > maxBytes)
        throw new Error(`${target} is ${stats.size} bytes, above the ${maxBytes} limit`);
      const data = await call<Buffer>((cb) => sftp.readFile(target, cb));
      return data.toString('utf8');
    });
  }

  /** Like readFile, but resolves null when the file does not exist (an endpoint not yet written). */
  async readFileIfExists(path: string, maxBytes?: number): Promise<string | null> {
    try {
      return await this.readFile(path, maxBytes);
    } catch (err) {
      if (sftpCode(err) === SFTP_NO_SUCH_FILE) return null;
      throw err;
    }
  }

  /** The last `maxBytes` of a file (a job's log), starting at a line boundary when one is in range. */
  async tail(path: string, maxBytes = 8192): Promise<string> {
    const target = this.resolve(path);
    return this.connection.withSftp(async (sftp) => {
      await this.assertRealInside(sftp, target, path);
      const stats = await call<ssh2.Stats>((cb) => sftp.stat(target, cb));
      const length = Math.min(stats.size, maxBytes);
      if (length === 0) return '';
      const start = stats.size - length;
      const handle = await call<Buffer>((cb) => sftp.open(target, 'r', cb));
      try {
        const buffer = Buffer.alloc(length);
        let filled = 0;
        while (filled < length) {
          const read = await call<number>((cb) =>
            sftp.read(handle, buffer, filled, length - filled, start + filled, (err, n) => cb(err, n)),
          );
          if (read === 0) break;
          filled += read;
        }
        const text = buffer.subarray(0, filled).toString('utf8');
        const newline = start > 0 ? text.indexOf('\n') : -1;
        return newline >= 0 ? text.slice(newline + 1) : text;
      } finally {
        await call<void>((cb) => sftp.close(handle, (err) => cb(err, undefined)));
      }
    });
  }

  async list(path = '.'): Promise<RemoteDirEntry[]> {
    const target = this.resolve(path);
    return this.connection.withSftp(async (sftp) => {
      await this.assertRealInside(sftp, target, path);
      const entries = await call<ssh2.FileEntryWithStats[]>((cb) => sftp.readdir(target, cb));
      return entries
        .map((entry) => ({
          name: entry.filename,
          type: entry.attrs.isDirectory()
            ? ('directory' as const)
            : entry.attrs.isFile()
              ? ('file' as const)
              : entry.attrs.isSymbolicLink()
                ? ('symlink' as const)
                : ('other' as const),
          size: entry.attrs.size,
          modifiedAt: new Date(entry.attrs.mtime * 1000),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  async mkdirp(path: string): Promise<string> {
    const target = this.resolve(path);
    await this.connection.withSftp(async (sftp) => {
      await this.mkdirpInside(sftp, target);
      await this.assertRealInside(sftp, target, path);
    });
    return target;
  }

  async remove(path: string): Promise<void> {
    const target = this.resolve(path);
    await this.connection.withSftp(async (sftp) => {
      await this.assertRealInside(sftp, posix.dirname(target), path);
      await call<void>((cb) =>
        sftp.unlink(target, (err) => cb(sftpCode(err) === SFTP_NO_SUCH_FILE ? null : err, undefined)),
      );
    });
  }

  private async mkdirpInside(sftp: Sftp, dir: string): Promise<void> {
    const root = this.resolve('.');
    const parts = posix.relative(root, dir).split('/').filter(Boolean);
    let current = root;
    for (const part of [null, ...parts]) {
      if (part !== null) current = posix.join(current, part);
      try {
        await call<void>((cb) => sftp.mkdir(current, (err) => cb(err, undefined)));
      } catch {
        // Exists already (or a race with another writer); the realpath check below is what matters.
      }
    }
  }

  /** Refuses a path whose real location (symlinks followed) is outside the work dir's real location. */
  private async assertRealInside(sftp: Sftp, absolute: string, requested: string): Promise<void> {
    if (this.realWorkDir === null) {
      this.realWorkDir = await call<string>((cb) => sftp.realpath(this.resolve('.'), cb));
    }
    let real: string;
    try {
      real = await call<string>((cb) => sftp.realpath(absolute, cb));
    } catch (err) {
      if (sftpCode(err) === SFTP_NO_SUCH_FILE) return;
      throw err;
    }
    const root = this.realWorkDir;
    if (real !== root && !real.startsWith(`${root}/`))
      throw new PathOutsideWorkDirError(requested, this.workDir);
  }
}
