// Serial markers and line splitting.
//
// The monitor speaks to programs with lines of the form
//   @cg <kind> key=value key="quoted value with spaces"
// Kind and keys are [A-Za-z0-9_.-]+. A bare value runs to the next space; a
// quoted value may contain spaces and the escapes \" and \\. Anything that is
// not a well-formed marker parses to null (never throws), so guest noise on
// the same line cannot crash the harness.

import { StringDecoder } from 'node:string_decoder';

export interface Marker {
  kind: string;
  fields: Record<string, string>;
}

const NAME = /^[A-Za-z0-9_.-]+/;

/** Parses one serial line; null for non-marker or malformed lines. */
export function parseMarker(line: string): Marker | null {
  const s = line.replace(/\r$/, '').trim();
  if (!s.startsWith('@cg ')) return null;
  let i = 4;
  const skipSpaces = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  skipSpaces();
  const kind = NAME.exec(s.slice(i));
  if (!kind) return null;
  i += kind[0].length;
  const fields: Record<string, string> = Object.create(null);
  while (i < s.length) {
    if (s[i] !== ' ' && s[i] !== '\t') return null;
    skipSpaces();
    if (i >= s.length) break;
    const key = NAME.exec(s.slice(i));
    if (!key || s[i + key[0].length] !== '=') return null;
    i += key[0].length + 1;
    let value = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const c = s[i++];
        if (c === '"') {
          closed = true;
          break;
        }
        if (c === '\\') {
          const n = s[i++];
          if (n !== '"' && n !== '\\') return null;
          value += n;
        } else value += c;
      }
      if (!closed) return null;
    } else {
      while (i < s.length && s[i] !== ' ' && s[i] !== '\t') {
        if (s[i] === '"') return null;
        value += s[i++];
      }
    }
    fields[key[0]] = value;
  }
  return { kind: kind[0], fields: { ...fields } };
}

/**
 * Turns serial byte chunks into lines. Lines end at \n; a \r before it is
 * dropped. Partial lines (and partial UTF-8 sequences) carry over to the
 * next chunk.
 */
export class LineSplitter {
  private decoder = new StringDecoder('utf8');
  private pending = '';

  /** Adds a chunk; returns the lines it completed, without terminators. */
  push(chunk: Buffer | string): string[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const parts = this.pending.split('\n');
    this.pending = parts.pop() ?? '';
    return parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }

  /** The text after the last newline, not yet returned as a line. */
  get partial(): string {
    return this.pending;
  }

  /** Ends the stream: returns the unterminated last line, if any. */
  flush(): string | null {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest === '') return null;
    return rest.endsWith('\r') ? rest.slice(0, -1) : rest;
  }
}
