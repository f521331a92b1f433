// What a terminal shows for the bytes a program wrote to it: enough of a VT100 for readline's line editing (cursor
// moves, erasing) and plain text, so the terminal specs assert what the user sees, not which escape codes drew it.

/** The screen: its rows (trailing spaces dropped) and where the cursor is (0-based). */
export interface Screen {
  readonly lines: readonly string[];
  readonly cursor: { readonly row: number; readonly column: number };
}

/** Renders `output` on an empty screen as wide as `columns`. Colours and modes (`ESC [ ... m`, `ESC [ ? ... h`) are ignored. */
export function terminalScreen(output: string, columns = 200): Screen {
  const rows: string[][] = [[]];
  let row = 0;
  let column = 0;
  const line = () => (rows[row] ??= []);
  const erase = (from: number, to: number) => {
    const cells = line();
    for (let index = from; index < Math.min(to, cells.length); index++) cells[index] = ' ';
  };
  const characters = Array.from(output);
  for (let index = 0; index < characters.length; index++) {
    const character = characters[index]!;
    if (character === '\r') column = 0;
    else if (character === '\n') row++;
    else if (character === '\b') column = Math.max(0, column - 1);
    else if (character === '\u0007') continue;
    else if (character === '\u001b') {
      if (characters[index + 1] !== '[') {
        index++;
        continue;
      }
      let end = index + 2;
      while (end < characters.length && !/[@-~]/.test(characters[end]!)) end++;
      const parameters = characters.slice(index + 2, end).join('');
      const final = characters[end];
      index = end;
      if (parameters.startsWith('?')) continue;
      const count = parameters === '' ? undefined : Number(parameters.split(';')[0]);
      switch (final) {
        case 'G':
          column = (count ?? 1) - 1;
          break;
        case 'C':
          column += count ?? 1;
          break;
        case 'D':
          column = Math.max(0, column - (count ?? 1));
          break;
        case 'A':
          row = Math.max(0, row - (count ?? 1));
          break;
        case 'B':
          row += count ?? 1;
          break;
        case 'K':
          if ((count ?? 0) === 0) erase(column, Number.POSITIVE_INFINITY);
          else if (count === 1) erase(0, column + 1);
          else erase(0, Number.POSITIVE_INFINITY);
          break;
        case 'J':
          if ((count ?? 0) === 0) {
            erase(column, Number.POSITIVE_INFINITY);
            rows.length = Math.min(rows.length, row + 1);
          }
          break;
        default:
        // Colours (m) and anything else that does not move the cursor or change text.
      }
    } else {
      if (column >= columns) {
        row++;
        column = 0;
      }
      const cells = line();
      while (cells.length < column) cells.push(' ');
      cells[column] = character;
      column++;
    }
  }
  const lines = Array.from({ length: Math.max(rows.length, row + 1) }, (_, index) => (rows[index] ?? []).join('').trimEnd());
  return { lines, cursor: { row, column } };
}
