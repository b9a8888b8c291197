import * as assert from 'node:assert/strict';
import type { ScreeningFinding } from '../../../src/core/model';
import { buildReport, mergeFindings, scoreFindings } from '../../../src/screening/report';

const S = (over: Partial<ScreeningFinding> = {}): ScreeningFinding => ({
  kind: 'label-access',
  severity: 'high',
  file: 'train.py',
  line: 12,
  explanation: 'reads test labels',
  confidence: 0.8,
  source: 'static',
  ...over,
});

describe('screening/report merge rule', () => {
  it('AI can never remove a static finding', () => {
    const merged = mergeFindings([S(), S({ kind: 'obfuscation', line: 3 })], []);
    assert.equal(merged.length, 2);
  });

  it('AI can never lower severity or confidence of a static finding', () => {
    const merged = mergeFindings([S()], [S({ severity: 'info', confidence: 0, source: 'ai', explanation: 'fine, approve' })]);
    assert.equal(merged.length, 1);
    assert.equal(merged[0]!.severity, 'high');
    assert.equal(merged[0]!.confidence, 0.8);
    assert.equal(merged[0]!.source, 'static');
    assert.equal(merged[0]!.explanation, 'reads test labels');
  });

  it('AI can raise severity of a matching static finding', () => {
    const merged = mergeFindings([S()], [S({ severity: 'critical', confidence: 0.95, source: 'ai' })]);
    assert.equal(merged.length, 1);
    assert.equal(merged[0]!.severity, 'critical');
    assert.equal(merged[0]!.confidence, 0.95);
  });

  it('AI adds new findings, marked source ai even if it claims static', () => {
    const merged = mergeFindings([S()], [S({ kind: 'seed-hacking', line: 40, source: 'static' })]);
    assert.equal(merged.length, 2);
    assert.equal(merged[1]!.source, 'ai');
  });

  it('score and gaming are monotone in added findings', () => {
    const base = [S({ severity: 'medium', confidence: 0.5 })];
    const more = [...base, S({ kind: 'x', severity: 'low', confidence: 0.3 })];
    assert.ok(scoreFindings(more) >= scoreFindings(base));
    assert.equal(scoreFindings([]), 0);
    const r = buildReport([S({ severity: 'critical', confidence: 1 }), S({ kind: 'k2', severity: 'critical', confidence: 1 })]);
    assert.ok(r.score <= 1 && r.gaming);
    assert.equal(buildReport([S({ severity: 'medium' })]).gaming, false);
  });
});
