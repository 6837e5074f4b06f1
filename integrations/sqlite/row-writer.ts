import type { Statement } from 'better-sqlite3';
import type { Db } from './open-database.ts';

/**
 * Inserts many rows of one table with multi-row INSERT statements (one statement per chunk),
 * which costs far less per row than one statement per row.
 */
export class RowWriter {
  private readonly byCount = new Map<number, Statement>();
  private readonly tuple: string;

  constructor(
    private readonly db: Db,
    private readonly table: string,
    private readonly columns: readonly string[],
    private readonly chunk = 32,
  ) {
    this.tuple = `(${columns.map(() => '?').join(',')})`;
  }

  /** `values` is flat: row after row, `columns.length` values each. */
  insert(values: readonly unknown[]): void {
    const width = this.columns.length;
    const rows = values.length / width;
    for (let at = 0; at < rows; at += this.chunk) {
      const n = Math.min(this.chunk, rows - at);
      this.statement(n).run(values.slice(at * width, (at + n) * width));
    }
  }

  private statement(n: number): Statement {
    let s = this.byCount.get(n);
    if (!s) {
      s = this.db.prepare(`INSERT INTO ${this.table} (${this.columns.join(',')}) VALUES ${Array(n).fill(this.tuple).join(',')}`);
      this.byCount.set(n, s);
    }
    return s;
  }
}
