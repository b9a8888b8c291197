// Codec for `overseer-rev:` URIs: a file at an exact revision, served read-only by the host's
// FileSystemProvider. Pure (no vscode): works on URI components; the host wraps them with vscode.Uri.from.
// The URI path is the file's repo-relative path, so editors pick the right language from its extension.
//   experiment side:  overseer-rev:/src/train.py?x=exp-12&side=head
//   agent commit:     overseer-rev:/src/train.py?a=agent-3&c=<40-hex>
import { ID_RE, SHA_RE } from '../core/events';

export const REV_SCHEME = 'overseer-rev';

export type RevRef =
  | { kind: 'experiment'; experimentId: string; side: 'base' | 'head'; path: string }
  | { kind: 'commit'; agentId: string; commit: string; path: string };

export interface UriParts {
  scheme: string;
  authority: string;
  path: string;
  query: string;
  fragment?: string;
}

export class RevUriError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RevUriError';
  }
}

function checkPath(p: string): string {
  if (typeof p !== 'string' || !p || p.includes('\0')) throw new RevUriError('rev uri: empty or invalid file path');
  const rel = p.replace(/\\/g, '/').replace(/^\/+/, '');
  if (!rel || rel.split('/').includes('..')) throw new RevUriError(`rev uri: path escapes the repository: ${JSON.stringify(p)}`);
  return rel;
}

export function toRevUri(ref: RevRef): UriParts {
  const rel = checkPath(ref.path);
  const q = new URLSearchParams();
  if (ref.kind === 'experiment') {
    if (!ID_RE.test(ref.experimentId)) throw new RevUriError(`rev uri: invalid experiment id ${JSON.stringify(ref.experimentId)}`);
    if (ref.side !== 'base' && ref.side !== 'head') throw new RevUriError(`rev uri: invalid side ${JSON.stringify(ref.side)}`);
    q.set('x', ref.experimentId);
    q.set('side', ref.side);
  } else {
    if (!ID_RE.test(ref.agentId)) throw new RevUriError(`rev uri: invalid agent id ${JSON.stringify(ref.agentId)}`);
    if (!SHA_RE.test(ref.commit)) throw new RevUriError(`rev uri: not a full commit id ${JSON.stringify(ref.commit)}`);
    q.set('a', ref.agentId);
    q.set('c', ref.commit);
  }
  return { scheme: REV_SCHEME, authority: '', path: `/${rel}`, query: q.toString() };
}

export function fromRevUri(u: Pick<UriParts, 'scheme' | 'path' | 'query'>): RevRef {
  if (u.scheme !== REV_SCHEME) throw new RevUriError(`not an ${REV_SCHEME} uri: ${u.scheme}`);
  const path = checkPath(u.path);
  const q = new URLSearchParams(u.query);
  const x = q.get('x');
  if (x !== null) {
    const side = q.get('side');
    if (!ID_RE.test(x)) throw new RevUriError(`rev uri: invalid experiment id ${JSON.stringify(x)}`);
    if (side !== 'base' && side !== 'head') throw new RevUriError(`rev uri: invalid side ${JSON.stringify(side)}`);
    return { kind: 'experiment', experimentId: x, side, path };
  }
  const a = q.get('a');
  const c = q.get('c');
  if (a !== null && c !== null) {
    if (!ID_RE.test(a)) throw new RevUriError(`rev uri: invalid agent id ${JSON.stringify(a)}`);
    if (!SHA_RE.test(c)) throw new RevUriError(`rev uri: not a full commit id ${JSON.stringify(c)}`);
    return { kind: 'commit', agentId: a, commit: c, path };
  }
  throw new RevUriError(`rev uri: missing revision in query ${JSON.stringify(u.query)}`);
}
