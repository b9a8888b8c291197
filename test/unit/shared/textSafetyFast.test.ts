// The fast paths of textSafety (printable ASCII, hidden characters matched within non-ASCII runs only, one
// remembered reveal, cached script sets) must give exactly what the plain definitions give. The reference
// below is the definition of `reveal` written out directly (one Unicode-property match over the whole string).
import assert from 'node:assert/strict';
import { hiddenChars, line, markerFor, nameBadge, nameFindings, reveal, revealText, type RevealOptions } from '../../../src/shared/textSafety';

const HIDDEN = /[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu;
const EMOJI = /\p{Extended_Pictographic}/u;
const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

function referenceReveal(s: string, opts: RevealOptions = {}): string {
  let t = s;
  if (opts.keepNewlines) t = t.replace(/\r\n/g, '\n');
  const ascii = opts.style === 'ascii';
  if (!ascii) {
    t = t.replace(/[\u{e0000}-\u{e007f}]+/gu, (run) => {
      let out = '';
      for (const c of run) {
        const cp = c.codePointAt(0)! - 0xe0000;
        out += cp >= 0x20 && cp < 0x7f ? String.fromCharCode(cp) : `\\x${cp.toString(16).padStart(2, '0')}`;
      }
      return `⟦tags "${out}"⟧`;
    });
  }
  const out = t.replace(HIDDEN, (ch, offset: number, whole: string) => {
    const cp = ch.codePointAt(0)!;
    if (opts.keepNewlines && (ch === '\n' || ch === '\t')) return ch;
    if ((cp === 0x200d || cp === 0xfe0f) && EMOJI.test(whole.slice(Math.max(0, offset - 2), offset)) && (cp === 0xfe0f || EMOJI.test(whole.slice(offset + 1, offset + 3)))) return ch;
    return ascii ? `<${hex(cp)}>` : markerFor(ch);
  });
  return ascii ? out : out.replace(/(⟦[A-Z]*\s?U\+[0-9A-F]{4,6}⟧)\1{2,}/g, (run, m: string) => `${m.slice(0, -1)} ×${run.length / m.length}⟧`);
}

// Characters that meet every branch: printable ASCII, controls, CR/LF/TAB, bidi, zero-width, emoji with ZWJ and
// VS16, lone and paired surrogates, tag characters, Cyrillic and Greek look-alikes, and literal marker text.
const PIECES = ['a', 'Z', ' ', '  ', '.', '-', '7', '\n', '\r\n', '\t', '\x1b', '\x00', '\u202e', '\u200b', '\u200d', '\ufe0f', '\ud83d\ude00', '\ud83d', '\ude00', '\u{e0069}', '\u{e0067}', '\u{e007f}', '\u0430', '\u03bf', '\u00e9', '\u00ad', '\ufeff', '⟦ZWSP U+200B⟧', '日本'];

function* randomStrings(n: number, seed: number): Generator<string> {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x);
  for (let i = 0; i < n; i++) {
    let s = '';
    const len = next() % 12;
    for (let k = 0; k < len; k++) s += PIECES[next() % PIECES.length];
    yield s;
  }
}

describe('textSafety fast paths give what the definitions give', () => {
  it('reveal matches the direct definition on 4,000 generated strings, in every style', () => {
    for (const s of randomStrings(4000, 7)) {
      for (const opts of [{}, { keepNewlines: true }, { style: 'ascii' as const }, { keepNewlines: true, style: 'ascii' as const }]) {
        // the fast paths agree with the definition; where no terminal sequence can start (no ESC, CR, BEL or C1
        // control), the definition is the plain one written out above
        assert.equal(reveal(s, opts), revealText(s, opts), `${JSON.stringify(s)} ${JSON.stringify(opts)}`);
        if (!/[\u001b\r\u0007\u0080-\u009f]/.test(s)) assert.equal(reveal(s, opts), referenceReveal(s, opts), `${JSON.stringify(s)} ${JSON.stringify(opts)}`);
      }
    }
  });

  it('the remembered reveal never answers for other options or another string', () => {
    const s = 'x\u202ey\n';
    assert.equal(reveal(s), 'x⟦RLO U+202E⟧y⟦LF U+000A⟧');
    assert.equal(reveal(s, { keepNewlines: true }), 'x⟦RLO U+202E⟧y\n');
    assert.equal(reveal(s, { style: 'ascii' }), 'x<U+202E>y<U+000A>');
    assert.equal(reveal('x\u202ez'), 'x⟦RLO U+202E⟧z');
    assert.equal(reveal(s), 'x⟦RLO U+202E⟧y⟦LF U+000A⟧');
  });

  it('line: printable ASCII is collapsed, trimmed and capped like everything else', () => {
    assert.equal(line('  a   b  '), 'a b');
    assert.equal(line('abcdef', 4), 'abc…');
    assert.equal(line('a\u202eb   c'), 'a⟦RLO U+202E⟧b c');
    // literal marker text typed by an agent is still counted, as before
    assert.equal(line('⟦ZWSP U+200B⟧⟦ZWSP U+200B⟧⟦ZWSP U+200B⟧'), '⟦ZWSP U+200B ×3⟧');
  });

  it('names: ASCII has no findings; a hidden character, a look-alike or mixed scripts still do', () => {
    assert.deepEqual(nameFindings('Try pseudo labels, lr=1e-5 (v2)', 'title'), []);
    assert.deepEqual(hiddenChars('plain ascii ~!'), []);
    assert.deepEqual(hiddenChars('a\u200bb').map((h) => h.cp), [0x200b]);
    assert.equal(nameBadge('ma\u200Bin', 'branch'), '⚠ invisible characters');
    assert.equal(nameBadge('p\u0430ypal', 'agent'), '⚠ mixed scripts · look-alike letters');
    // an invisible character beside a look-alike: both reported (the token check still runs)
    assert.deepEqual(nameFindings('\u200bp\u0430ypal', 'title').map((f) => f.kind), ['hidden-characters', 'mixed-script', 'confusable']);
    // the same letter twice (the script cache) gives the same answer
    assert.deepEqual(nameFindings('p\u0430yp\u0430l', 'file').map((f) => f.kind), ['mixed-script', 'confusable']);
  });
});
