// Unified diff -> rows for rendering (text only). Pure: no DOM.

export type DiffRowKind = 'meta' | 'hunk' | 'add' | 'del' | 'ctx' | 'note';
export interface DiffRow {
  kind: DiffRowKind;
  oldNo?: number;
  newNo?: number;
  text: string;
}

const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

export function parseUnifiedDiff(patch: string, maxRows = 5000): DiffRow[] {
  const rows: DiffRow[] = [];
  let oldNo = 0;
  let newNo = 0;
  let inHunk = false;
  const lines = patch.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (rows.length >= maxRows) {
      rows.push({ kind: 'note', text: `… ${lines.length - maxRows} more lines not shown` });
      break;
    }
    const m = HUNK.exec(line);
    if (m) {
      oldNo = Number(m[1]);
      newNo = Number(m[2]);
      inHunk = true;
      rows.push({ kind: 'hunk', text: line });
    } else if (!inHunk || line.startsWith('diff --git ')) {
      inHunk = false;
      rows.push({ kind: 'meta', text: line });
    } else if (line.startsWith('+')) rows.push({ kind: 'add', newNo: newNo++, text: line.slice(1) });
    else if (line.startsWith('-')) rows.push({ kind: 'del', oldNo: oldNo++, text: line.slice(1) });
    else if (line.startsWith('\\')) rows.push({ kind: 'note', text: line });
    else rows.push({ kind: 'ctx', oldNo: oldNo++, newNo: newNo++, text: line.slice(1) });
  }
  return rows;
}
