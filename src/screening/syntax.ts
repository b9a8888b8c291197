// Tree-sitter through VS Code's prebuilt WASM grammars (@vscode/tree-sitter-wasm): no native module. The runtime
// and each grammar load once, lazily, on first use; later parses reuse them.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type * as TS from '@vscode/tree-sitter-wasm';
import * as TSmod from '@vscode/tree-sitter-wasm';

/**
 * A parsed node as a plain JS object. The analysis reads each node many times; crossing into WASM for every
 * field access is what would make it slow, so a tree is copied out once with a cursor walk.
 */
const NO_CHILDREN: SyntaxNode[] = [];

export class SyntaxNode {
  /** Leaves share one empty array (fewer allocations on large trees); `addChild` replaces it. */
  children: readonly SyntaxNode[] = NO_CHILDREN;
  private named?: SyntaxNode[];

  get namedChildren(): readonly SyntaxNode[] {
    if (!this.named) this.named = this.children.length === 0 ? NO_CHILDREN : this.children.filter((c) => c.isNamed);
    return this.named;
  }

  addChild(n: SyntaxNode): void {
    if (this.children === NO_CHILDREN) this.children = [n];
    else (this.children as SyntaxNode[]).push(n);
  }

  constructor(
    private readonly src: string,
    readonly type: string,
    readonly isNamed: boolean,
    readonly startIndex: number,
    readonly endIndex: number,
    private readonly row: number,
    private readonly col: number,
    readonly parent: SyntaxNode | null,
    readonly fieldName: string | null,
  ) {}

  get text(): string {
    return this.src.slice(this.startIndex, this.endIndex);
  }

  get startPosition(): { row: number; column: number } {
    return { row: this.row, column: this.col };
  }

  childForFieldName(name: string): SyntaxNode | null {
    for (const c of this.children) if (c.fieldName === name) return c;
    return null;
  }

  private index?: Map<string, SyntaxNode[]>;

  /** Descendants (not the node itself) of the given types, in document order. */
  descendantsOfType(types: string | readonly string[]): SyntaxNode[] {
    const want = typeof types === 'string' ? [types] : types;
    if (this.parent === null) {
      // The root is asked many times (imports, calls, definitions): index it by type once.
      if (!this.index) {
        this.index = new Map();
        const stack: SyntaxNode[] = [...this.children].reverse();
        while (stack.length > 0) {
          const n = stack.pop()!;
          const l = this.index.get(n.type);
          if (l) l.push(n);
          else this.index.set(n.type, [n]);
          for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
        }
      }
      if (want.length === 1) return [...(this.index.get(want[0]!) ?? [])];
      const all = want.flatMap((t) => this.index!.get(t) ?? []);
      return all.sort((a, b) => a.startIndex - b.startIndex || b.endIndex - a.endIndex);
    }
    const out: SyntaxNode[] = [];
    const stack: SyntaxNode[] = [...this.children].reverse();
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (want.includes(n.type)) out.push(n);
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
    }
    return out;
  }
}

export interface SyntaxTree {
  rootNode: SyntaxNode;
  hasError: boolean;
}

const typeNames = new WeakMap<object, { types: (string | undefined)[]; named: (boolean | undefined)[]; fields: (string | null | undefined)[] }>();

function copyTree(tree: TS.Tree, src: string): SyntaxTree {
  // Line starts, so rows come from offsets instead of one more WASM round trip per node.
  const starts = [0];
  for (let i = src.indexOf('\n'); i !== -1; i = src.indexOf('\n', i + 1)) starts.push(i + 1);
  const rowOf = (off: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= off) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const lang = tree.language;
  let names = typeNames.get(lang);
  if (!names) {
    names = { types: [], named: [], fields: [] };
    typeNames.set(lang, names);
  }
  const nm = names;
  const c = tree.walk();
  const node = (parent: SyntaxNode | null): SyntaxNode | undefined => {
    const tid = c.nodeTypeId;
    let type = nm.types[tid];
    if (type === undefined) {
      type = c.nodeType;
      nm.types[tid] = type;
      nm.named[tid] = c.nodeIsNamed;
    }
    const fid = c.currentFieldId;
    let field = nm.fields[fid];
    if (field === undefined) {
      field = c.currentFieldName;
      nm.fields[fid] = field;
    }
    // Anonymous tokens without a field (punctuation) are never read by the analysis: not copied.
    if (!nm.named[tid] && field === null && parent !== null) return undefined;
    const start = c.startIndex;
    const row = rowOf(start);
    return new SyntaxNode(src, type, !!nm.named[tid], start, c.endIndex, row, start - starts[row]!, parent, field);
  };
  const root = node(null)!;
  let parent: SyntaxNode | null = root;
  if (c.gotoFirstChild()) {
    outer: for (;;) {
      const n = node(parent);
      if (n) parent!.addChild(n);
      if (n && c.gotoFirstChild()) {
        parent = n;
        continue;
      }
      while (!c.gotoNextSibling()) {
        if (!c.gotoParent()) break outer;
        parent = parent!.parent;
        if (parent === null) break outer;
      }
    }
  }
  const hasError = tree.rootNode.hasError;
  c.delete();
  tree.delete();
  return { rootNode: root, hasError };
}

export type LanguageId = 'python' | 'bash';

const GRAMMAR: Record<LanguageId, string> = { python: 'tree-sitter-python.wasm', bash: 'tree-sitter-bash.wasm' };

interface Loaded {
  mod: typeof TS;
  parsers: Map<LanguageId, TS.Parser>;
}

let loading: Promise<Loaded> | undefined;

const PACKAGE = '@vscode/tree-sitter-wasm';

/** Where the grammars are: beside a bundle (dist/tree-sitter-wasm/), or the installed package. */
function wasmDir(): string {
  const candidates = [path.join(__dirname, 'tree-sitter-wasm')];
  try {
    candidates.push(path.dirname(createRequire(__filename).resolve(PACKAGE)));
  } catch {
    // not resolvable from here (a bundle without node_modules)
  }
  candidates.push(path.join(__dirname, '..', 'node_modules', '@vscode', 'tree-sitter-wasm', 'wasm'));
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'tree-sitter.wasm')) && fs.existsSync(path.join(d, GRAMMAR.python)));
  if (!dir) throw new Error(`tree-sitter grammars not found (looked in ${candidates.length} places; install ${PACKAGE} or ship its wasm/ beside the bundle as tree-sitter-wasm/)`);
  return dir;
}

async function load(): Promise<Loaded> {
  const mod = TSmod;
  const dir = wasmDir();
  await mod.Parser.init({ locateFile: (f: string) => path.join(dir, f) });
  const parsers = new Map<LanguageId, TS.Parser>();
  for (const id of Object.keys(GRAMMAR) as LanguageId[]) {
    const lang = await mod.Language.load(path.join(dir, GRAMMAR[id]));
    const p = new mod.Parser();
    p.setLanguage(lang);
    parsers.set(id, p);
  }
  return { mod, parsers };
}

/** The parsers, loaded once per process. */
export function syntax(): Promise<Loaded> {
  if (!loading) {
    loading = load();
    loading.catch(() => {
      loading = undefined; // a failed load may be retried
    });
  }
  return loading;
}

/** Git's blob id of a text (what `git hash-object` prints): the parse cache key. */
export function blobId(text: string): string {
  const buf = Buffer.from(text, 'utf8');
  return createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
}

const PARSE_CACHE_MAX = 512;
const parseCache = new Map<string, SyntaxTree>();

/** Parses once per file content (keyed by language and blob id), reusing the parsers across proposals. */
export async function parseText(lang: LanguageId, text: string): Promise<SyntaxTree | undefined> {
  const key = `${lang}:${blobId(text)}`;
  const hit = parseCache.get(key);
  if (hit) {
    parseCache.delete(key);
    parseCache.set(key, hit);
    return hit;
  }
  const { parsers } = await syntax();
  const tree = parsers.get(lang)!.parse(text);
  const out = tree ? copyTree(tree, text) : undefined;
  if (out) {
    parseCache.set(key, out);
    if (parseCache.size > PARSE_CACHE_MAX) parseCache.delete(parseCache.keys().next().value!);
  }
  return out;
}

export function parseCacheSize(): number {
  return parseCache.size;
}

export function languageOf(file: string): LanguageId | undefined {
  if (/\.pyw?$/i.test(file)) return 'python';
  if (/\.(sh|bash)$/i.test(file)) return 'bash';
  return undefined;
}
