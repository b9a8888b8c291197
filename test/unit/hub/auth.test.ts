import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TokenStore } from '../../../src/hub/auth';

describe('hub TokenStore', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-tokens-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates tokens that authenticate as their principal, stored only as sha256 in a 0600 file', () => {
    const s = new TokenStore(dir);
    const { token, record } = s.create({ kind: 'agent', id: 'aar-1' });
    assert.deepEqual(s.authenticate(`Bearer ${token}`), { kind: 'agent', id: 'aar-1' });
    assert.deepEqual(s.verify(token), { kind: 'agent', id: 'aar-1' });
    const file = fs.readFileSync(path.join(dir, 'tokens.json'), 'utf8');
    assert.ok(!file.includes(token.split('_').slice(2).join('_')));
    assert.ok(file.includes(record.hash));
    assert.equal(fs.statSync(path.join(dir, 'tokens.json')).mode & 0o777, 0o600);
  });

  it('rejects tampered, malformed, missing and revoked tokens', () => {
    const s = new TokenStore(dir);
    const { token, record } = s.create({ kind: 'human', id: 'alice' });
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    for (const h of [undefined, '', 'Bearer', `Basic ${token}`, `Bearer ${token.slice(0, -1)}${last}`, `Bearer ${token}x`, 'Bearer ovs_zz_zz']) {
      assert.equal(s.authenticate(h), undefined, String(h));
    }
    assert.ok(s.revoke(record.id));
    assert.equal(s.verify(token), undefined);
  });

  it('sees tokens written by another process (another store on the same file)', () => {
    const hub = new TokenStore(dir);
    const cli = new TokenStore(dir);
    const { token } = cli.create({ kind: 'agent', id: 'aar-2' });
    assert.deepEqual(hub.verify(token), { kind: 'agent', id: 'aar-2' });
  });

  it('refuses invalid principals', () => {
    const s = new TokenStore(dir);
    assert.throws(() => s.create({ kind: 'system', id: 'x' }));
    assert.throws(() => s.create({ kind: 'agent', id: '../x' }));
  });
});
