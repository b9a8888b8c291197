import assert from 'node:assert/strict';
import { nameWarnings, pickText, plain, plainBlock, plainName } from '../../../src/host/text';
import { experimentView } from '../../../src/host/trees/queueModel';
import { JOB_LINE, RunLogText } from '../../../src/host/runLogText';
import type { Experiment } from '../../../src/core/model';

describe('host text: agent strings in trees, tooltips and quick picks', () => {
  it('marks hidden characters instead of deleting them', () => {
    assert.equal(plain('main\u200B'), 'main⟦ZWSP U+200B⟧');
    assert.notEqual(plain('main\u200B'), plain('main'));
    assert.equal(plain('README_\u202Edm.py'), 'README_⟦RLO U+202E⟧dm.py');
    assert.equal(plainBlock('a\nb\u2066'), 'a\nb⟦LRI U+2066⟧');
  });

  it('badges deceptive names and explains them in tooltips', () => {
    assert.equal(plainName('eval_cli\u0435nt.py', 'file'), 'eval_cli\u0435nt.py ⚠ mixed scripts · look-alike letters');
    assert.equal(plainName('eval_client.py', 'file'), 'eval_client.py');
    assert.match(nameWarnings('eval_cli\u0435nt.py', 'file').join('\n'), /Cyrillic 'е' \(U\+0435\) looks like 'e'/);
  });

  it('escapes $(icon) syntax for quick picks', () => {
    assert.equal(pickText('$(pass-filled) Approved by overseer'), '\\$(pass-filled) Approved by overseer');
  });

  it('the queue item of a hostile proposal shows markers and warnings', () => {
    const x = {
      id: 'exp-1', agentId: 'alice', title: 'Tune lr\u{E0061}\u{E0070}\u{E0070}', branch: 'main\u200B', commit: 'a'.repeat(40), command: 'python train.py',
      state: 'awaiting_review', resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 60 },
    } as unknown as Experiment;
    const v = experimentView(x);
    assert.equal(v.label, 'Tune lr⟦tags "app"⟧ ⚠ hidden tags');
    assert.match(v.tooltip, /on main⟦ZWSP U\+200B⟧/);
    assert.match(v.tooltip, /⚠ branch name contains invisible characters/);
  });
});

describe('host run log text', () => {
  it('marks OSC/CSI sequences (colours dropped), drops the wrapper job-control lines, keeps agent output', () => {
    const t = new RunLogText();
    let out = t.push('\u001b]0;pwned\u0007epoch 1 \u001b[32mok\u001b[0m\n[1]- Done                    bash -c "python tr');
    out += t.push('ain.py"\n[1]+ Done bash -c "x"\nagent says [1]+ Done bash -c fine\nlast');
    out += t.end();
    assert.equal(out, '⟦title: pwned⟧epoch 1 ok\nagent says [1]+ Done bash -c fine\nlast');
  });

  it('a hidden hyperlink split over chunks names its target host; a CR progress rewrite is marked', () => {
    const t = new RunLogText();
    let out = t.push('see \u001b]8;;https://evil.example/x\u001b\\https://docs.exa');
    assert.equal(out, '', 'held until its line ends');
    out += t.push('mple/\u001b]8;;\u001b\\\n 10%\r');
    out += t.push('\n 50%\r 90%\n');
    assert.equal(out, 'see ⟦link → evil.example⟧https://docs.example/⟦/link⟧\n 10%\n 50%⟦CR⟧\n 90%\n');
  });

  it('marks controls that are not escape sequences', () => {
    const t = new RunLogText();
    assert.equal(t.push('a\u0008b\u202Ec\n'), 'a⟦BS U+0008⟧b⟦RLO U+202E⟧c\n');
  });

  it('recognises the wrapper notices bash prints', () => {
    for (const l of ['[1]+  Done                    bash -c "$cmd" < /dev/null', '[2]- Exit 1 bash "$launch" "$cmd"', '[1]+  Killed                  bash -c x']) assert.ok(JOB_LINE.test(l), l);
    for (const l of ['Done bash -c x', '[1] Done', 'epoch [1]+ Done bash -c x']) assert.equal(JOB_LINE.test(l), false, l);
  });
});
