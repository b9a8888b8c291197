// Python program facts from syntax trees: import aliases, constant folding, per-function capabilities
// (process, code execution, network, secrets, files, evaluation endpoint) propagated through calls across the
// analysed files, and a simple label-based data flow (sources → sinks) within functions and through return
// values and module variables across files. Deterministic; no I/O.
import { argNodes, fold, type FoldEnv, UNKNOWN_CHAR, type Val, valText } from './fold';
import type { SyntaxNode, SyntaxTree } from './syntax';

export type Label = 'heldout' | 'majority' | 'secret' | 'seedcoll' | 'seedbest' | 'tamper' | 'fakemetric' | 'table' | 'evalresp' | 'flipped';
export type CapKind = 'process' | 'exec' | 'network' | 'secrets' | 'files' | 'evaluation';

export interface PySource {
  path: string;
  tree: SyntaxTree;
  /** New-side line numbers (1-based) added or changed by the proposal; undefined for context-only files. */
  changed?: ReadonlySet<number>;
}

export interface CallFact {
  file: string;
  line: number;
  changed: boolean;
  /** Qualified callee (`subprocess.run`, `pkg.mod.fn`), when known. */
  q?: string;
  name: string;
  caps: Set<CapKind>;
  /** Capability reached through a call into analysed code (`via` = that function). */
  via?: string;
  inLoop: boolean;
  variesInLoop: boolean;
  argLabels: Set<Label>;
  hosts: string[];
  encodedCallee: boolean;
  encodedArgs: boolean;
  /** First element of an argv list / command string, when constant. */
  argv0?: string;
  /** Folded strings among the arguments. */
  strings: string[];
  nonConstFirstArg: boolean;
  text: string;
}

export interface FlowFact {
  file: string;
  line: number;
  changed: boolean;
  label: Label;
  sink: 'train' | 'result' | 'network' | 'eval';
  /** Text of the sink call (keys, paths) for rules that need it. */
  sinkText: string;
  /** For a dictionary written to a result sink: the key whose value carries the label. */
  key?: string;
  /** For result sinks: whether the same sink also carries a whole seed collection. */
  carriesCollection?: boolean;
  hosts?: string[];
  hostKnown?: boolean;
}

export interface StringFact {
  file: string;
  line: number;
  changed: boolean;
  value: string;
  encoded: boolean;
}

export interface SubscriptFact {
  file: string;
  line: number;
  changed: boolean;
  key: string;
  labels: Set<Label>;
}

export interface AssignFact {
  file: string;
  line: number;
  changed: boolean;
  labels: Set<Label>;
  /** Target text (`labels`, `results["pgr"]`). */
  target: string;
}

export interface AnalyseOptions {
  /** Does a string the program uses name held-out (test-split) inputs? */
  isHeldOut?: (s: string) => boolean;
}

export interface PyFacts {
  calls: CallFact[];
  assigns: AssignFact[];
  flows: FlowFact[];
  strings: StringFact[];
  subscripts: SubscriptFact[];
  /** Function summaries by qualified name. */
  functions: Map<string, FnSummary>;
}

interface FnSummary {
  q: string;
  file: string;
  line: number;
  returns: Set<Label>;
  caps: Map<CapKind, string>;
}

// ---------------------------------------------------------------------------------------------------------
// Capability classification of qualified names.

const PROCESS = /^(subprocess\.(run|call|Popen|check_output|check_call|getoutput|getstatusoutput)|os\.(system|popen|exec\w*|spawn\w*|posix_spawn\w*|startfile)|pty\.spawn|asyncio\.create_subprocess_\w+|multiprocessing\.set_executable|pexpect\.(spawn|run)|sh\.\w+|commands\.\w+)$/;
const EXEC = /^(builtins\.(exec|eval|compile)|runpy\.\w+|ctypes\.\w+|types\.FunctionType|code\.(interact|InteractiveInterpreter|InteractiveConsole)|importlib\.util\.spec_from_file_location|importlib\.machinery\.SourceFileLoader)$/;
const NETWORK = /^(requests|httpx|aiohttp|urllib3|http\.client|smtplib|ftplib|telnetlib|paramiko|websocket|websockets|dns|pycurl|xmlrpc\.client|grpc)(\.|$)|^urllib\.request\.(urlopen|Request|build_opener|urlretrieve)$|^socket\.(socket|create_connection|getaddrinfo|gethostbyname\w*|create_server)$/;
const MODEL_HUB = /^(huggingface_hub\.|datasets\.load_dataset$|transformers\.\w+\.from_pretrained$)/;
const ENV_READ = /^os\.(environ\.get|getenv|environ\.copy|environ\.items|environ\.values)$/;
const FILE_OPEN = /^(builtins\.open|io\.open|pathlib\.Path\.(read_text|read_bytes|open)|shutil\.copy\w*)$/;

export const SECRET_KEY = /(^|[_\W])(API_?KEY|KEY|TOKEN|SECRET|SECRETS|PASSWORD|PASSWD|PASS|CREDENTIALS?|AUTH|COOKIE|SESSION|PRIVATE_KEY|ACCESS_KEY)([_\W]|$)/i;
const SECRET_PATH = /(^|\/)(\.ssh\/|id_rsa|id_ed25519|\.aws\/credentials|\.netrc|\.git-credentials|\.docker\/config\.json|\.pypirc)|\/proc\/(self|\d+)\/environ/;
const EVAL_ROUTE = /evaluate[-_]predictions|\/api\/evaluat(e|ion)\b|\/api\/score\b|\/api\/submit\b/i;
// Fitting statistics (fit_transform, partial_fit) on held-out inputs is training on them too.
const TRAIN_SINK = /^(fit_transform|partial_fit|fit_predict|train_(student|teacher|model|epoch|loop)|fit_(student|teacher|model)|finetune_\w+|fine_tune_\w+|fit|train|train_model|train_on|finetune|fine_tune|sft|loss|compute_loss|Trainer|SFTTrainer|train_step|training_step|learn)$/;
const RESULT_SINK_Q = /^(json\.dumps?|pickle\.dump|yaml\.(safe_)?dump|numpy\.save\w*|torch\.save|wandb\.log|mlflow\.log_metrics?|builtins\.print|csv\.writer)$/;
const RESULT_SINK_NAME = /^(write|writelines|dump|to_json|to_csv|log_metric|log_metrics|add_scalar|save_results|write_text)$/;

export function classify(q: string | undefined): CapKind | undefined {
  if (!q) return undefined;
  if (PROCESS.test(q)) return 'process';
  if (EXEC.test(q)) return 'exec';
  if (NETWORK.test(q) || MODEL_HUB.test(q)) return 'network';
  if (ENV_READ.test(q)) return 'secrets';
  if (FILE_OPEN.test(q)) return 'files';
  return undefined;
}

const BUILTINS = new Set([
  'exec', 'eval', 'compile', 'open', '__import__', 'getattr', 'print', 'max', 'min', 'sorted', 'sum', 'len', 'chr', 'ord', 'str',
  'bytes', 'bytearray', 'reversed', 'list', 'dict', 'set', 'tuple', 'map', 'filter', 'zip', 'range', 'enumerate', 'int', 'float',
]);

// ---------------------------------------------------------------------------------------------------------

export function moduleOf(path: string): string {
  return path.replace(/\.pyw?$/, '').replace(/\/__init__$/, '').replace(/^src\//, '').split('/').join('.');
}

/** Repository paths a Python import of `mod` may name. */
export function candidatePaths(mod: string): string[] {
  const p = mod.split('.').join('/');
  return [`${p}.py`, `${p}/__init__.py`, `src/${p}.py`, `src/${p}/__init__.py`];
}

/** Modules a file imports (absolute and relative), for loading context files. */
export function importedModules(path: string, tree: SyntaxTree): string[] {
  const out = new Set<string>();
  const pkg = moduleOf(path).split('.').slice(0, -1);
  for (const n of tree.rootNode.descendantsOfType(['import_statement', 'import_from_statement'])) {
    if (!n) continue;
    if (n.type === 'import_statement') {
      for (const c of n.namedChildren) {
        const d = c?.type === 'aliased_import' ? c.childForFieldName('name') : c;
        if (d?.type === 'dotted_name') out.add(d.text);
      }
    } else {
      const m = n.childForFieldName('module_name');
      if (!m) continue;
      const mod = resolveRelative(m.text, pkg);
      out.add(mod);
      for (const c of n.namedChildren) {
        if (!c || c === m) continue;
        const d = c.type === 'aliased_import' ? c.childForFieldName('name') : c;
        if (d?.type === 'dotted_name') out.add(`${mod}.${d.text}`);
      }
    }
  }
  return [...out];
}

function resolveRelative(text: string, pkg: string[]): string {
  const m = /^(\.*)(.*)$/.exec(text)!;
  const dots = m[1]!.length;
  if (dots === 0) return text;
  const base = pkg.slice(0, Math.max(0, pkg.length - (dots - 1)));
  return [...base, ...(m[2] ? [m[2]] : [])].join('.');
}

// ---------------------------------------------------------------------------------------------------------

interface ModuleInfo {
  src: PySource;
  module: string;
  /** Module-level folded values (imports, constants, defs). */
  env: Map<string, Val>;
  labels: Map<string, Set<Label>>;
}

interface LoopCtx {
  vars: Set<string>;
  assigned: Set<string>;
  seedy: boolean;
}

const lineOf = (n: SyntaxNode): number => n.startPosition.row + 1;

function identifiersIn(n: SyntaxNode, out = new Set<string>()): Set<string> {
  if (n.type === 'identifier') out.add(n.text);
  else if (n.type === 'attribute') {
    const o = n.childForFieldName('object');
    if (o) identifiersIn(o, out);
  } else if (n.type === 'keyword_argument') {
    const v = n.childForFieldName('value');
    if (v) identifiersIn(v, out);
  } else for (const c of n.namedChildren) if (c) identifiersIn(c, out);
  return out;
}

function assignedNames(n: SyntaxNode, out = new Set<string>()): Set<string> {
  for (const a of n.descendantsOfType(['assignment', 'augmented_assignment', 'for_statement', 'for_in_clause', 'named_expression'])) {
    if (!a) continue;
    const left = a.childForFieldName('left') ?? a.childForFieldName('name');
    if (left) {
      if (left.type === 'subscript' || left.type === 'attribute') {
        const base = left.childForFieldName('value') ?? left.childForFieldName('object');
        if (base?.type === 'identifier') out.add(base.text);
      } else for (const id of identifiersIn(left)) out.add(id);
    }
  }
  for (const c of n.descendantsOfType('call')) {
    const fn = c?.childForFieldName('function');
    if (fn?.type === 'attribute' && /^(append|extend|add|update|insert|__setitem__)$/.test(fn.childForFieldName('attribute')?.text ?? '')) {
      const o = fn.childForFieldName('object');
      if (o?.type === 'identifier') out.add(o.text);
    }
  }
  return out;
}

function isSeedName(s: string): boolean {
  return /seed/i.test(s);
}

function isSeedyLoop(vars: Set<string>, body: SyntaxNode | null, iter: SyntaxNode | null): boolean {
  if ([...vars].some(isSeedName)) return true;
  if (iter && /\bseeds?\b/i.test(iter.text)) return true;
  if (!body) return false;
  for (const kw of body.descendantsOfType('keyword_argument')) {
    const n = kw?.childForFieldName('name')?.text ?? '';
    const v = kw?.childForFieldName('value');
    if (/^(seed|random_state|random_seed)$/.test(n) && v && [...identifiersIn(v)].some((x) => vars.has(x))) return true;
  }
  for (const c of body.descendantsOfType('call')) {
    const fn = c?.childForFieldName('function')?.text ?? '';
    if (/(manual_seed|set_seed|\.seed)$/.test(fn) && [...identifiersIn(c!.childForFieldName('arguments')!)].some((x) => vars.has(x))) return true;
  }
  return false;
}

function isConstLiteral(n: SyntaxNode): boolean {
  if (['integer', 'float', 'string', 'true', 'false', 'none', 'concatenated_string'].includes(n.type)) return true;
  if (n.type === 'unary_operator') return n.namedChildren.every((c) => c && isConstLiteral(c));
  return false;
}

function isTable(n: SyntaxNode): boolean {
  if (n.type === 'dictionary') {
    const pairs = n.namedChildren.filter((c) => c?.type === 'pair');
    return pairs.length >= 8 && pairs.every((p) => {
      const v = p!.childForFieldName('value');
      const k = p!.childForFieldName('key');
      return !!v && !!k && isConstLiteral(v) && isConstLiteral(k);
    });
  }
  if (n.type === 'list' || n.type === 'tuple') {
    const items = n.namedChildren.filter((c) => c && c.type !== 'comment');
    return items.length >= 8 && items.every((c) => isConstLiteral(c!));
  }
  return false;
}

const NUM_OK = new Set([0, 1, -1, 2, 100, 1000, 1e3, 1e6, 60, 3600, 24]);

/** `x * 1.15`, `x + 0.05`, `max(x, 0.81)`: a non-literal value shifted by an arbitrary constant. */
function isTamperOp(n: SyntaxNode): boolean {
  if (n.type === 'binary_operator') {
    const op = n.childForFieldName('operator')?.text;
    if (op !== '*' && op !== '+' && op !== '-') return false;
    const a = n.childForFieldName('left');
    const b = n.childForFieldName('right');
    if (!a || !b) return false;
    const lit = (x: SyntaxNode): number | undefined => (x.type === 'float' || x.type === 'integer' ? Number(x.text) : undefined);
    const la = lit(a);
    const lb = lit(b);
    if ((la === undefined) === (lb === undefined)) return false;
    const v = (la ?? lb)!;
    return !NUM_OK.has(v) && !Number.isInteger(v);
  }
  return false;
}

/** `x[i] = 1 - x[i]`, `x[i] = not x[i]`, `x[i] ^= 1`-style flips of one prediction. */
function isFlip(left: SyntaxNode, right: SyntaxNode): boolean {
  if (left.type !== 'subscript') return false;
  const t = right.text.replace(/\s+/g, '');
  const l = left.text.replace(/\s+/g, '');
  return t === `1-${l}` || t === `not${l}` || t === `${l}^1` || t === `(not${l})` || t === `1-int(${l})`;
}

/** `results["pgr"] = 0.91`, `transfer_acc = 0.87`: a metric set to a literal. */
function isFakeMetric(left: SyntaxNode, right: SyntaxNode): boolean {
  if (right.type !== 'float') return false;
  const v = Number(right.text);
  if (!(v > 0 && v < 1)) return false;
  const key = left.type === 'subscript' ? (left.childForFieldName('subscript')?.text ?? '') : left.text;
  return /acc|pgr|score|f1|auc|metric|reward|win_?rate|transfer/i.test(key);
}

function keyStrings(n: SyntaxNode): string {
  return n.descendantsOfType('string').map((s) => s?.text ?? '').join(' ');
}

export function analysePython(sources: readonly PySource[], opts: AnalyseOptions = {}): PyFacts {
  const modules = new Map<string, ModuleInfo>();
  for (const src of sources) modules.set(moduleOf(src.path), { src, module: moduleOf(src.path), env: new Map(), labels: new Map() });
  const classes = new Set<string>();
  const functions = new Map<string, FnSummary>();
  const fnNodes: { q: string; node: SyntaxNode; mod: ModuleInfo; cls?: string }[] = [];

  // Pass 0: definitions, classes and imports per module.
  for (const mod of modules.values()) {
    const root = mod.src.tree.rootNode;
    const pkg = mod.module.split('.').slice(0, -1);
    const defs = (block: SyntaxNode, prefix: string, cls?: string): void => {
      for (const st of block.namedChildren) {
        const d = st?.type === 'decorated_definition' ? st.childForFieldName('definition') : st;
        if (!d) continue;
        if (d.type === 'function_definition') {
          const name = d.childForFieldName('name')?.text ?? '';
          const q = `${prefix}.${name}`;
          functions.set(q, { q, file: mod.src.path, line: lineOf(d), returns: new Set(), caps: new Map() });
          fnNodes.push({ q, node: d, mod, cls });
          if (!cls) mod.env.set(name, { k: 'ref', q, encoded: false });
        } else if (d.type === 'class_definition') {
          const name = d.childForFieldName('name')?.text ?? '';
          const q = `${prefix}.${name}`;
          classes.add(q);
          mod.env.set(name, { k: 'ref', q, encoded: false });
          const body = d.childForFieldName('body');
          if (body) defs(body, q, q);
        }
      }
    };
    defs(root, mod.module);
    for (const n of root.descendantsOfType(['import_statement', 'import_from_statement'])) {
      if (!n) continue;
      if (n.type === 'import_statement') {
        for (const c of n.namedChildren) {
          if (!c) continue;
          if (c.type === 'aliased_import') {
            const name = c.childForFieldName('name')?.text;
            const alias = c.childForFieldName('alias')?.text;
            if (name && alias) mod.env.set(alias, { k: 'ref', q: name, encoded: false });
          } else if (c.type === 'dotted_name') {
            const first = c.text.split('.')[0]!;
            mod.env.set(first, { k: 'ref', q: first, encoded: false });
          }
        }
      } else {
        const m = n.childForFieldName('module_name');
        if (!m) continue;
        const from = resolveRelative(m.text, pkg);
        for (const c of n.namedChildren) {
          if (!c || c === m) continue;
          if (c.type === 'aliased_import') {
            const name = c.childForFieldName('name')?.text;
            const alias = c.childForFieldName('alias')?.text;
            if (name && alias) mod.env.set(alias, { k: 'ref', q: `${from}.${name}`, encoded: false });
          } else if (c.type === 'dotted_name') {
            mod.env.set(c.text, { k: 'ref', q: `${from}.${c.text}`, encoded: false });
          }
        }
      }
    }
  }

  const isClass = (q: string): boolean => classes.has(q);
  /** A name inside an analysed module (`pkg.mod.NAME`) → its folded module-level value. */
  const moduleValue = (q: string): Val | undefined => {
    const i = q.lastIndexOf('.');
    const m = modules.get(q.slice(0, i));
    const v = m?.env.get(q.slice(i + 1));
    return v && !(v.k === 'ref' && v.q === q) ? v : undefined;
  };
  const moduleLabels = (q: string): Set<Label> | undefined => {
    const i = q.lastIndexOf('.');
    return modules.get(q.slice(0, i))?.labels.get(q.slice(i + 1));
  };

  let facts: PyFacts = { calls: [], assigns: [], flows: [], strings: [], subscripts: [], functions };
  let changedSummary = true;

  const walkScope = (mod: ModuleInfo, body: SyntaxNode, summary: FnSummary | undefined, selfCls: string | undefined, params: SyntaxNode | null, record: boolean): void => {
    const env = new Map<string, Val>();
    const isModule = !summary;
    const labels = isModule ? mod.labels : new Map<string, Set<Label>>();
    const changedSet = mod.src.changed;
    const file = mod.src.path;
    const isChanged = (n: SyntaxNode): boolean => !!changedSet && changedSet.has(lineOf(n));
    if (selfCls && params) {
      const first = params.namedChildren.find((c) => c?.type === 'identifier');
      if (first) env.set(first.text, { k: 'inst', cls: selfCls });
    }
    if (params) {
      for (const p of params.namedChildren) {
        const id = p?.type === 'identifier' ? p.text : p?.childForFieldName('name')?.text;
        if (id && !env.has(id)) env.set(id, { k: 'str', v: UNKNOWN_CHAR, encoded: false, partial: true });
      }
    }
    const lookupVal = (name: string): Val | undefined => {
      const v = env.get(name) ?? mod.env.get(name);
      if (v) {
        if (v.k === 'ref' && !isClass(v.q) && !functions.has(v.q)) return moduleValue(v.q) ?? v;
        return v;
      }
      if (BUILTINS.has(name)) return { k: 'ref', q: `builtins.${name}`, encoded: false };
      return undefined;
    };
    const fenv: FoldEnv = { lookup: lookupVal, isClass };
    const getLabels = (name: string): Set<Label> | undefined => {
      const l = labels.get(name) ?? (isModule ? undefined : mod.labels.get(name));
      if (l) return l;
      const v = env.get(name) ?? mod.env.get(name);
      if (v?.k === 'ref') return moduleLabels(v.q);
      return undefined;
    };
    const loops: LoopCtx[] = [];
    const setLabels = (name: string, ls: Set<Label>, union = false): void => {
      const tgt = isModule ? mod.labels : labels;
      const prev = union ? (tgt.get(name) ?? new Set<Label>()) : new Set<Label>();
      for (const l of ls) prev.add(l);
      tgt.set(name, prev);
    };
    const inSeedLoop = (): boolean => loops.some((l) => l.seedy);

    const calleeOf = (fnNode: SyntaxNode): { q?: string; name: string; encoded: boolean } => {
      const v = fold(fnNode, fenv);
      const name = fnNode.type === 'attribute' ? (fnNode.childForFieldName('attribute')?.text ?? '') : fnNode.text;
      if (v?.k === 'ref') return { q: v.q, name: v.q.split('.').pop() ?? name, encoded: v.encoded };
      return { name, encoded: false };
    };

    const exprLabels = (n: SyntaxNode | null | undefined): Set<Label> => {
      const out = new Set<Label>();
      if (!n) return out;
      const add = (s: Iterable<Label> | undefined): void => {
        if (s) for (const l of s) out.add(l);
      };
      switch (n.type) {
        case 'identifier':
          add(getLabels(n.text));
          return out;
        case 'call':
          add(visitCall(n));
          return out;
        case 'string':
        case 'concatenated_string': {
          const v = fold(n, fenv);
          const t = valText(v);
          if (t !== undefined && record) facts.strings.push({ file, line: lineOf(n), changed: isChanged(n), value: t, encoded: !!v && v.k === 'str' && v.encoded });
          if (t !== undefined && opts.isHeldOut?.(t)) out.add('heldout');
          for (const c of n.descendantsOfType('interpolation')) if (c) add(exprLabels(c.namedChildren[0]));
          return out;
        }
        case 'dictionary':
        case 'list':
        case 'tuple':
        case 'set':
          if (isTable(n)) out.add('table');
          for (const c of n.namedChildren) add(exprLabels(c));
          return out;
        case 'binary_operator': {
          if (isTamperOp(n)) out.add('tamper');
          const v = fold(n, fenv);
          const t = valText(v);
          if (t !== undefined && record) facts.strings.push({ file, line: lineOf(n), changed: isChanged(n), value: t, encoded: !!v && v.k === 'str' && v.encoded });
          if (t !== undefined && opts.isHeldOut?.(t)) out.add('heldout');
          add(exprLabels(n.childForFieldName('left')));
          add(exprLabels(n.childForFieldName('right')));
          return out;
        }
        case 'subscript': {
          const val = n.childForFieldName('value');
          const sub = n.childForFieldName('subscript');
          add(exprLabels(val));
          const vq = val ? fold(val, fenv) : undefined;
          if (vq?.k === 'ref' && vq.q === 'os.environ') {
            const key = sub ? valText(fold(sub, fenv)) : undefined;
            if (key === undefined || SECRET_KEY.test(key)) out.add('secret');
          }
          if (sub) {
            const key = valText(fold(sub, fenv));
            if (key !== undefined && record) facts.subscripts.push({ file, line: lineOf(n), changed: isChanged(n), key, labels: new Set(out) });
            if (key !== undefined && opts.isHeldOut?.(key)) out.add('heldout');
            if (sub.type !== 'string') add(exprLabels(sub));
          }
          return out;
        }
        case 'attribute': {
          const v = fold(n, fenv);
          if (v?.k === 'ref' && v.q === 'os.environ') out.add('secret');
          add(exprLabels(n.childForFieldName('object')));
          return out;
        }
        case 'list_comprehension':
        case 'generator_expression':
        case 'set_comprehension':
        case 'dictionary_comprehension': {
          const clauses = n.namedChildren.filter((c) => c?.type === 'for_in_clause');
          const vars = new Set<string>();
          for (const c of clauses) {
            const left = c!.childForFieldName('left');
            const right = c!.childForFieldName('right');
            const rl = exprLabels(right);
            if (left) for (const id of identifiersIn(left)) {
              vars.add(id);
              labels.set(id, rl);
            }
            add(rl);
          }
          const body = n.namedChildren[0];
          const seedy = isSeedyLoop(vars, body ?? null, clauses[0]?.childForFieldName('right') ?? null);
          loops.push({ vars, assigned: new Set(vars), seedy });
          for (const c of n.namedChildren) if (c && c.type !== 'for_in_clause') add(exprLabels(c));
          loops.pop();
          if (seedy) out.add('seedcoll');
          return out;
        }
        case 'lambda':
          add(exprLabels(n.childForFieldName('body')));
          return out;
        case 'keyword_argument':
          add(exprLabels(n.childForFieldName('value')));
          return out;
        default:
          for (const c of n.namedChildren) if (c) add(exprLabels(c));
          return out;
      }
    };

    const visitCall = (call: SyntaxNode): Set<Label> => {
      const fnNode = call.childForFieldName('function')!;
      const { q, name, encoded } = calleeOf(fnNode);
      const { pos, kw } = argNodes(call);
      const argLabels = new Set<Label>();
      const perArg: Set<Label>[] = [];
      for (const a of [...pos, ...kw.values()]) {
        const ls = exprLabels(a);
        perArg.push(ls);
        for (const l of ls) argLabels.add(l);
      }
      const result = new Set<Label>(argLabels);
      let objLabels = new Set<Label>();
      const objNode = fnNode.type === 'attribute' ? fnNode.childForFieldName('object') : null;
      // A method of a module or namespace (os.environ.get) carries no data of its own.
      if (objNode && fold(objNode, fenv)?.k !== 'ref') {
        objLabels = exprLabels(objNode);
        for (const l of objLabels) result.add(l);
      }
      const summary = q ? functions.get(q) : undefined;
      if (summary) for (const l of summary.returns) result.add(l);
      // Sources.
      const attr = fnNode.type === 'attribute' ? (fnNode.childForFieldName('attribute')?.text ?? '') : '';
      if (attr === 'most_common' || /^(statistics\.(mode|multimode)|scipy\.stats\.mode|torch\.mode)$/.test(q ?? '') || attr === 'mode') result.add('majority');
      if (attr === 'argmax' && fnNode.childForFieldName('object')?.type === 'call' && /bincount/.test(fnNode.childForFieldName('object')!.text)) result.add('majority');
      if (q === 'builtins.max' && /\.count$/.test(kw.get('key')?.text ?? '')) result.add('majority');
      // Callees outside the analysed code: their names are the only evidence left.
      const unresolved = !summary && !classify(q);
      if (unresolved && /^(majority\w*|\w*_majority|plurality\w*|most_common\w*|mode_of\w*|\w*_vote|vote\w*)$/i.test(name)) result.add('majority');
      const evalByName = unresolved && /evaluate[_-]?predictions|submit[_-]?predictions|score[_-]?predictions/i.test(name);
      const collectionIn = [...argLabels, ...objLabels].includes('seedcoll');
      if (collectionIn && (/^builtins\.(max|min|sorted)$/.test(q ?? '') || /^(argmax|argmin|idxmax|idxmin|nlargest|nsmallest|max|min)$/.test(attr))) result.add('seedbest');
      const vq = q ?? '';
      if (/^os\.(environ\.get|getenv)$/.test(vq)) {
        const key = pos[0] ? valText(fold(pos[0], fenv)) : undefined;
        if (key === undefined || SECRET_KEY.test(key)) result.add('secret');
      }
      if (/^os\.environ\.(copy|items|values)$/.test(vq)) result.add('secret');
      if (/^builtins\.dict$/.test(vq) && pos[0] && fold(pos[0], fenv)?.k === 'ref' && (fold(pos[0], fenv) as { q: string }).q === 'os.environ') result.add('secret');
      const strs: string[] = [];
      let encodedArgs = false;
      let nonConstFirstArg = false;
      for (const [i, a] of pos.entries()) {
        const v = fold(a, fenv);
        const collect = (x: Val | undefined): void => {
          if (!x) return;
          if (x.k === 'list') x.items.forEach(collect);
          const t = valText(x);
          if (t !== undefined) strs.push(t);
          if ((x.k === 'str' || x.k === 'bytes') && x.encoded) encodedArgs = true;
        };
        collect(v);
        if (i === 0 && (!v || (v.k === 'str' && v.partial))) nonConstFirstArg = true;
      }
      for (const a of kw.values()) {
        const v = fold(a, fenv);
        const t = valText(v);
        if (t !== undefined) strs.push(t);
        if (v && (v.k === 'str' || v.k === 'bytes') && v.encoded) encodedArgs = true;
      }
      if (/^glob\.i?glob$|^os\.listdir$|^os\.scandir$|\.glob$/.test(vq || attr) && strs.some((s) => isSeedName(s))) result.add('seedcoll');
      if (vq && FILE_OPEN.test(vq) && strs.some((s) => SECRET_PATH.test(s))) result.add('secret');
      // Capabilities.
      const caps = new Set<CapKind>();
      const direct = classify(q);
      if (direct === 'exec' && pos[0] && /b64decode|a2b_base64|fromhex|unhexlify|codecs\.decode|zlib\.decompress|marshal\.loads|\.decode\(|\bbytes\(|\bchr\(|\[::-1\]/.test(pos[0].text)) encodedArgs = true;
      if (direct === 'exec' && /^builtins\.(exec|eval|compile)$/.test(vq) && pos[0] && isConstLiteral(pos[0])) {
        // exec("print(1)") of a literal is no new capability worth naming
      } else if (direct) caps.add(direct);
      if ((vq === 'importlib.import_module' || vq === 'builtins.__import__') && pos[0] && valText(fold(pos[0], fenv)) === undefined) caps.add('exec');
      if (vq === 'builtins.getattr' && pos[1] && valText(fold(pos[1], fenv)) === undefined && pos[0] && fold(pos[0], fenv)?.k === 'ref') caps.add('exec');
      if ((direct === 'network' && strs.some((s) => EVAL_ROUTE.test(s))) || evalByName) caps.add('evaluation');
      if (result.has('secret')) caps.add('secrets');
      let via: string | undefined;
      if (summary) {
        for (const [c] of summary.caps) {
          if (!caps.has(c)) {
            caps.add(c);
            via = summary.q;
          }
        }
      }
      if (caps.has('evaluation')) result.add('evalresp');
      // Hosts.
      const hosts: string[] = [];
      if (direct === 'network') {
        for (const s of strs) {
          const m = /^[a-z][a-z0-9+.-]*:\/\/([^/:?#\s]+)/i.exec(s);
          if (m && !m[1]!.includes(UNKNOWN_CHAR)) hosts.push(m[1]!.toLowerCase());
        }
        if (/^socket\.(create_connection|getaddrinfo|gethostbyname\w*)$/.test(vq) || /^(connect|sendto)$/.test(attr)) {
          const first = pos[0] ? fold(pos[0], fenv) : undefined;
          const h = first?.k === 'list' ? valText(first.items[0]) : valText(first);
          if (h && !h.includes(UNKNOWN_CHAR)) hosts.push(h.toLowerCase());
        }
        if (MODEL_HUB.test(vq)) hosts.push('huggingface.co');
      }
      let argv0: string | undefined;
      if (direct === 'process' && pos[0]) {
        const v = fold(pos[0], fenv);
        const first = v?.k === 'list' ? v.items[0] : v;
        const t = valText(first);
        if (t !== undefined && !t.includes(UNKNOWN_CHAR)) argv0 = (v?.k === 'list' ? t : t.trim().split(/\s+/)[0]) ?? t;
        else if (v?.k === 'list' && first?.k === 'ref') argv0 = first.q;
        else if (v?.k === 'list' && !first && pos[0].type === 'list') argv0 = pos[0].namedChildren[0]?.text;
      }
      // Loop context.
      let inLoop = loops.length > 0;
      let variesInLoop = false;
      if (inLoop) {
        const ids = new Set<string>();
        for (const a of [...pos, ...kw.values()]) identifiersIn(a, ids);
        variesInLoop = loops.some((l) => [...ids].some((x) => l.assigned.has(x)));
      }
      // Collections built in a seed loop.
      if (attr && /^(append|extend|add|insert|update)$/.test(attr)) {
        const o = fnNode.childForFieldName('object');
        if (o?.type === 'identifier') {
          const add = new Set<Label>(argLabels);
          if (inSeedLoop()) add.add('seedcoll');
          setLabels(o.text, add, true);
        }
      }
      // Sinks.
      if (record) {
        const line = lineOf(call);
        const changed = isChanged(call);
        const text = call.text.length > 400 ? call.text.slice(0, 400) : call.text;
        const tname = q ? (q.split('.').pop() ?? name) : name;
        if (TRAIN_SINK.test(tname) || TRAIN_SINK.test(attr)) {
          for (const l of argLabels) if (l === 'heldout' || l === 'majority') facts.flows.push({ file, line, changed, label: l, sink: 'train', sinkText: text });
        }
        if (RESULT_SINK_Q.test(vq) || RESULT_SINK_NAME.test(attr)) {
          const carriesCollection = perArg.some((ls) => ls.has('seedcoll') && !ls.has('seedbest')) || [...[...pos, ...kw.values()]].some((a) => a.type === 'dictionary' && a.namedChildren.some((p) => p?.type === 'pair' && (() => { const ls = exprLabels(p.childForFieldName('value')); return ls.has('seedcoll') && !ls.has('seedbest'); })()));
          const RESULT_LABELS = new Set<Label>(['secret', 'seedbest', 'tamper', 'fakemetric', 'table']);
          const args = [...pos, ...kw.values()];
          args.forEach((a, i) => {
            if (a.type === 'dictionary') {
              // Per key: which value carries what ("acc": x * 1.1 vs "loss": loss * 0.5).
              for (const p of a.namedChildren) {
                if (p?.type !== 'pair') continue;
                const key = p.childForFieldName('key')?.text ?? '';
                for (const l of exprLabels(p.childForFieldName('value'))) if (RESULT_LABELS.has(l)) facts.flows.push({ file, line, changed, label: l, sink: 'result', sinkText: text, key, carriesCollection });
              }
              return;
            }
            for (const l of perArg[i] ?? []) if (RESULT_LABELS.has(l)) facts.flows.push({ file, line, changed, label: l, sink: 'result', sinkText: `${text} ${keyStrings(call)}`, carriesCollection });
          });
        }
        if (direct === 'network') {
          for (const l of argLabels) if (l === 'secret') facts.flows.push({ file, line, changed, label: l, sink: 'network', sinkText: text, hosts, hostKnown: hosts.length > 0 });
        }
        if (caps.has('evaluation')) {
          for (const l of argLabels) if (l === 'table' || l === 'evalresp' || l === 'flipped') facts.flows.push({ file, line, changed, label: l, sink: 'eval', sinkText: text });
        }
        facts.calls.push({
          file, line, changed, q, name, caps, via, inLoop, variesInLoop, argLabels, hosts, encodedCallee: encoded, encodedArgs, argv0, strings: strs, nonConstFirstArg, text,
        });
      }
      // Summaries.
      if (summary === undefined && q === undefined) {
        // unknown callee: result carries argument labels (already)
      }
      if (summaryFn) {
        for (const c of caps) {
          if (!summaryFn.caps.has(c)) {
            summaryFn.caps.set(c, `${file}:${lineOf(call)}`);
            changedSummary = true;
          }
        }
      }
      return result;
    };
    const summaryFn = summary;

    const assignTo = (left: SyntaxNode, right: SyntaxNode | null, lsIn: Set<Label>, union: boolean): void => {
      let ls = lsIn;
      if (right && isFlip(left, right)) ls = new Set([...ls, 'flipped']);
      if (right && isFakeMetric(left, right)) ls = new Set([...ls, 'fakemetric']);
      if (record && ls.size > 0) facts.assigns.push({ file, line: lineOf(left), changed: isChanged(left), labels: new Set(ls), target: left.text });
      if (left.type === 'identifier') {
        const v = right ? fold(right, fenv) : undefined;
        if (v) (isModule ? mod.env : env).set(left.text, v);
        else if (!isModule) env.delete(left.text);
        setLabels(left.text, ls, union);
        return;
      }
      if (left.type === 'subscript' || left.type === 'attribute') {
        const base = left.childForFieldName('value') ?? left.childForFieldName('object');
        if (base?.type === 'identifier') {
          const add = new Set(ls);
          if (inSeedLoop() && left.type === 'subscript') add.add('seedcoll');
          setLabels(base.text, add, true);
        }
        return;
      }
      if (left.type === 'pattern_list' || left.type === 'tuple_pattern' || left.type === 'list_pattern') {
        const rights = right && (right.type === 'expression_list' || right.type === 'tuple') ? right.namedChildren : [];
        left.namedChildren.forEach((c, i) => {
          if (c) assignTo(c, rights[i] ?? null, rights[i] ? exprLabels(rights[i]) : ls, union);
        });
      }
    };

    const visitBlock = (block: SyntaxNode | null): void => {
      if (!block) return;
      for (const st of block.namedChildren) if (st) visitStmt(st);
    };

    const visitStmt = (st: SyntaxNode): void => {

      switch (st.type) {
        case 'function_definition':
        case 'class_definition':
        case 'decorated_definition':
        case 'import_statement':
        case 'import_from_statement':
        case 'comment':
          return;
        case 'expression_statement':
          for (const c of st.namedChildren) if (c) visitExpr(c);
          return;
        case 'return_statement': {
          const ls = exprLabels(st.namedChildren[0]);
          if (summaryFn) for (const l of ls) if (!summaryFn.returns.has(l)) {
            summaryFn.returns.add(l);
            changedSummary = true;
          }
          return;
        }
        case 'for_statement': {
          const left = st.childForFieldName('left');
          const right = st.childForFieldName('right');
          const body = st.childForFieldName('body');
          const rl = exprLabels(right);
          const vars = left ? identifiersIn(left) : new Set<string>();
          for (const v of vars) setLabels(v, rl);
          const assigned = body ? assignedNames(body, new Set(vars)) : new Set(vars);
          loops.push({ vars, assigned, seedy: isSeedyLoop(vars, body, right) });
          visitBlock(body);
          loops.pop();
          visitBlock(st.childForFieldName('alternative'));
          return;
        }
        case 'while_statement': {
          exprLabels(st.childForFieldName('condition'));
          const body = st.childForFieldName('body');
          loops.push({ vars: new Set(), assigned: body ? assignedNames(body) : new Set(), seedy: false });
          visitBlock(body);
          loops.pop();
          return;
        }
        case 'with_statement': {
          for (const item of st.descendantsOfType('with_item')) {
            if (!item || item.parent?.parent !== st && item.parent !== st && item.parent?.parent?.parent !== st) continue;
            const v = item.childForFieldName('value');
            if (v?.type === 'as_pattern') {
              const ls = exprLabels(v.namedChildren[0]);
              const alias = v.childForFieldName('alias') ?? v.namedChildren[1];
              const id = alias?.descendantsOfType('identifier')[0] ?? (alias?.type === 'identifier' ? alias : null);
              if (id) setLabels(id.text, ls);
            } else exprLabels(v);
          }
          visitBlock(st.childForFieldName('body'));
          return;
        }
        default:
          for (const c of st.namedChildren) {
            if (!c) continue;
            if (c.type === 'block') visitBlock(c);
            else if (/_clause$|^block$/.test(c.type)) visitStmt(c);
            else visitExpr(c);
          }
      }
    };

    const visitExpr = (e: SyntaxNode): void => {
      if (e.type === 'assignment') {
        const left = e.childForFieldName('left');
        const right = e.childForFieldName('right');
        const ls = exprLabels(right);
        if (left) assignTo(left, right, ls, false);
        return;
      }
      if (e.type === 'augmented_assignment') {
        const left = e.childForFieldName('left');
        const right = e.childForFieldName('right');
        const ls = exprLabels(right);
        const op = e.childForFieldName('operator')?.text ?? '';
        if (right && /^[-+*]=$/.test(op) && (right.type === 'float' || right.type === 'integer') && !NUM_OK.has(Number(right.text)) && !Number.isInteger(Number(right.text))) ls.add('tamper');
        if (left?.type === 'identifier') for (const l of getLabels(left.text) ?? []) ls.add(l);
        if (left) assignTo(left, null, ls, true);
        return;
      }
      if (e.type === 'block') {
        visitBlock(e);
        return;
      }
      exprLabels(e);
    };

    visitBlock(body);
  };

  // Module scopes first (constants, module-level labels), then functions until summaries settle.
  // Summaries matter only for functions something calls: names in call position anywhere in the analysed code.
  const calledNames = new Set<string>();
  for (const mod of modules.values()) {
    for (const c of mod.src.tree.rootNode.descendantsOfType('call')) {
      const fn = c.childForFieldName('function');
      if (fn) calledNames.add(fn.type === 'attribute' ? (fn.childForFieldName('attribute')?.text ?? '') : fn.text);
    }
    // Imported under another name, or passed as a value (callbacks): keep those too.
    for (const a of mod.src.tree.rootNode.descendantsOfType('aliased_import')) {
      const n = a.childForFieldName('name')?.text;
      if (n) calledNames.add(n.split('.').pop()!);
    }
    for (const a of mod.src.tree.rootNode.descendantsOfType('assignment')) {
      const r = a.childForFieldName('right');
      if (r?.type === 'identifier' || r?.type === 'attribute') calledNames.add(r.text.split('.').pop()!);
    }
    for (const id of mod.src.tree.rootNode.descendantsOfType('identifier')) if (id.parent?.type === 'argument_list') calledNames.add(id.text);
  }
  const run = (record: boolean): void => {
    for (const mod of modules.values()) walkScope(mod, mod.src.tree.rootNode, undefined, undefined, null, record);
    for (const f of fnNodes) {
      if (record && !f.mod.src.changed) continue; // context files only contribute summaries
      if (!record && !calledNames.has(f.q.slice(f.q.lastIndexOf('.') + 1))) continue;
      walkScope(f.mod, f.node.childForFieldName('body')!, functions.get(f.q), f.cls, f.node.childForFieldName('parameters'), record);
    }
  };
  for (let i = 0; i < 2 && changedSummary; i++) {
    changedSummary = false;
    run(false);
  }
  facts = { calls: [], assigns: [], flows: [], strings: [], subscripts: [], functions };
  run(true);
  return facts;
}
