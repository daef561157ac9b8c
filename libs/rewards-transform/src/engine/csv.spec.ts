import { formatCsv, parseCsv } from './csv';

describe('parseCsv', () => {
  it('handles quotes, embedded commas, quotes and newlines, CRLF and a missing final newline', () => {
    const parsed = parseCsv('\ufeffa,b,c\r\n1,"x, ""y""\nz",3\r\n4,,"6"');
    expect(parsed.header).toEqual(['a', 'b', 'c']);
    expect(parsed.rowCount).toBe(2);
    expect(parsed.columns).toEqual([
      ['1', '4'],
      ['x, "y"\nz', ''],
      ['3', '6'],
    ]);
  });

  it('pads short rows and keeps a trailing empty cell', () => {
    expect(parseCsv('a,b,c\n1\n2,3,\n').columns).toEqual([
      ['1', '2'],
      ['', '3'],
      ['', ''],
    ]);
  });

  it('round-trips what formatCsv writes, unicode and edge whitespace included', () => {
    const rows = [
      { a: ' padded ', b: '東京, "quoted"', c: null },
      { a: 'x', b: 'line\nbreak', c: 3 },
    ];
    const parsed = parseCsv(formatCsv(['a', 'b', 'c'], rows));
    expect(parsed.columns).toEqual([
      [' padded ', 'x'],
      ['東京, "quoted"', 'line\nbreak'],
      ['', '3'],
    ]);
  });
});
