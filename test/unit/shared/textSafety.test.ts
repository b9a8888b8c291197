import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import CONFUSABLES from 'unhomoglyph/data.json';
import {
  block, confusableWith, escapeIcons, forPrompt, hasHidden, isMixedScript, line, linkInfo, logText, lookalikeGroups,
  nameBadge, nameFindings, reveal, skeleton, stripEscapes, terminalBlock, terminalLine,
} from '../../../src/shared/textSafety';
import { HIDDEN_LINK, TERMINAL_CORPUS } from '../../support/terminalCorpus';

// Every character class an agent can hide, each inside an otherwise ordinary name.
export const HIDDEN_CORPUS: [string, string][] = [
  ['zero-width space', 'main\u200B'],
  ['zero-width non-joiner', 'ma\u200Cin'],
  ['zero-width joiner', 'ma\u200Din'],
  ['word joiner', 'ma\u2060in'],
  ['BOM', '\uFEFFmain'],
  ['soft hyphen', 'ma\u00ADin'],
  ['combining grapheme joiner', 'ma\u034Fin'],
  ['RLO', 'README_\u202Edm.py'],
  ['LRO', 'a\u202Db'],
  ['RLE', 'a\u202Bb'],
  ['PDF', 'a\u202Cb'],
  ['RLI', 'a\u2067b'],
  ['FSI', 'a\u2068b'],
  ['PDI', 'a\u2069b'],
  ['RLM', 'a\u200Fb'],
  ['ALM', 'a\u061Cb'],
  ['tag characters', 'Faster eval\u{E0069}\u{E0067}\u{E006E}\u{E006F}\u{E0072}\u{E0065}'],
  ['cancel tag', 'x\u{E007F}'],
  ['variation selector', 'a\uFE00b'],
  ['variation selector supplement', 'a\u{E0100}b'],
  ['Hangul filler', 'a\u3164b'],
  ['Mongolian vowel separator', 'a\u180Eb'],
  ['interlinear annotation', 'a\uFFF9b\uFFFAc\uFFFB'],
  ['line separator', 'a\u2028b'],
  ['NUL', 'a\u0000b'],
  ['ESC', 'a\u001b[2Jb'],
  ['BEL', 'a\u0007b'],
  ['backspace', 'approved\u0008\u0008\u0008'],
  ['carriage return', 'ok\rEVIL'],
  ['C1 CSI', 'a\u009Bb'],
  ['DEL', 'a\u007Fb'],
  ['lone surrogate', 'a\uD800b'],
];

describe('textSafety: hidden characters become visible markers', () => {
  for (const [what, s] of HIDDEN_CORPUS) {
    it(`${what}: marked, never removed`, () => {
      const shown = reveal(s);
      assert.match(shown, /⟦[^⟧]+⟧/, shown);
      assert.ok(hasHidden(s), 'hasHidden');
      // Nothing disappears: every visible character of the input is still there, in order (a terminal
      // sequence's own parameters are what its marker describes: `⟦erase screen⟧` for ESC[2J).
      const visible = [...stripEscapes(s)].filter((c) => /[A-Za-z0-9_.]/.test(c)).join('');
      const kept = [...shown.replace(/⟦[^⟧]+⟧/g, '')].filter((c) => /[A-Za-z0-9_.]/.test(c)).join('');
      assert.equal(kept, visible);
    });
  }

  it('names the common ones and keeps the code point', () => {
    assert.equal(line('main\u200B'), 'main⟦ZWSP U+200B⟧');
    assert.equal(line('README_\u202Edm.py'), 'README_⟦RLO U+202E⟧dm.py');
    assert.equal(reveal('a\u2067b'), 'a⟦RLI U+2067⟧b');
  });

  it('counts a run of one hidden character in one marker', () => {
    assert.equal(reveal(`a${'\u200B'.repeat(500)}b`), 'a⟦ZWSP U+200B ×500⟧b');
    assert.equal(reveal('a\u200B\u200Bb'), 'a⟦ZWSP U+200B⟧⟦ZWSP U+200B⟧b');
    assert.equal(forPrompt('\u202E'.repeat(3)), '⟦RLO U+202E ×3⟧');
  });

  it('decodes a run of tag characters so the hidden text is readable', () => {
    assert.equal(line('T\u{E0069}\u{E0067}\u{E006E}\u{E006F}\u{E0072}\u{E0065}'), 'T⟦tags "ignore"⟧');
    assert.match(forPrompt('x\u{E0041}\u{E0050}\u{E0050}'), /⟦tags "APP"⟧/);
  });

  it('keeps newlines in blocks and emoji sequences whole; plain text is unchanged', () => {
    assert.equal(block('one\ntwo\u200B'), 'one\ntwo⟦ZWSP U+200B⟧');
    assert.equal(reveal('👨‍👩‍👧 ❤️'), '👨‍👩‍👧 ❤️');
    assert.equal(hasHidden('👨‍👩‍👧 ❤️'), false);
    for (const s of ['main', 'Обучение модели', 'データ分析', 'naïve café', 'a\tb']) assert.equal(hasHidden(s), false, s);
    assert.equal(line('a\tb\nc'), 'a b c');
  });

  it('caps long strings without splitting a surrogate pair', () => {
    const s = line('😀'.repeat(300), 101);
    assert.ok(s.length <= 101);
    assert.doesNotMatch(s, /[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});

describe('textSafety: terminals and run logs', () => {
  it('stripEscapes removes escape sequences with their parameters (OSC titles and hyperlinks, CSI)', () => {
    const raw = '\u001b]0;owned title\u0007\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\ \u001b[1;31mred\u001b[0m \u001bPq#0;2\u001b\\done';
    assert.equal(stripEscapes(raw), 'click red done');
  });

  it('log text: sequences say what they would have done, colours dropped, CR rewrites marked and kept as lines', () => {
    const raw = '\u001b]0;owned title\u0007\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\ \u001b[1;31mred\u001b[0m \u001bPq#0;2\u001b\\done';
    assert.equal(logText(raw), '⟦title: owned title⟧⟦link → evil.example⟧click⟦/link⟧ red ⟦terminal string DCS: "q#0;2"⟧done');
    assert.equal(logText('10%\r50%\r\n'), '10%⟦CR⟧\n50%\n');
    assert.equal(logText('a\u0007b\u202Ec\n'), 'a⟦BEL U+0007⟧b⟦RLO U+202E⟧c\n');
  });

  it('terminal output: sequences as markers, other controls with ASCII brackets', () => {
    assert.equal(terminalLine('a\u001b[2Jb\nc'), 'a⟦erase screen⟧b<U+000A>c');
    assert.equal(terminalBlock('a\nb\rc'), 'a\nb⟦CR⟧c');
    assert.equal(terminalLine('t\u{E0041}\u{E0042}'), 't<U+E0041><U+E0042>');
  });
});

describe('textSafety: terminal control sequences become markers that say what they would have done', () => {
  for (const c of TERMINAL_CORPUS) {
    it(c.what, () => {
      for (const [surface, shown] of [
        ['line (tree labels, titles)', line(c.raw, 500)],
        ['block (tooltips, prose)', block(c.raw).trimEnd()],
        ['reveal (webviews)', reveal(c.raw, { keepNewlines: true }).trimEnd()],
        ['terminal line (CLI)', terminalLine(c.raw).trimEnd()],
        ['terminal block (CLI)', terminalBlock(c.raw).trimEnd()],
        ['prompt (AI reviewer)', forPrompt(c.raw).trimEnd()],
      ] as const) {
        assert.equal(shown, c.shown, surface);
        assert.doesNotMatch(shown, /[\u001b\u0007\u009b\u009c\u009d\r]/, `${surface}: no raw control`);
        if (c.absent) assert.doesNotMatch(shown, c.absent, `${surface}: the hidden target is not shown as a URL`);
      }
      assert.ok(hasHidden(c.raw), 'hasHidden');
    });
  }

  it('a run log keeps the visible text and names the hidden target host; colours are dropped, not marked', () => {
    assert.equal(logText(`${HIDDEN_LINK}\n`), '⟦link → evil.example⟧https://docs.example/guide⟦/link⟧\n');
    assert.equal(logText('\u001b[1;32mPASSED\u001b[0m\n'), 'PASSED\n');
    assert.equal(reveal('\u001b[31mred'), '⟦colour 31⟧red', 'outside logs a colour is marked too');
  });

  it('a flood of one sequence is one marker with its count', () => {
    assert.equal(logText(`a${'\u001b[1A'.repeat(40)}b`), 'a⟦cursor up 1 ×40⟧b');
  });

  it('a carriage return in a commit subject (one line) is a marker, not a space', () => {
    assert.equal(line('Fix typo\rrm -rf ~'), 'Fix typo⟦CR⟧rm -rf ~');
    assert.equal(line('a\r\nb'), 'a b', 'CRLF is a line break');
    assert.deepEqual(nameFindings('Fix typo\rrm -rf ~', 'title').map((f) => f.kind), ['hidden-characters']);
  });

  it('a payload spanning lines stays inside its one-line marker', () => {
    assert.equal(block('\u001b]0;a\nb\tc'), '⟦title: a\\nb\\tc (unterminated)⟧');
  });

  it('hidden characters inside a sequence are marked inside its marker', () => {
    assert.equal(line('\u001b]0;build\u202Egnp.exe\u0007'), '⟦title: build⟦RLO U+202E⟧gnp.exe⟧');
    assert.equal(terminalLine('\u001b]2;a\u200Bb\u0007'), '⟦title: a<U+200B>b⟧');
  });

  it('an agent cannot close a marker early from inside a sequence', () => {
    assert.equal(line('\u001b]0;x⟧ all good ⟦y\u0007'), '⟦title: x] all good [y⟧');
  });
});

describe('textSafety: mixed scripts and confusables (TR39)', () => {
  it('flags a Cyrillic homoglyph in a file name', () => {
    const f = nameFindings('src/eval_cli\u0435nt.py', 'file');
    assert.deepEqual(f.map((x) => x.kind), ['mixed-script', 'confusable']);
    assert.match(f[1]!.message, /Cyrillic 'е' \(U\+0435\) looks like 'e'/);
    assert.equal(nameBadge('eval_cli\u0435nt.py', 'file'), '⚠ mixed scripts · look-alike letters');
  });

  it('flags a whole-script confusable (every letter reads as ASCII)', () => {
    assert.deepEqual(nameFindings('\u0441\u043E\u0435', 'branch').map((x) => x.kind), ['confusable']);
  });

  it('flags hidden characters in names by kind', () => {
    assert.deepEqual(nameFindings('main\u200B', 'branch').map((x) => x.kind), ['hidden-characters']);
    assert.deepEqual(nameFindings('README_\u202Edm.py', 'file').map((x) => x.kind), ['bidi-control']);
    assert.deepEqual(nameFindings('Fast\u{E0041}', 'title').map((x) => x.kind), ['tag-characters']);
  });

  it('leaves honest names alone: ASCII, one non-Latin script, Japanese with Latin, titles mixing languages by word', () => {
    for (const [n, k] of [
      ['eval_client.py', 'file'], ['feature/try-lora', 'branch'], ['alice', 'agent'], ['Обучение', 'agent'],
      ['データ分析 with LoRA', 'title'], ['Run на GPU', 'title'], ['naïve_café.py', 'file'], ['Ελληνικά', 'agent'],
    ] as const) assert.deepEqual(nameFindings(n, k), [], n);
  });

  it('mixed-script follows TR39 highly restrictive', () => {
    assert.equal(isMixedScript('paypal'), false);
    assert.equal(isMixedScript('p\u0430ypal'), true);
    assert.equal(isMixedScript('Tokyo東京とうきょう'), false);
    assert.equal(isMixedScript('αβγabc'), true);
  });

  it('skeletons make look-alikes equal (data from Unicode confusables.txt)', () => {
    assert.equal(skeleton('eval_cli\u0435nt.py'), skeleton('eval_client.py'));
    assert.ok(confusableWith('main', 'main\u200B'));
    assert.ok(confusableWith('paypal', 'p\u0430yp\u0430l'));
    assert.equal(confusableWith('main', 'dev'), false);
    assert.deepEqual(lookalikeGroups(['main', 'ma\u0456n', 'dev', 'main\u200B']), [['main', 'ma\u0456n', 'main\u200B']]);
  });
});

describe('textSafety: icons and links', () => {
  it('escapes $(icon) syntax once', () => {
    assert.equal(escapeIcons('$(check) Approved'), '\\$(check) Approved');
    assert.equal(escapeIcons('\\$(x) $(pass-filled)'), '\\$(x) \\$(pass-filled)');
    assert.equal(escapeIcons('costs $5 (est)'), 'costs $5 (est)');
  });

  it('names the real host and notices link text naming another', () => {
    assert.deepEqual(linkInfo('https://evil.example/x', 'https://github.com/org/repo'), { shown: 'https://evil.example/x', host: 'evil.example', safe: true, mismatch: true });
    assert.equal(linkInfo('https://github.com/a', 'github.com/a').mismatch, false);
    assert.equal(linkInfo('https://github.com/a', 'the paper').mismatch, false);
    assert.equal(linkInfo('https://user:pw@x.example/').safe, false);
    assert.equal(linkInfo('javascript:alert(1)').safe, false);
    assert.equal(linkInfo('https://ex\u200Bample.com').safe, false);
    assert.equal(linkInfo('https://xn--80ak6aa92e.com/').host, 'xn--80ak6aa92e.com');
    assert.equal(linkInfo('https://аррӏе.com/').host, 'xn--80ak6aa92e.com');
  });
});

describe('textSafety: measured on generated spoofs and on honest names', () => {
  it('flags every single-letter confusable substitution (TR39 data) in common names, and no file of this repository', () => {
    // Every non-ASCII letter whose TR39 prototype is an ASCII letter, substituted into each position.
    const inv = new Map<string, string[]>();
    for (const [k, v] of Object.entries(CONFUSABLES as Record<string, string>)) {
      if (/^[a-z]$/i.test(v) && [...k].length === 1 && k.charCodeAt(0) > 0x7f && /\p{L}/u.test(k)) inv.set(v, [...(inv.get(v) ?? []), k]);
    }
    let total = 0;
    const missed: string[] = [];
    for (const n of ['eval_client.py', 'main', 'train.py', 'labels.npy', 'alice', 'README.md', 'config.yaml', 'score.py']) {
      for (let i = 0; i < n.length; i++) {
        for (const c of inv.get(n[i]!) ?? []) {
          const spoof = n.slice(0, i) + c + n.slice(i + 1);
          total++;
          if (!nameFindings(spoof, 'file').length) missed.push(spoof);
        }
      }
    }
    assert.ok(total > 1000, `only ${total} spoofs generated`);
    assert.deepEqual(missed, []);
    const files = execFileSync('git', ['ls-files'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    assert.ok(files.length > 100);
    assert.deepEqual(files.filter((f) => nameFindings(f, 'file').length > 0 || hasHidden(f)), []);
  });
});
