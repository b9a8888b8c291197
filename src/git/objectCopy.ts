// The import reader: copies the objects of a local working copy's `.git/objects` into a hub-owned scratch
// repository without ever following a symlink, an `objects/info/alternates` file or a `.git` file, and with every
// object's name checked against its content. Git itself would follow all three (that is how one agent once
// got another agent's commits into its own hub repository: it symlinked its object directories to the other
// agent's repository and pointed a branch at a commit there), so git never reads the working copy: only this
// code does, and what it copies is data.
// - Directories are opened with O_NOFOLLOW | O_DIRECTORY and their entries are reached through the open
//   descriptor (/proc/self/fd/N/name), so a directory swapped for a symlink mid-copy is not followed either.
// - Loose objects: regular files only, inflated with a size cap, `sha1("<type> <size>\0" + body)` must equal
//   the file's name. Packs: regular files only, copied and indexed by `git index-pack` in the scratch
//   repository, which derives every object's name from its content; the working copy's .idx files are never read.
// - A file with more than one hard link is not read (a hard link can reach another repository's object as well
//   as a symlink can); it is counted so the caller can say why an object is missing.
// No vscode import.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { runGit } from './exec';
import type { PushLimits } from './pushLimits';
import { mib } from './pushLimits';

export class ObjectCopyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ObjectCopyError';
  }
}

export interface CopyReport {
  loose: number;
  packs: number;
  /** Object files not read because they have more than one hard link. */
  hardLinked: number;
  bytes: number;
}

const HAS_PROC_FD = (() => {
  try {
    return fs.statSync('/proc/self/fd').isDirectory();
  } catch {
    return false;
  }
})();

const { O_RDONLY, O_NOFOLLOW } = fs.constants;
const O_DIRECTORY = fs.constants.O_DIRECTORY ?? 0;

/** A directory opened without following symlinks; children are named through its descriptor. */
class Dir {
  private constructor(
    readonly fd: number,
    private readonly base: string,
    readonly shown: string,
  ) {}

  static open(p: string, shown: string): Dir {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      throw new ObjectCopyError(`${shown} does not exist`);
    }
    if (st.isSymbolicLink()) throw new ObjectCopyError(`${shown} is a symbolic link; objects are read only from the working copy's own object directory`);
    if (!st.isDirectory()) throw new ObjectCopyError(`${shown} is not a directory`);
    let fd: number;
    try {
      fd = fs.openSync(p, O_RDONLY | O_NOFOLLOW | O_DIRECTORY);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ObjectCopyError(code === 'ELOOP' || code === 'ENOTDIR' ? `${shown} is a symbolic link or not a directory` : `cannot open ${shown}: ${code ?? 'error'}`);
    }
    const f = fs.fstatSync(fd);
    if (!f.isDirectory() || f.ino !== st.ino || f.dev !== st.dev) {
      fs.closeSync(fd);
      throw new ObjectCopyError(`${shown} changed while it was opened`);
    }
    return new Dir(fd, HAS_PROC_FD ? `/proc/self/fd/${fd}` : p, shown);
  }

  child(name: string): string {
    return path.join(this.base, name);
  }

  names(): string[] {
    return fs.readdirSync(this.base);
  }

  lstat(name: string): fs.Stats | undefined {
    try {
      return fs.lstatSync(this.child(name));
    } catch {
      return undefined;
    }
  }

  sub(name: string): Dir {
    return Dir.open(this.child(name), `${this.shown}/${name}`);
  }

  /** Open a regular file below this directory without following a symlink; 'hardlinked' (not opened) if it has other links. */
  openFile(name: string, maxBytes: number): { fd: number; size: number } | 'hardlinked' {
    const shown = `${this.shown}/${name}`;
    let fd: number;
    try {
      fd = fs.openSync(this.child(name), O_RDONLY | O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ObjectCopyError(code === 'ELOOP' ? `${shown} is a symbolic link; not importing` : `cannot open ${shown}: ${code ?? 'error'}`);
    }
    const st = fs.fstatSync(fd);
    if (!st.isFile()) {
      fs.closeSync(fd);
      throw new ObjectCopyError(`${shown} is not a regular file; not importing`);
    }
    if (st.nlink > 1) {
      fs.closeSync(fd);
      return 'hardlinked';
    }
    if (st.size > maxBytes) {
      fs.closeSync(fd);
      throw new ObjectCopyError(`${shown} is ${mib(st.size)} (at most ${mib(maxBytes)} may be imported at once)`);
    }
    return { fd, size: st.size };
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

function readAll(fd: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = fs.readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/** Check one loose object's compressed bytes against its name; returns why not, or undefined. */
export function verifyLooseObject(sha: string, compressed: Buffer, maxObjectBytes: number): string | undefined {
  let body: Buffer;
  try {
    body = zlib.inflateSync(compressed, { maxOutputLength: maxObjectBytes + 64 });
  } catch (err) {
    const m = (err as Error).message;
    return /buffer|length/i.test(m) ? `is larger than ${mib(maxObjectBytes)}` : 'is not a valid zlib stream';
  }
  const nul = body.indexOf(0);
  const header = nul < 0 ? '' : body.subarray(0, nul).toString('latin1');
  const m = /^(blob|tree|commit|tag) (\d{1,12})$/.exec(header);
  if (!m) return 'has no valid object header';
  if (Number(m[2]) !== body.length - nul - 1) return 'has a size that does not match its header';
  if (Number(m[2]) > maxObjectBytes) return `is larger than ${mib(maxObjectBytes)}`;
  const actual = createHash('sha1').update(body).digest('hex');
  return actual === sha ? undefined : `does not hash to its name (its content is ${actual.slice(0, 12)})`;
}

/**
 * Copy every object of `gitDir/objects` (a working copy's .git) into the bare repository `scratch`'s own
 * objects. Refuses symlinks at every level, alternates, and objects whose content does not match their name.
 */
export async function copyObjects(gitDir: string, shownGitDir: string, scratch: string, limits: PushLimits): Promise<CopyReport> {
  const report: CopyReport = { loose: 0, packs: 0, hardLinked: 0, bytes: 0 };
  const budget = (n: number, what: string) => {
    report.bytes += n;
    if (report.bytes > limits.maxPackBytes) throw new ObjectCopyError(`the working copy's objects exceed ${mib(limits.maxPackBytes)} (push.maxPackBytes) at ${what}`);
  };
  const git = Dir.open(gitDir, shownGitDir);
  const dest = path.join(scratch, 'objects');
  try {
    const objects = git.sub('objects');
    try {
      const info = objects.lstat('info');
      if (info) {
        const infoDir = objects.sub('info');
        try {
          for (const f of ['alternates', 'http-alternates']) {
            if (infoDir.lstat(f)) throw new ObjectCopyError(`${shownGitDir}/objects/info/${f} borrows objects from another repository; not importing`);
          }
        } finally {
          infoDir.close();
        }
      }
      let count = 0;
      for (const name of objects.names().sort()) {
        if (/^[0-9a-f]{2}$/.test(name)) {
          const fan = objects.sub(name);
          try {
            for (const rest of fan.names()) {
              if (!/^[0-9a-f]{38}$/.test(rest)) continue;
              const sha = name + rest;
              const target = path.join(dest, name, rest);
              if (fs.existsSync(target)) continue;
              if (++count > limits.maxObjects) throw new ObjectCopyError(`the working copy has more than ${limits.maxObjects} loose objects (push.maxObjects)`);
              const f = fan.openFile(rest, limits.maxObjectBytes + 1024);
              if (f === 'hardlinked') {
                report.hardLinked++;
                continue;
              }
              let bytes: Buffer;
              try {
                bytes = readAll(f.fd, f.size);
              } finally {
                fs.closeSync(f.fd);
              }
              budget(bytes.length, `${name}/${rest}`);
              const why = verifyLooseObject(sha, bytes, limits.maxObjectBytes);
              if (why) throw new ObjectCopyError(`object ${sha.slice(0, 12)} in ${shownGitDir}/objects ${why}; not importing`);
              fs.mkdirSync(path.dirname(target), { recursive: true });
              const tmp = `${target}.${process.pid}.tmp`;
              fs.writeFileSync(tmp, bytes, { mode: 0o444 });
              fs.renameSync(tmp, target);
              report.loose++;
            }
          } finally {
            fan.close();
          }
        } else if (name === 'pack') {
          await copyPacks(objects.sub('pack'), scratch, limits, report, budget);
        }
      }
    } finally {
      objects.close();
    }
  } finally {
    git.close();
  }
  return report;
}

async function copyPacks(pack: Dir, scratch: string, limits: PushLimits, report: CopyReport, budget: (n: number, what: string) => void): Promise<void> {
  const destDir = path.join(scratch, 'objects', 'pack');
  fs.mkdirSync(destDir, { recursive: true });
  const seen = path.join(destDir, 'imported');
  const already = new Set(fs.existsSync(seen) ? fs.readFileSync(seen, 'utf8').split('\n').filter(Boolean) : []);
  try {
    for (const name of pack.names().sort()) {
      if (!/^pack-[0-9a-f]{40}\.pack$/.test(name)) continue;
      const f = pack.openFile(name, limits.maxPackBytes);
      if (f === 'hardlinked') {
        report.hardLinked++;
        continue;
      }
      const tmp = path.join(destDir, `tmp-import-${process.pid}.pack`);
      try {
        const st = fs.fstatSync(f.fd);
        const key = `${name} ${st.size} ${st.mtimeMs}`;
        if (already.has(key)) continue;
        budget(f.size, name);
        const head = Buffer.alloc(12);
        fs.readSync(f.fd, head, 0, 12, 0);
        if (head.subarray(0, 4).toString('latin1') !== 'PACK') throw new ObjectCopyError(`${pack.shown}/${name} is not a pack`);
        if (head.readUInt32BE(8) > limits.maxObjects) throw new ObjectCopyError(`${pack.shown}/${name} holds ${head.readUInt32BE(8)} objects (at most ${limits.maxObjects}, push.maxObjects)`);
        // Copied through the descriptor (never by name), then indexed: index-pack computes every object's id.
        const out = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | O_NOFOLLOW, 0o444);
        try {
          const chunk = Buffer.alloc(1 << 20);
          for (let pos = 0; ; ) {
            const n = fs.readSync(f.fd, chunk, 0, chunk.length, pos);
            if (n === 0) break;
            fs.writeSync(out, chunk, 0, n);
            pos += n;
          }
        } finally {
          fs.closeSync(out);
        }
        let hash: string;
        try {
          hash = (await runGit(scratch, ['index-pack', `--max-input-size=${limits.maxPackBytes}`, tmp])).trim().split(/\s+/).pop() ?? '';
        } catch (err) {
          throw new ObjectCopyError(`${pack.shown}/${name} is not a valid pack: ${(err as Error).message.split('\n')[0]!.slice(0, 300)}`);
        }
        if (!/^[0-9a-f]{40}$/.test(hash)) throw new ObjectCopyError(`indexing ${pack.shown}/${name} gave no pack id`);
        fs.renameSync(tmp.replace(/\.pack$/, '.idx'), path.join(destDir, `pack-${hash}.idx`));
        fs.renameSync(tmp, path.join(destDir, `pack-${hash}.pack`));
        already.add(key);
        fs.appendFileSync(seen, key + '\n');
        report.packs++;
      } finally {
        fs.closeSync(f.fd);
        fs.rmSync(tmp, { force: true });
        fs.rmSync(tmp.replace(/\.pack$/, '.idx'), { force: true });
      }
    }
  } finally {
    pack.close();
  }
}
