// Literal values in code and commands: what "only values differ" means for risk (a re-run of an approved
// commit with new numbers) and for sweeps (proposals grouped when their diffs differ only in literals). Pure.

/** Numbers (ints, floats, exponents, hex) and quoted strings; identifiers and operators are the shape. */
const LITERAL_RE = /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|(?<![A-Za-z_0-9.])[-+]?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![A-Za-z_0-9])/g;
/** The name a literal is the value of: `lr = 3e-4`, `"lr": 3e-4`, `--lr 3e-4`, `--lr=3e-4`, `lr: 3e-4`. */
const NAME_BEFORE_RE = /([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*(?:=|:|\s)\s*$/;

export interface LiteralValue {
  /** The key or flag the value belongs to, when one precedes it ("lr", "seed"); else "#<n>". */
  name: string;
  value: string;
}

/** A line with its literals replaced by a placeholder, and the literals in order. */
export function splitLiterals(line: string): { shape: string; values: LiteralValue[] } {
  const values: LiteralValue[] = [];
  let shape = '';
  let last = 0;
  for (const m of line.matchAll(LITERAL_RE)) {
    // a quoted key ("lr": ...) names a value; it is shape, not a value
    if (/^["']/.test(m[0]) && /^\s*:/.test(line.slice(m.index! + m[0].length))) continue;
    const before = line.slice(last, m.index);
    shape += before + '\u0001';
    const name = NAME_BEFORE_RE.exec(line.slice(0, m.index))?.[1]?.replace(/^-+/, '') ?? `#${values.length + 1}`;
    values.push({ name, value: m[0] });
    last = m.index! + m[0].length;
  }
  shape += line.slice(last);
  return { shape: shape.replace(/\s+/g, ' ').trim(), values };
}

/** Added and removed lines of a unified diff, per file (headers and context dropped). */
export interface PatchLines {
  file: string;
  removed: string[];
  added: string[];
}

export function parsePatch(patch: string): PatchLines[] {
  const out: PatchLines[] = [];
  let cur: PatchLines | undefined;
  for (const line of patch.split('\n')) {
    if (line.startsWith('diff --git ')) {
      const m = / b\/(.*)$/.exec(line);
      cur = { file: m?.[1] ?? line, removed: [], added: [] };
      out.push(cur);
    } else if (!cur || line.startsWith('+++ ') || line.startsWith('--- ')) continue;
    else if (line.startsWith('+')) cur.added.push(line.slice(1));
    else if (line.startsWith('-')) cur.removed.push(line.slice(1));
  }
  return out;
}

/** True when a diff changes nothing but literal values (every changed line keeps its shape). Empty diff → true. */
export function valuesOnly(patch: string): boolean {
  for (const f of parsePatch(patch)) {
    const rm = f.removed.filter((l) => l.trim() !== '');
    const ad = f.added.filter((l) => l.trim() !== '');
    if (rm.length !== ad.length) return false;
    for (let i = 0; i < rm.length; i++) if (splitLiterals(rm[i]!).shape !== splitLiterals(ad[i]!).shape) return false;
  }
  return true;
}

/** The shape of a proposal (its diff against its base plus its command) with the literals taken out, and
 * the literals in order; two proposals with equal shapes differ only in values. */
export function proposalShape(patch: string, command: string): { shape: string; values: LiteralValue[] } {
  const parts: string[] = [];
  const values: LiteralValue[] = [];
  for (const f of parsePatch(patch)) {
    parts.push(`F ${f.file}`);
    for (const l of f.removed) parts.push(`- ${splitLiterals(l).shape}`);
    for (const l of f.added) {
      const s = splitLiterals(l);
      parts.push(`+ ${s.shape}`);
      values.push(...s.values);
    }
  }
  const c = splitLiterals(command);
  parts.push(`$ ${c.shape}`);
  values.push(...c.values);
  return { shape: parts.join('\n'), values };
}
