import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DirectionsError, loadDirections, parseDirections } from '../../../src/fleet/directions';
import { measureDiversity } from '../../../src/fleet/diversity';
import { tmpDir } from '../../support/tmp';

const FIXTURE = path.join(__dirname, '../../../fixtures/directions.md');

describe('fleet/directions', () => {
  it('parses level-2 headings into directions, ignoring the preamble and fenced code', () => {
    const md = '# Title\npreamble\n## 1. Alpha\nbody a\n```\n## not a heading\n```\n## 2) Beta\nbody b\n';
    const ds = parseDirections(md);
    assert.deepEqual(
      ds.map((d) => d.title),
      ['Alpha', 'Beta'],
    );
    assert.match(ds[0]!.text, /## not a heading/);
    assert.ok(!ds[0]!.text.includes('preamble'));
  });

  it('the fixture has nine distinct directions that are mutually dissimilar', () => {
    const ds = loadDirections(FIXTURE, 9);
    assert.equal(ds.length, 9);
    const r = measureDiversity(ds.map((d, i) => ({ agentId: `agent-${i + 1}`, seq: i + 1, ts: '', kind: 'post' as const, text: d.text })));
    assert.ok(r.overall.meanSimilarity! < 0.2, `mean similarity ${r.overall.meanSimilarity}`);
    assert.equal(r.overall.converged, false);
  });

  it('errors clearly on too few or duplicate directions', () => {
    const { dir, cleanup } = tmpDir();
    try {
      const f = path.join(dir, 'd.md');
      fs.writeFileSync(f, '## A\nsame\n## B\nother\n');
      assert.throws(() => loadDirections(f, 3), (e: Error) => e instanceof DirectionsError && /2 direction\(s\) but 3 agents/.test(e.message));
      fs.writeFileSync(f, '## A\nsame\n## A\nsame\n');
      assert.throws(() => loadDirections(f, 2), /identical/);
      assert.throws(() => loadDirections(path.join(dir, 'missing.md'), 1), /cannot read/);
    } finally {
      cleanup();
    }
  });
});
