// Research directions: one per agent, read from a markdown file whose level-2 headings start each direction
// (`## 3. Noise-robust objectives` followed by paragraphs). Pure parsing plus one file read.
import * as fs from 'node:fs';

export interface Direction {
  /** 1-based position in the file. */
  index: number;
  title: string;
  /** The full text given to the agent: title line and body. */
  text: string;
}

export class DirectionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DirectionsError';
  }
}

const MAX_DIRECTION_CHARS = 20_000; // the agent.registered schema's limit

/** Parse directions from markdown. Text before the first `## ` heading is a preamble and is ignored. */
export function parseDirections(markdown: string): Direction[] {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const out: Direction[] = [];
  let cur: { title: string; body: string[] } | undefined;
  let inFence = false;
  const flush = () => {
    if (!cur) return;
    const body = cur.body.join('\n').trim();
    const text = `${cur.title}\n\n${body}`.trim();
    if (text.length > MAX_DIRECTION_CHARS) {
      throw new DirectionsError(`direction ${out.length + 1} ("${cur.title}") is ${text.length} characters; the limit is ${MAX_DIRECTION_CHARS}`);
    }
    out.push({ index: out.length + 1, title: cur.title, text });
  };
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const m = !inFence && /^##\s+(.*\S)\s*$/.exec(line);
    if (m) {
      flush();
      const title = m[1]!.replace(/^\d+[.)]\s*/, '').trim();
      if (!title) throw new DirectionsError(`empty direction heading: ${JSON.stringify(line)}`);
      cur = { title, body: [] };
    } else if (cur) {
      cur.body.push(line);
    }
  }
  flush();
  return out;
}

/** Read a directions file and pick one direction per agent; errors clearly if there are too few. */
export function loadDirections(file: string, agents: number): Direction[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new DirectionsError(`cannot read directions file ${file}: ${(err as Error).message}`);
  }
  const all = parseDirections(text);
  if (all.length === 0) throw new DirectionsError(`${file} has no directions (expected "## " headings, one per direction)`);
  if (all.length < agents) {
    throw new DirectionsError(`${file} has ${all.length} direction(s) but ${agents} agents were asked for; each agent needs its own`);
  }
  const seen = new Map<string, number>();
  for (const d of all) {
    const key = d.text.toLowerCase().replace(/\s+/g, ' ');
    const prev = seen.get(key);
    if (prev !== undefined) throw new DirectionsError(`directions ${prev} and ${d.index} are identical; diversity needs distinct directions`);
    seen.set(key, d.index);
  }
  return all.slice(0, agents);
}

/** Agent ids used by the fleet runtime and the simulator: agent-1 … agent-N. */
export function agentIdFor(i: number): string {
  return `agent-${i + 1}`;
}
