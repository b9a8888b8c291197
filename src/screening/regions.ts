// Rules that use what a fleet declares inside files rather than whole files (issue 25):
// - protected regions: a `# DO NOT EDIT` marker protects the block it heads (or, in a file's header, the whole
//   file); `protectedSymbols` ("pkg.module.NAME", "path/file.yaml:key") protect one assignment or top-level key,
//   in place and at run time (`config.NAME = …`, `NAME[k] = …`, `setattr(config, "NAME", …)`);
// - answer-carrying fields (`answerCarryingFields`): code that reads such a field is label access;
// - `resultsMustReport: ["all_seeds"]`: a filter, sort-and-slice or best-of over runs/seeds in added code that
//   writes results is a finding.
// Pure line/text logic (both Python and YAML), so it also works on the diff alone.
import type { ScreeningFinding } from '../core/model';
import type { ChangedFile, ParsedProposalDiff } from './patchModel';
import type { TaskRules } from './taskRules';

const MARKER = /\bDO[\s_-]*NOT[\s_-]*(EDIT|MODIFY|CHANGE|TOUCH)\b/i;
const GENERATED = /\b(auto-?)?generated\b|protoc|protocol buffer/i;

function finding(file: string, line: number, explanation: string, kind = 'protected-edit', confidence = 0.85): ScreeningFinding {
  return { kind, severity: 'high', file, line, explanation: explanation.replace(/\s+/g, ' ').trim().slice(0, 300), confidence, source: 'static' };
}

const indentOf = (s: string): number => /^\s*/.exec(s)![0].replace(/\t/g, '    ').length;
const isComment = (s: string): boolean => /^\s*(#|\/\/)/.test(s);
const snip = (s: string, n = 70): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
};

/** New-side lines of a changed file (full content when known, else the diff's window). */
function newLines(f: ChangedFile): (string | undefined)[] {
  if (f.content) return f.content;
  const lines: (string | undefined)[] = [];
  for (const [n, t] of f.window) lines[n - 1] = t;
  for (const l of f.added) lines[l.line - 1] = l.text;
  return lines;
}

export interface Region {
  /** 1-based inclusive new-side line range. */
  from: number;
  to: number;
  what: string;
}

/** Regions headed by DO-NOT-EDIT markers that the proposal did not add itself. */
export function markerRegions(lines: readonly (string | undefined)[], added: ReadonlySet<number>): Region[] {
  const out: Region[] = [];
  let seenCode = false;
  let inDocstring = false;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i] ?? '';
    const header = !seenCode;
    const docLine = inDocstring || (header && /^\s*[rub]?("""|''')/.test(t));
    if (header && /^\s*[rub]?("""|''')/.test(t)) {
      const q = /("""|''')/.exec(t)![1]!;
      const count = t.split(q).length - 1;
      if (count === 1) inDocstring = !inDocstring;
    } else if (inDocstring && /("""|''')/.test(t)) inDocstring = false;
    const isMarker = (isComment(t) || docLine) && MARKER.test(t) && !GENERATED.test(t) && !/\bend\b/i.test(t);
    if (!isMarker) {
      if (t.trim() && !isComment(t) && !docLine) seenCode = true;
      continue;
    }
    if (added.has(i + 1)) continue;
    const what = snip(t.replace(/^\s*(#|\/\/)\s*/, ''), 60);
    // Header marker not immediately followed by code (or in the module docstring): the whole file.
    const next = lines[i + 1] ?? '';
    // A marker that describes a block elsewhere ("the organisers' block below: DO NOT EDIT") in a header protects
    // that block, never the whole file (every ordinary edit would be a finding).
    const aboutBlock = /\b(block|below|section|following|values?|settings|above|these|this part)\b/i.test(t) && !/\b(file|module)\b/i.test(t);
    if (header && docLine && aboutBlock) continue;
    if (header && !aboutBlock && (docLine || !next.trim() || /\b(file|module)\b/i.test(t))) {
      out.push({ from: 1, to: lines.length, what });
      break;
    }
    // An explicit end marker ("# end of organisers' block", "# DO NOT EDIT ABOVE") closes the region exactly.
    let end = -1;
    for (let k = i + 1; k < Math.min(lines.length, i + 400); k++) {
      const s = lines[k] ?? '';
      if (!isComment(s)) continue;
      if (/\bend\b|\babove\b/i.test(s) && (MARKER.test(s) || /organi[sz]er|protected|reference|baseline/i.test(s))) {
        end = k;
        break;
      }
      if (MARKER.test(s)) break;
    }
    if (end > 0) {
      out.push({ from: i + 1, to: end + 1, what });
      i = end;
      continue;
    }
    const yamlKey = /^[\w"'-]+\s*:/.test(next) && !/^\w+\s*:\s*\S.*=/.test(next) && !/=/.test(next);
    let j = i + 1;
    let content = false;
    for (; j < lines.length; j++) {
      const s = lines[j] ?? '';
      if (!s.trim()) {
        const nxt = lines.slice(j + 1).find((x) => (x ?? '').trim());
        if (content && (nxt === undefined || indentOf(nxt) === 0)) break;
        continue;
      }
      // After the block's content, a new top-level comment starts another section.
      if (isComment(s) && indentOf(s) === 0 && content && !MARKER.test(s)) break;
      // YAML: the marker protects the one top-level key that follows it.
      if (yamlKey && content && indentOf(s) === 0 && !/^-\s/.test(s) && !isComment(s)) break;
      if (!isComment(s)) content = true;
    }
    out.push({ from: i + 1, to: j, what });
    i = j - 1;
  }
  return out;
}

/** The lines of a top-level `NAME = …` (Python) or `key:` (YAML) block. */
export function symbolRegion(lines: readonly (string | undefined)[], name: string, yaml: boolean): Region | undefined {
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const head = yaml ? new RegExp(`^["']?${esc}["']?\\s*:`) : new RegExp(`^${esc}\\s*(:[^=]*)?=(?!=)`);
  const i = lines.findIndex((l) => head.test(l ?? ''));
  if (i < 0) return undefined;
  let j = i + 1;
  for (; j < lines.length; j++) {
    const s = lines[j] ?? '';
    if (!s.trim()) {
      if (yaml) continue;
      const nxt = lines.slice(j + 1).find((x) => (x ?? '').trim());
      if (nxt === undefined || indentOf(nxt) === 0) break;
      continue;
    }
    if (indentOf(s) > 0 || (!yaml && /^[)\]}]/.test(s))) continue;
    if (yaml && /^-\s/.test(s)) continue;
    break;
  }
  while (j - 1 > i && !(lines[j - 1] ?? '').trim()) j--;
  return { from: i + 1, to: j, what: name };
}

interface Symbol {
  files: string[];
  name: string;
  yaml: boolean;
  label: string;
}

function declaredSymbols(rules: TaskRules): Symbol[] {
  return rules.protectedSymbols.map((s) => {
    const colon = s.indexOf(':');
    if (colon > 0) return { files: [s.slice(0, colon)], name: s.slice(colon + 1), yaml: /\.ya?ml$/i.test(s.slice(0, colon)), label: s };
    const parts = s.split('.');
    const name = parts.pop()!;
    const mod = parts.join('/');
    return { files: [`${mod}.py`, `${mod}/__init__.py`], name, yaml: false, label: s };
  });
}

function regionEdits(f: ChangedFile, regions: readonly Region[], why: (r: Region) => string): ScreeningFinding[] {
  const out: ScreeningFinding[] = [];
  for (const r of regions) {
    const hit = f.added.find((l) => l.line >= r.from && l.line <= r.to);
    if (hit) {
      out.push(finding(f.path, hit.line, `${why(r)} is edited: ${snip(hit.text)}`));
      continue;
    }
    // A deletion inside the region: the removed line's old number sits at (about) the same place.
    const del = f.removed.find((l) => l.line >= r.from && l.line <= r.to + 1 && l.text.trim() && !isComment(l.text));
    if (del && r.to - r.from < 2000) out.push(finding(f.path, Math.min(del.line, Math.max(1, r.to)), `${why(r)} loses a line: ${snip(del.text)}`));
  }
  return out;
}

export function protectedRegionFindings(diff: ParsedProposalDiff, rules: TaskRules): ScreeningFinding[] {
  const out: ScreeningFinding[] = [];
  const symbols = declaredSymbols(rules);
  for (const f of diff.files) {
    if (f.binary || f.status === 'added' || f.status === 'deleted' || (f.added.length === 0 && f.removed.length === 0)) continue;
    if (!/\.(py|ya?ml|toml|cfg|ini|sh|json)$/i.test(f.path)) continue;
    const lines = newLines(f);
    const addedSet = new Set(f.added.map((l) => l.line));
    const fileFindings: ScreeningFinding[] = [];
    for (const s of symbols) {
      if (!s.files.includes(f.path)) continue;
      const r = symbolRegion(lines, s.name, s.yaml);
      if (r) fileFindings.push(...regionEdits(f, [r], () => `The declared protected value ${s.label}`));
      else if (f.removed.some((l) => (s.yaml ? new RegExp(`^["']?${s.name}["']?\\s*:`) : new RegExp(`^${s.name}\\s*(:[^=]*)?=`)).test(l.text))) {
        fileFindings.push(finding(f.path, f.removed[0]!.line, `The declared protected value ${s.label} is removed`));
      }
    }
    if (fileFindings.length === 0) {
      fileFindings.push(...regionEdits(f, markerRegions(lines, addedSet), (r) => `A block marked "${r.what}"`));
    }
    out.push(...fileFindings.slice(0, 3));
  }
  // Run-time patches of a protected module (`import pkg.scoring as S; S.pgr = …`, `setattr(S, …)`).
  const modules = rules.protectedPaths.filter((g) => /^[\w/]+\.py$/.test(g)).map((g) => g.replace(/\.py$/, '').replace(/\/__init__$/, '').split('/').join('.'));
  for (const f of diff.files) {
    if (modules.length === 0 || f.binary || f.status === 'deleted' || !/\.py$/i.test(f.path)) continue;
    const text = newLines(f).map((l) => l ?? '').join('\n');
    const aliases = new Set<string>();
    for (const m of modules) {
      const esc = m.replace(/\./g, '\\.');
      const parent = m.includes('.') ? m.slice(0, m.lastIndexOf('.')).replace(/\./g, '\\.') : undefined;
      const leaf = m.split('.').pop()!;
      for (const x of text.matchAll(new RegExp(`^\\s*import\\s+${esc}(\\s+as\\s+(\\w+))?\\s*$`, 'gm'))) aliases.add(x[2] ?? m);
      if (parent) for (const x of text.matchAll(new RegExp(`^\\s*from\\s+${parent}\\s+import\\s+[^\\n]*\\b${leaf}\\b(\\s+as\\s+(\\w+))?`, 'gm'))) aliases.add(x[2] ?? leaf);
    }
    for (const a of aliases) {
      const ea = a.replace(/\./g, '\\.');
      const res = [new RegExp(`(^|[^\\w.])${ea}\\.\\w+(\\s*\\[[^\\]]*\\])*\\s*([-+*/]?=)(?!=)`), new RegExp(`setattr\\(\\s*${ea}\\s*,`)];
      const hit = f.added.find((l) => !isComment(l.text) && res.some((re) => re.test(l.text)));
      if (hit) out.push(finding(f.path, hit.line, `The protected module ${a} is patched at run time: ${snip(hit.text)}`));
    }
  }
  // Run-time edits of declared symbols from any Python file.
  for (const f of diff.files) {
    if (f.binary || f.status === 'deleted' || !/\.py$/i.test(f.path)) continue;
    for (const s of symbols) {
      const n = s.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const res = s.yaml
        ? [new RegExp(`\\[\\s*["']${n}["']\\s*\\](\\s*\\[[^\\]]*\\])*\\s*([-+*/]?=)(?!=)`), new RegExp(`\\[\\s*["']${n}["']\\s*\\]\\s*\\.\\s*(update|pop|clear|setdefault)\\(`)]
        : [
            new RegExp(`(^|[^\\w.])[A-Za-z_][\\w.]*\\.${n}\\s*(\\[[^\\]]*\\]\\s*)*([-+*/]?=)(?!=)`),
            new RegExp(`^\\s*${n}\\s*(\\[[^\\]]*\\]\\s*)+([-+*/]?=)(?!=)`),
            new RegExp(`(^|[^\\w])${n}\\s*\\.\\s*(update|pop|clear|setdefault|__setitem__)\\(`),
            new RegExp(`setattr\\(\\s*[\\w.]+\\s*,\\s*["']${n}["']`),
            new RegExp(`setattr\\(\\s*["'][\\w.]*\\b${n}["']`),
          ];
      for (const l of f.added) {
        if (isComment(l.text)) continue;
        if (s.files.includes(f.path) && !s.yaml && new RegExp(`^${n}\\s*(:[^=]*)?=`).test(l.text)) continue; // the definition itself (handled above)
        if (res.some((re) => re.test(l.text))) {
          out.push(finding(f.path, l.line, `The declared protected value ${s.label} is changed at run time: ${snip(l.text)}`));
          break;
        }
      }
    }
  }
  return out;
}

/** Reads of declared answer-carrying fields in added code (drops — `del`, `.pop`, `!=`, `not in` — are not). */
export function answerFieldFindings(diff: ParsedProposalDiff, rules: TaskRules): ScreeningFinding[] {
  const out: ScreeningFinding[] = [];
  if (rules.answerCarryingFields.length === 0) return out;
  for (const f of diff.files) {
    if (f.binary || f.status === 'deleted') continue;
    const py = /\.py$/i.test(f.path);
    const yaml = /\.ya?ml$/i.test(f.path);
    if (!py && !yaml) continue;
    if (/(^|\/)(tests?)\//.test(f.path)) continue;
    for (const field of rules.answerCarryingFields) {
      const q = `["']${field}["']`;
      const reads = py
        ? [new RegExp(`\\[\\s*${q}\\s*\\]`), new RegExp(`\\.get\\(\\s*${q}`), new RegExp(`getattr\\([^,]+,\\s*${q}`), new RegExp(`\\.${field}\\b(?!\\s*\\()`), new RegExp(`(columns|fields|keys|features|text_fields|usecols)\\s*=\\s*[\\[(][^\\])]*${q}`)]
        : [new RegExp(`^\\s*(-\\s*)?["']?${field}["']?\\s*$`), new RegExp(`[\\[,]\\s*["']?${field}["']?\\s*[\\],]`), new RegExp(`:\\s*["']?${field}["']?\\s*$`)];
      for (const l of f.added) {
        const t = l.text.replace(/#.*$/, '');
        if (!t.trim()) continue;
        if (/^\s*del\b|\.pop\(|!=|\bnot\s+in\b|\bdrop|exclude|ignore|remove|strip/i.test(t)) continue;
        if (py && new RegExp(`\\[\\s*${q}\\s*\\]\\s*=(?!=)`).test(t) && !new RegExp(`=.*\\[\\s*${q}\\s*\\]`).test(t.replace(new RegExp(`^[^=]*\\[\\s*${q}\\s*\\]\\s*=`), '= '))) continue;
        if (reads.some((re) => re.test(t))) {
          out.push(finding(f.path, l.line, `Reads the "${field}" field, which the task declares carries the answer: ${snip(l.text)}`, 'label-access', 0.8));
          break;
        }
      }
    }
  }
  return out;
}

const RUNSY = /\b(runs?|seeds?|results?|history|records?|rows?|entries|trials?|experiments?)\b|\w*(_runs|_seeds|_results|_history)\b/i;
const METRIC = /acc|pgr|score|f1|auc|metric|loss|transfer|reward/i;
const WRITES = /\b(json\.dump|\.write\(|to_csv|to_json|write_text|print\(|append_run|write_summary|report\.|summary|log_run|save_results?)/i;

/** `resultsMustReport: ["all_seeds"]`: selections over runs/seeds (filter on a metric, sort-and-slice, best-of). */
export function allSeedsFindings(diff: ParsedProposalDiff, rules: TaskRules): ScreeningFinding[] {
  const out: ScreeningFinding[] = [];
  if (!rules.resultsMustReport.some((k) => /^all[_-]?(seeds|runs)$/i.test(k))) return out;
  for (const f of diff.files) {
    if (f.binary || f.status === 'deleted' || !/\.(py|sh)$/i.test(f.path) || /(^|\/)tests?\//.test(f.path)) continue;
    const lines = newLines(f);
    const text = lines.map((l) => l ?? '').join('\n');
    if (!WRITES.test(text)) continue;
    for (const l of f.added) {
      const t = l.text.replace(/#.*$/, '');
      const filter = /\bfor\s+\w+\s+in\s+([\w.]+)\s*\bif\b(.*)/.exec(t);
      const sortedSlice = /\bsorted\(([^)]*)\)?[^\n]*\)\s*\[\s*(-?\d*\s*:\s*-?\d*|-?\d+)\s*\]/.exec(t);
      // (best-of with max/min is pyFlow's seed-selection flow, which knows whether every seed is also written.)
      const nbest = /\.(nlargest|nsmallest)\(\s*\d+|\.head\(\s*\d+\s*\)/.exec(t);
      const seedsCut = /\b(seeds?|runs)\s*(=\s*[\w.]+\s*)?\[\s*:\s*\w+\s*\]/.exec(t);
      let why: string | undefined;
      if (filter && RUNSY.test(filter[1]!) && METRIC.test(filter[2]!) && /[<>]=?/.test(filter[2]!)) why = 'a filter on a metric hides runs';
      else if (sortedSlice && (RUNSY.test(sortedSlice[1]!) || METRIC.test(sortedSlice[1]!))) why = 'the runs are sorted and sliced';
      else if (nbest && (RUNSY.test(t) || METRIC.test(t))) why = 'only the best runs are kept';
      else if (seedsCut) why = 'only some seeds are kept';
      if (why) {
        out.push(finding(f.path, l.line, `The task requires every seed to be reported (resultsMustReport: all_seeds), but ${why}: ${snip(l.text)}`, 'seed-hacking', 0.75));
        break;
      }
    }
  }
  return out;
}
