import * as assert from 'node:assert/strict';
import { assessRisk, byRiskThenAge, type RiskInput } from '../../../src/core/risk';
import { proposalShape, splitLiterals, valuesOnly } from '../../../src/core/literals';
import type { Experiment, ScreeningFinding } from '../../../src/core/model';

const SHA = 'a'.repeat(40);
function exp(over: Partial<Experiment> = {}, findings: ScreeningFinding[] = []): Experiment {
  return {
    id: 'exp-1', agentId: 'a1', title: 't', rationale: 'r', command: 'python train.py --lr 1e-4',
    resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 }, taskMode: 'normal', commit: SHA, tree: SHA,
    state: 'awaiting_review', proposedSeq: 5, proposedAt: '', history: [],
    screening: { gaming: false, score: 0, findings }, ...over,
  };
}
const f = (kind: string, severity: ScreeningFinding['severity'], explanation = kind): ScreeningFinding => ({ kind, severity, file: 'x.py', line: 1, explanation, confidence: 1, source: 'static' });
const clean: RiskInput = { record: { vetoes: 0, openAlerts: 0, runViolations: 0 }, budget: { gpuHours: 100, remainingGpuHours: 100 }, facts: { files: ['train.py'], lines: 10, protectedTouched: [] } };

describe('risk, explained', () => {
  it('a small clean change is low, with its reason in words', () => {
    const r = assessRisk(exp(), clean);
    assert.equal(r.level, 'low');
    assert.match(r.reasons[0]!.text, /new code .*10 lines in 1 file/);
  });
  it('a re-run of an approved commit with only value changes is low', () => {
    const r = assessRisk(exp(), { ...clean, facts: { ...clean.facts!, sinceApproved: { commit: 'b'.repeat(40), valuesOnly: true, lines: 2 } } });
    assert.equal(r.level, 'low');
    assert.match(r.reasons.map((q) => q.text).join('\n'), /re-run of approved commit bbbbbbbbbbbb with only value changes/);
  });
  it('the most severe finding sets the level; capabilities the change adds are medium', () => {
    assert.equal(assessRisk(exp({}, [f('scoring-edit', 'high')]), clean).level, 'high');
    assert.equal(assessRisk(exp({}, [f('label-read', 'critical')]), clean).level, 'critical');
    const caps = assessRisk(exp({}, [f('capability', 'info', 'Adds network: requests.get'), f('capability', 'info', 'Adds process: subprocess.run')]), clean);
    assert.equal(caps.level, 'medium');
    assert.equal(caps.reasons[0]!.text, 'adds network, process (2 sites)');
  });
  it('protected paths, cost, size and the agent record raise the level', () => {
    assert.equal(assessRisk(exp(), { ...clean, facts: { ...clean.facts!, protectedTouched: ['eval/scorer.py'] } }).level, 'high');
    assert.equal(assessRisk(exp(), { ...clean, budget: { gpuHours: 100, remainingGpuHours: 0.5 } }).level, 'high');
    assert.equal(assessRisk(exp({ resources: { gpus: 1, gpuHours: 40, timeLimitMinutes: 30 } }), clean).level, 'medium');
    assert.equal(assessRisk(exp(), { ...clean, facts: { ...clean.facts!, lines: 500 } }).level, 'medium');
    assert.equal(assessRisk(exp(), { ...clean, facts: { ...clean.facts!, lines: 2000 } }).level, 'high');
  });
  it('size is novelty: lines since the agent\'s last approved commit when there is one, else against the base', () => {
    const approved = 'c'.repeat(40);
    // a long-lived branch: 2,000 lines against main, 20 new since what a human approved
    const small = assessRisk(exp(), { ...clean, facts: { ...clean.facts!, lines: 2000, sinceApproved: { commit: approved, valuesOnly: false, lines: 20 } } });
    assert.equal(small.level, 'low');
    assert.match(small.reasons[0]!.text, /^20 lines of new logic since approved commit c{12}$/);
    // 400 new lines since the approved commit: large, whatever the size against the base
    const large = assessRisk(exp(), { ...clean, facts: { ...clean.facts!, lines: 40, sinceApproved: { commit: approved, valuesOnly: false, lines: 400 } } });
    assert.equal(large.level, 'medium');
    assert.match(large.reasons[0]!.text, /^large change: 400 lines since approved commit c{12}$/);
    const huge = assessRisk(exp(), { ...clean, facts: { ...clean.facts!, lines: 40, sinceApproved: { commit: approved, valuesOnly: false, lines: 1600 } } });
    assert.equal(huge.level, 'high');
    // no approved commit yet: against the base
    assert.match(assessRisk(exp(), { ...clean, facts: { ...clean.facts!, lines: 400 } }).reasons[0]!.text, /^large change: 400 lines \(no approved commit of this agent before; 1 file\)$/);
    assert.equal(assessRisk(exp(), { ...clean, record: { vetoes: 0, openAlerts: 1, runViolations: 0 } }).level, 'high');
    assert.equal(assessRisk(exp(), { ...clean, record: { vetoes: 0, openAlerts: 0, runViolations: 1 } }).level, 'medium');
    assert.equal(assessRisk(exp({ screening: undefined }), clean).level, 'medium');
    assert.equal(assessRisk(exp({ screening: { gaming: true, score: 0.9, findings: [] } }), clean).level, 'high');
  });
  it('reasons are stable: same input, same words, most severe first', () => {
    const x = exp({}, [f('capability', 'info', 'Adds network: x'), f('hardcoded', 'low'), f('scoring-edit', 'high')]);
    const a = assessRisk(x, clean);
    const b = assessRisk(structuredClone(x), structuredClone(clean));
    assert.deepEqual(a, b);
    assert.deepEqual(a.reasons.map((q) => q.level), ['high', 'medium', 'low', 'low']);
  });
  it('queue order: risk first, then age', () => {
    const mk = (level: 'low' | 'high', seq: number) => ({ risk: { level, reasons: [] }, proposedSeq: seq });
    const xs = [mk('low', 1), mk('high', 9), mk('high', 3), mk('low', 0)].sort(byRiskThenAge);
    assert.deepEqual(xs.map((x) => `${x.risk.level}${x.proposedSeq}`), ['high3', 'high9', 'low0', 'low1']);
  });
});

describe('literal values', () => {
  it('names the value of keys and flags', () => {
    assert.deepEqual(splitLiterals('python train.py --lr 1e-5 --seed=3').values, [{ name: 'lr', value: '1e-5' }, { name: 'seed', value: '3' }]);
    assert.deepEqual(splitLiterals('  "batch_size": 32,').values, [{ name: 'batch_size', value: '32' }]);
  });
  it('a diff is values only when every changed line keeps its shape', () => {
    const d = (a: string, b: string) => `diff --git a/c.py b/c.py\n--- a/c.py\n+++ b/c.py\n@@ -1 +1 @@\n-${a}\n+${b}\n`;
    assert.equal(valuesOnly(d('lr = 1e-4', 'lr = 3e-5')), true);
    assert.equal(valuesOnly(d('name = "a"', 'name = "b"')), true);
    assert.equal(valuesOnly(d('x = a + 1', 'x = a * 1')), false);
    assert.equal(valuesOnly(d('"lr": 1', '"wd": 1')), false, 'a renamed key is not a value change');
    assert.equal(valuesOnly(`${d('a = 1', 'a = 2')}+extra = 3\n`), false, 'an added line is not a value change');
  });
  it('proposal shapes are equal when only values differ', () => {
    const p = (v: string) => `diff --git a/c.py b/c.py\n--- a/c.py\n+++ b/c.py\n@@ -1 +1 @@\n-lr = 1\n+lr = ${v}\n`;
    assert.equal(proposalShape(p('2'), 'run --seed 1').shape, proposalShape(p('3'), 'run --seed 2').shape);
    assert.notEqual(proposalShape(p('2'), 'run --seed 1').shape, proposalShape(p('2'), 'run --fast 1').shape);
  });
});
