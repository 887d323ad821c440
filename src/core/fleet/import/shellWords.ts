/**
 * One line split into words the way sh would for a command's arguments (what a systemd unit or a
 * shell script hands syncoid): white space separates, '...' is literal, "..." keeps `\"`, `\\`, `\$`
 * and `` \` `` escapes, a backslash outside quotes escapes the next character, `#` at the start of a
 * word begins a comment. No expansion of `$VAR`, globs or command substitution: they stay as written.
 */
export type Words = { ok: true; words: string[] } | { ok: false; reason: string };

export function shellWords(line: string): Words {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else if (c === '#' && !inWord) {
      break;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return { ok: false, reason: 'unterminated single quote' };
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < line.length) {
        const d = line[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) {
          cur += line[i + 1];
          i += 2;
        } else {
          cur += d;
          i++;
        }
      }
      if (!closed) return { ok: false, reason: 'unterminated double quote' };
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= line.length) return { ok: false, reason: 'a backslash at the end of the line' };
      cur += line[i + 1];
      inWord = true;
      i += 2;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return { ok: true, words };
}
