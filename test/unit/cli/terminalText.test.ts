import * as assert from 'node:assert/strict';
import { firstLine, safeBlock, safeJson, safeLine, safeLines } from '../../../src/cli/terminalText';
import { TERMINAL_CORPUS } from '../../support/terminalCorpus';

describe('terminalText', () => {
  it('shows escape sequences as what they would do and C0/C1 controls as markers', () => {
    assert.equal(safeLine('a\u001b[2Jb\u0007'), 'a⟦erase screen⟧b<U+0007>');
    assert.equal(safeLine('\u009b31m'), '⟦colour 31⟧', 'the 8-bit CSI too');
    assert.equal(safeLine('x\u007f'), 'x<U+007F>');
    assert.equal(safeLine('one\ntwo\tthree\r'), 'one<U+000A>two<U+0009>three⟦CR⟧');
    assert.equal(safeLine('lone \u001b'), 'lone <U+001B>', 'an ESC that starts no sequence');
  });
  for (const c of TERMINAL_CORPUS) {
    it(`terminal sequence: ${c.what}`, () => {
      for (const shown of [safeLine(c.raw), safeBlock(c.raw)]) {
        assert.equal(shown.trimEnd(), c.shown);
        assert.doesNotMatch(shown, /[\u001b\u0007\u009b\u009c\u009d\r]/);
        if (c.absent) assert.doesNotMatch(shown, c.absent);
      }
    });
  }
  it('makes bidi controls, zero-width and invisible characters visible', () => {
    assert.equal(safeLine('abc\u202etxt.exe'), 'abc<U+202E>txt.exe');
    assert.equal(safeLine('\u2066x\u2069\u200f\u061c'), '<U+2066>x<U+2069><U+200F><U+061C>');
    assert.equal(safeLine('ad\u200bmin\ufeff\u2060\u00ad'), 'ad<U+200B>min<U+FEFF><U+2060><U+00AD>');
    assert.equal(safeLine('tag\u{E0041}'), 'tag<U+E0041>', 'tag characters as one code point');
    assert.equal(safeLine('lone \ud800 surrogate'), 'lone <U+D800> surrogate');
  });
  it('leaves ordinary text alone, emoji and non-Latin scripts included', () => {
    const s = 'PGR 0.42 ✓ 日本語 עברית 😀 — ok';
    assert.equal(safeLine(s), s);
    assert.equal(safeLine(undefined), '');
    assert.equal(safeLine(42), '42');
  });
  it('blocks keep newlines and tabs but not carriage returns', () => {
    assert.equal(safeBlock('a\n\tb\r\nc\rd\u001b[A'), 'a\n\tb\nc⟦CR⟧d⟦cursor up 1⟧');
  });
  it('multi-line text becomes indented lines: a newline is a line break, never a <U+000A> marker', () => {
    assert.deepEqual(safeLines('Title\n\nFirst paragraph\r\nsecond line\n', '    '), ['    Title', '', '    First paragraph', '    second line']);
    const out = safeLines('a\u001b[2J\u202eb\rc\u200b\nd', '  ');
    assert.deepEqual(out, ['  a⟦erase screen⟧<U+202E>b⟦CR⟧c<U+200B>', '  d'], 'terminal sequences, bidi, lone CR and invisible characters still become markers');
    assert.ok(!out.join('\n').includes('<U+000A>'));
    assert.deepEqual(safeLines(''), []);
    assert.deepEqual(safeLines(undefined), []);
  });
  it('firstLine: the title of a multi-line text and whether more follows', () => {
    assert.deepEqual(firstLine('Confidence loss\n\nAdd a term'), { line: 'Confidence loss', more: true });
    assert.deepEqual(firstLine('one line'), { line: 'one line', more: false });
    assert.deepEqual(firstLine('title\r\n  \n'), { line: 'title', more: false });
  });
  it('JSON parses to the same value and carries no raw unsafe character', () => {
    const v = { t: 'x\u001b]0;t\u0007 \u202e \u0085 \u200b', n: [1, 'two\nlines'] };
    const j = safeJson(v);
    assert.ok(!/[\u001b\u0007\u202e\u0085\u200b]/.test(j));
    assert.deepEqual(JSON.parse(j), v);
  });
});
