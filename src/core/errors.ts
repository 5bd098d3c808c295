/**
 * The one error type for bad input. It names where the problem is (file, item, field) so the
 * reader or operator can act on it, and so tests can assert on the location, not on wording.
 */
export class DataError extends Error {
  readonly file: string;
  readonly item?: string;
  readonly field?: string;
  constructor(file: string, message: string, where: { item?: string; field?: string } = {}) {
    const parts = [file];
    if (where.item !== undefined) parts.push(`item ${where.item}`);
    if (where.field !== undefined) parts.push(`field "${where.field}"`);
    super(`${parts.join(', ')}: ${message}`);
    this.name = 'DataError';
    this.file = file;
    this.item = where.item;
    this.field = where.field;
  }
}
