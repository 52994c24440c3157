/**
 * Minimal RFC 4180 CSV reader for the converters (quoted fields, doubled
 * quotes, embedded commas and newlines, CRLF). Owns parsing only; must not
 * know any source's columns. Errors name the file and 1-based record index.
 */
import { ConvertError } from "./common.js";

/** Parses CSV text into header-keyed records. Record index 0 is the first data row. */
export function parseCsv(text: string, file: string): Record<string, string>[] {
  const table: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
      continue;
    }
    if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      table.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  if (quoted) throw new ConvertError(file, table.length - 1, "(csv)", "unterminated quoted field");
  if (field !== "" || row.length > 0) {
    row.push(field);
    table.push(row);
  }
  const [header, ...body] = table;
  if (!header) throw new ConvertError(file, -1, "(header)", "empty CSV file");
  return body
    .filter((r) => !(r.length === 1 && r[0] === ""))
    .map((r, index) => {
      if (r.length !== header.length) {
        throw new ConvertError(file, index, "(csv)", `expected ${header.length} columns, got ${r.length}`);
      }
      return Object.fromEntries(header.map((h, j) => [h, r[j]]));
    });
}
