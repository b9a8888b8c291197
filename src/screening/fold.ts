// Constant folding of Python expressions on the syntax tree: undoes disguises (strings built from parts, bytes
// of ints, chr joins, hex/base64/rot13, reversed slices, getattr with a built name, import aliases) so rules see
// the value a program will use, not how it spelled it. Unknown pieces of a string stay as UNKNOWN_CHAR.
import type { SyntaxNode } from './syntax';

export const UNKNOWN_CHAR = '\uFFFF';

export type Val =
  | { k: 'str'; v: string; encoded: boolean; partial: boolean }
  | { k: 'bytes'; v: number[]; encoded: boolean }
  | { k: 'num'; v: number }
  | { k: 'list'; items: (Val | undefined)[] }
  /** A module or a name inside one (`subprocess.run`), or a builtin (`builtins.exec`). */
  | { k: 'ref'; q: string; encoded: boolean }
  /** An instance of a class known by qualified name. */
  | { k: 'inst'; cls: string };

export interface FoldEnv {
  lookup(name: string): Val | undefined;
  /** Whether a qualified name is a class defined in the analysed code (calling it makes an instance). */
  isClass?(q: string): boolean;
}

const str = (v: string, encoded = false, partial = false): Val => ({ k: 'str', v, encoded, partial });

export function valText(v: Val | undefined): string | undefined {
  if (!v) return undefined;
  if (v.k === 'str') return v.v;
  if (v.k === 'bytes') return String.fromCharCode(...v.v.slice(0, 10000));
  return undefined;
}

function isEncoded(v: Val | undefined): boolean {
  return !!v && (v.k === 'str' || v.k === 'bytes' || v.k === 'ref') && v.encoded;
}

/** Python string literal → value (escapes decoded; f-string interpolations folded or unknown). */
function stringLiteral(node: SyntaxNode, env: FoldEnv): Val {
  const start = node.namedChildren.find((c) => c?.type === 'string_start')?.text ?? '"';
  const prefix = start.replace(/["']/g, '').toLowerCase();
  const raw = prefix.includes('r');
  let out = '';
  let partial = false;
  let encoded = false;
  for (const c of node.namedChildren) {
    if (!c) continue;
    if (c.type === 'string_content') out += raw ? c.text : unescape(c.text);
    else if (c.type === 'escape_sequence') out += raw ? c.text : unescape(c.text);
    else if (c.type === 'interpolation') {
      const e = c.namedChildren.find((x) => x && x.type !== 'format_specifier' && x.type !== 'type_conversion');
      const v = e ? fold(e, env) : undefined;
      const t = v && v.k === 'num' ? String(v.v) : valText(v);
      if (t === undefined) {
        out += UNKNOWN_CHAR;
        partial = true;
      } else {
        out += t;
        if (v && v.k === 'str' && v.partial) partial = true;
        encoded ||= isEncoded(v);
      }
    }
  }
  if (prefix.includes('b')) return { k: 'bytes', v: [...out].map((ch) => ch.charCodeAt(0) & 0xff), encoded: false };
  return str(out, encoded, partial);
}

function unescape(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|.|\n)/g, (_m, e: string) => {
    if (e[0] === 'x' || e[0] === 'u' || e[0] === 'U') return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e)) return String.fromCharCode(parseInt(e, 8));
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"', '\n': '' };
    return simple[e] ?? `\\${e}`;
  });
}

function rot13(s: string): string {
  return s.replace(/[a-z]/gi, (c) => {
    const b = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - b + 13) % 26) + b);
  });
}

function b64(s: string): number[] | undefined {
  const t = s.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*=*$/.test(t)) return undefined;
  return [...Buffer.from(t, 'base64')];
}

function nums(v: Val | undefined): number[] | undefined {
  if (!v) return undefined;
  if (v.k === 'bytes') return v.v;
  if (v.k !== 'list') return undefined;
  const out: number[] = [];
  for (const i of v.items) {
    if (!i || i.k !== 'num') return undefined;
    out.push(i.v);
  }
  return out;
}

function joinVals(sep: Val, list: Val | undefined): Val | undefined {
  if (sep.k !== 'str' || !list || list.k !== 'list') return undefined;
  let encoded = false;
  let partial = sep.partial;
  const parts = list.items.map((i) => {
    const t = valText(i);
    if (t === undefined) {
      partial = true;
      return UNKNOWN_CHAR;
    }
    encoded ||= isEncoded(i);
    if (i && i.k === 'str' && i.partial) partial = true;
    return t;
  });
  return str(parts.join(sep.v), encoded, partial);
}

/** `"".join(chr(c) for c in (101, 120))` and `[chr(c) for c in ...]`. */
function foldComprehension(node: SyntaxNode, env: FoldEnv): Val | undefined {
  const body = node.namedChildren[0];
  const forClause = node.namedChildren.find((c) => c?.type === 'for_in_clause');
  if (!body || !forClause || node.namedChildren.some((c) => c?.type === 'if_clause')) return undefined;
  const left = forClause.childForFieldName('left');
  const right = forClause.childForFieldName('right');
  if (!left || left.type !== 'identifier' || !right) return undefined;
  const src = fold(right, env);
  const items = src?.k === 'list' ? src.items : src?.k === 'bytes' ? src.v.map((n) => ({ k: 'num', v: n }) as Val) : src?.k === 'str' ? [...src.v].map((ch) => str(ch)) : undefined;
  if (!items || items.length > 10000) return undefined;
  const name = left.text;
  const out = items.map((it) => fold(body, { lookup: (n) => (n === name ? it : env.lookup(n)), isClass: env.isClass }));
  return { k: 'list', items: out };
}

const MAX_DEPTH = 60;

export function fold(node: SyntaxNode, env: FoldEnv, depth = 0): Val | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const f = (n: SyntaxNode | null | undefined): Val | undefined => (n ? fold(n, env, depth + 1) : undefined);
  switch (node.type) {
    case 'string':
      return stringLiteral(node, env);
    case 'concatenated_string': {
      const parts = node.namedChildren.map((c) => f(c));
      return joinVals(str(''), { k: 'list', items: parts });
    }
    case 'integer': {
      const t = node.text.replace(/_/g, '').toLowerCase();
      const v = t.startsWith('0x') ? parseInt(t.slice(2), 16) : t.startsWith('0o') ? parseInt(t.slice(2), 8) : t.startsWith('0b') ? parseInt(t.slice(2), 2) : parseInt(t, 10);
      return Number.isFinite(v) ? { k: 'num', v } : undefined;
    }
    case 'float':
      return { k: 'num', v: Number(node.text.replace(/_/g, '')) };
    case 'parenthesized_expression':
      return f(node.namedChildren[0]);
    case 'list':
    case 'tuple':
    case 'set':
      return { k: 'list', items: node.namedChildren.map((c) => f(c)) };
    case 'list_comprehension':
    case 'generator_expression':
      return foldComprehension(node, env);
    case 'identifier':
      return env.lookup(node.text);
    case 'attribute': {
      const obj = f(node.childForFieldName('object'));
      const attr = node.childForFieldName('attribute')?.text;
      if (!attr) return undefined;
      if (obj?.k === 'ref') return { k: 'ref', q: `${obj.q}.${attr}`, encoded: obj.encoded };
      if (obj?.k === 'inst') return { k: 'ref', q: `${obj.cls}.${attr}`, encoded: false };
      return undefined;
    }
    case 'binary_operator': {
      const op = node.childForFieldName('operator')?.text;
      const a = f(node.childForFieldName('left'));
      const b = f(node.childForFieldName('right'));
      if (op === '+') {
        if (a?.k === 'num' && b?.k === 'num') return { k: 'num', v: a.v + b.v };
        if (a?.k === 'bytes' && b?.k === 'bytes') return { k: 'bytes', v: [...a.v, ...b.v], encoded: a.encoded || b.encoded };
        if (a?.k === 'list' && b?.k === 'list') return { k: 'list', items: [...a.items, ...b.items] };
        if ((a?.k === 'str' || b?.k === 'str') && a?.k !== 'num' && b?.k !== 'num') {
          return joinVals(str(''), { k: 'list', items: [a?.k === 'str' ? a : undefined, b?.k === 'str' ? b : undefined] });
        }
      }
      if (op === '*' && a?.k === 'str' && b?.k === 'num' && b.v < 1000) return str(a.v.repeat(Math.max(0, b.v)), a.encoded, a.partial);
      if (op === '%' && a?.k === 'str') {
        const args = b?.k === 'list' ? b.items : [b];
        let i = 0;
        let partial = a.partial;
        const v = a.v.replace(/%[sdr]/g, () => {
          const x = args[i++];
          const t = x?.k === 'num' ? String(x.v) : valText(x);
          if (t === undefined) partial = true;
          return t ?? UNKNOWN_CHAR;
        });
        return str(v, a.encoded || args.some(isEncoded), partial);
      }
      if (a?.k === 'num' && b?.k === 'num') {
        if (op === '-') return { k: 'num', v: a.v - b.v };
        if (op === '*') return { k: 'num', v: a.v * b.v };
        if (op === '^') return { k: 'num', v: a.v ^ b.v };
      }
      return undefined;
    }
    case 'subscript': {
      const v = f(node.childForFieldName('value'));
      const sub = node.childForFieldName('subscript');
      if (sub?.type === 'slice' && /^::\s*-1$/.test(sub.text.replace(/\s+/g, ''))) {
        if (v?.k === 'str') return str([...v.v].reverse().join(''), true, v.partial);
        if (v?.k === 'bytes') return { k: 'bytes', v: [...v.v].reverse(), encoded: true };
        if (v?.k === 'list') return { k: 'list', items: [...v.items].reverse() };
      }
      const idx = sub ? f(sub) : undefined;
      if (v?.k === 'list' && idx?.k === 'num') return v.items[idx.v < 0 ? v.items.length + idx.v : idx.v];
      return undefined;
    }
    case 'call':
      return foldCall(node, env, depth);
    default:
      return undefined;
  }
}

function argNodes(call: SyntaxNode): { pos: SyntaxNode[]; kw: Map<string, SyntaxNode> } {
  const args = call.childForFieldName('arguments');
  const pos: SyntaxNode[] = [];
  const kw = new Map<string, SyntaxNode>();
  if (!args) return { pos, kw };
  if (args.type === 'generator_expression') return { pos: [args], kw };
  for (const a of args.namedChildren) {
    if (!a) continue;
    if (a.type === 'keyword_argument') {
      const n = a.childForFieldName('name')?.text;
      const v = a.childForFieldName('value');
      if (n && v) kw.set(n, v);
    } else if (a.type !== 'comment') pos.push(a);
  }
  return { pos, kw };
}

export { argNodes };

function foldCall(node: SyntaxNode, env: FoldEnv, depth: number): Val | undefined {
  const fnNode = node.childForFieldName('function');
  if (!fnNode) return undefined;
  const f = (n: SyntaxNode | undefined): Val | undefined => (n ? fold(n, env, depth + 1) : undefined);
  const { pos, kw } = argNodes(node);
  // Methods on a folded value: "sep".join(x), b.decode(), s.lower(), s.encode().
  if (fnNode.type === 'attribute') {
    const attr = fnNode.childForFieldName('attribute')?.text ?? '';
    const objNode = fnNode.childForFieldName('object');
    const obj = objNode ? f(objNode) : undefined;
    if (obj?.k === 'str') {
      if (attr === 'join') return joinVals(obj, f(pos[0]));
      if (attr === 'lower') return str(obj.v.toLowerCase(), obj.encoded, obj.partial);
      if (attr === 'upper') return str(obj.v.toUpperCase(), obj.encoded, obj.partial);
      if (attr === 'strip' || attr === 'rstrip' || attr === 'lstrip') return str(obj.v.trim(), obj.encoded, obj.partial);
      if (attr === 'encode') return { k: 'bytes', v: [...Buffer.from(obj.v, 'utf8')], encoded: obj.encoded };
      if (attr === 'replace') {
        const a = valText(f(pos[0]));
        const b = valText(f(pos[1]));
        if (a !== undefined && b !== undefined && a !== '') return str(obj.v.split(a).join(b), obj.encoded, obj.partial);
      }
      if (attr === 'format') {
        let i = 0;
        let partial = obj.partial;
        const v = obj.v.replace(/\{(\w*)\}/g, (_m, name: string) => {
          const x = name && !/^\d+$/.test(name) ? f(kw.get(name)) : f(pos[name ? Number(name) : i++]);
          const t = x?.k === 'num' ? String(x.v) : valText(x);
          if (t === undefined) partial = true;
          return t ?? UNKNOWN_CHAR;
        });
        return str(v, obj.encoded, partial);
      }
      return undefined;
    }
    if (obj?.k === 'bytes' && attr === 'decode') {
      const codec = valText(f(pos[0]))?.toLowerCase();
      if (codec && /hex/.test(codec)) return undefined;
      return str(Buffer.from(obj.v).toString(codec === 'latin-1' || codec === 'latin1' ? 'latin1' : 'utf8'), obj.encoded);
    }
  }
  const callee = f(fnNode);
  const q = callee?.k === 'ref' ? callee.q : undefined;
  if (!q) return undefined;
  const a0 = f(pos[0]);
  switch (q) {
    case 'builtins.chr':
      return a0?.k === 'num' && a0.v >= 0 && a0.v < 0x110000 ? str(String.fromCodePoint(a0.v), true) : undefined;
    case 'builtins.str':
      return a0?.k === 'num' ? str(String(a0.v)) : a0?.k === 'str' ? a0 : undefined;
    case 'builtins.bytes':
    case 'builtins.bytearray': {
      if (a0?.k === 'str') return { k: 'bytes', v: [...Buffer.from(a0.v, 'utf8')], encoded: a0.encoded };
      const n = nums(a0);
      return n && n.every((x) => x >= 0 && x < 256) ? { k: 'bytes', v: n, encoded: true } : undefined;
    }
    case 'bytes.fromhex':
    case 'builtins.bytes.fromhex':
    case 'builtins.bytearray.fromhex':
    case 'binascii.unhexlify':
    case 'binascii.a2b_hex': {
      const t = valText(a0)?.replace(/\s+/g, '');
      return t && /^([0-9a-fA-F]{2})*$/.test(t) ? { k: 'bytes', v: [...Buffer.from(t, 'hex')], encoded: true } : undefined;
    }
    case 'base64.b64decode':
    case 'base64.urlsafe_b64decode':
    case 'base64.decodebytes':
    case 'binascii.a2b_base64': {
      const t = valText(a0);
      const b = t !== undefined ? b64(t) : undefined;
      return b ? { k: 'bytes', v: b, encoded: true } : undefined;
    }
    case 'base64.b16decode': {
      const t = valText(a0);
      return t && /^([0-9A-Fa-f]{2})*$/.test(t) ? { k: 'bytes', v: [...Buffer.from(t, 'hex')], encoded: true } : undefined;
    }
    case 'codecs.decode':
    case 'codecs.encode': {
      const codec = valText(f(pos[1]))?.toLowerCase().replace(/[_-]/g, '');
      const t = valText(a0);
      if (t === undefined) return undefined;
      if (codec === 'rot13') return str(rot13(t), true);
      if (codec === 'hex' && /^([0-9a-fA-F]{2})*$/.test(t)) return { k: 'bytes', v: [...Buffer.from(t, 'hex')], encoded: true };
      if (codec === 'base64') {
        const b = b64(t);
        return b ? { k: 'bytes', v: b, encoded: true } : undefined;
      }
      return undefined;
    }
    case 'os.path.join':
    case 'posixpath.join':
    case 'pathlib.Path':
    case 'pathlib.PurePath': {
      const parts = pos.map((p) => f(p));
      const j = joinVals(str('/'), { k: 'list', items: parts });
      return j;
    }
    case 'builtins.__import__':
    case 'importlib.import_module': {
      const t = valText(a0);
      return t !== undefined && /^[\w.]+$/.test(t) ? { k: 'ref', q: t, encoded: isEncoded(a0) || !!(a0?.k === 'str' && a0.v !== pos[0]?.text.slice(1, -1)) } : undefined;
    }
    case 'builtins.getattr': {
      const obj = a0;
      const name = f(pos[1]);
      const t = valText(name);
      if (obj?.k === 'ref' && t !== undefined && /^\w+$/.test(t)) return { k: 'ref', q: `${obj.q}.${t}`, encoded: obj.encoded || isEncoded(name) || pos[1]?.type !== 'string' };
      return undefined;
    }
    case 'builtins.reversed':
      if (a0?.k === 'str') return { k: 'list', items: [...a0.v].reverse().map((c) => str(c, true)) };
      return undefined;
    default:
      return env.isClass?.(q) ? { k: 'inst', cls: q } : undefined;
  }
}
