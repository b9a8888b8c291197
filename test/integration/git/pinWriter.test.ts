// Batched pins on a real hub repository: one update-ref transaction for the pins of one tick, the next batch
// in the next transaction of the same process, a refused transaction retried pin by pin as loose refs.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureHubRepo } from '../../../src/git/hubRepo';
import { PinWriter } from '../../../src/git/pinWriter';
import { tmpDir } from '../../support/tmp';

const git = (cwd: string, args: string[]) => execFileSync('git', args, { cwd, env: { PATH: process.env.PATH!, HOME: cwd, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' } }).toString().trim();

function pins(repo: string): Map<string, string> {
  const out = git(repo, ['for-each-ref', '--format=%(refname:lstrip=3) %(objectname)', 'refs/overseer/pins']);
  return new Map(out.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}

describe('PinWriter: pins in update-ref transactions', function () {
  this.timeout(60_000);
  let t: ReturnType<typeof tmpDir>;
  let repo: string;
  const commits: string[] = [];
  before(async () => {
    t = tmpDir('overseer-pins-');
    repo = path.join(t.dir, 'hub.git');
    await ensureHubRepo(repo);
    const work = path.join(t.dir, 'work');
    fs.mkdirSync(work);
    git(work, ['init', '-q', '-b', 'main']);
    for (let i = 0; i < 3; i++) {
      fs.writeFileSync(path.join(work, 'f.txt'), `v${i}\n`);
      git(work, ['add', '-A']);
      git(work, ['commit', '-q', '-m', `c${i}`]);
      commits.push(git(work, ['rev-parse', 'HEAD']));
    }
    git(work, ['push', '-q', repo, 'HEAD:refs/heads/main']);
  });
  after(() => t.cleanup());

  it('writes the pins of one tick in one transaction and later pins in the next, in the same process', async () => {
    const w = new PinWriter(repo);
    await Promise.all([w.pin('exp-1', commits[0]!), w.pin('exp-2', commits[1]!), w.pin('exp-3', commits[2]!)]);
    assert.deepEqual(w.stats, { pins: 3, transactions: 1, fallbacks: 0 });
    await w.pin('exp-1', commits[2]!); // a reused id (its first event never became durable) is overwritten
    assert.deepEqual(w.stats, { pins: 4, transactions: 2, fallbacks: 0 });
    const p = pins(repo);
    assert.equal(p.get('exp-1'), commits[2]);
    assert.equal(p.get('exp-2'), commits[1]);
    assert.equal(p.get('exp-3'), commits[2]);
    await w.close();
    await assert.rejects(w.pin('exp-4', commits[0]!), /closed/);
  });

  it('refuses what is not a pin, and a refused transaction is written pin by pin as loose refs', async () => {
    const w = new PinWriter(repo);
    await assert.rejects(w.pin('../heads/main', commits[0]!), /invalid pin/);
    await assert.rejects(w.pin('exp-9', 'HEAD'), /invalid pin/);
    await assert.rejects(w.pin('exp-9.lock', commits[0]!), /invalid pin/);
    // A lock git cannot take makes it refuse the whole transaction.
    const lock = path.join(repo, 'refs', 'overseer', 'pins', 'exp-11.lock');
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    fs.writeFileSync(lock, '');
    await Promise.all([w.pin('exp-10', commits[0]!), w.pin('exp-11', commits[1]!)]);
    assert.deepEqual(w.stats, { pins: 0, transactions: 0, fallbacks: 2 });
    fs.rmSync(lock);
    const p = pins(repo);
    assert.equal(p.get('exp-10'), commits[0]);
    assert.equal(p.get('exp-11'), commits[1]);
    // the next batch starts a new process and is a transaction again
    await w.pin('exp-12', commits[2]!);
    assert.deepEqual(w.stats, { pins: 1, transactions: 1, fallbacks: 2 });
    assert.equal(pins(repo).get('exp-12'), commits[2]);
    await w.close();
  });
});
