import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTextFile } from '../../src/util/read-text.js';
import { tempDir } from '../helpers/plugin-dirs.js';

describe('readTextFile', () => {
  const bytes: Array<[string, Buffer]> = [
    ['an empty file', Buffer.alloc(0)],
    ['a small JSON file', Buffer.from('{"name": "fake", "version": "1.0.0"}\n')],
    ['a byte-order mark, kept as readFile keeps it', Buffer.from('\ufeff{"a": 1}')],
    ['multi-byte characters and bytes that are not UTF-8', Buffer.concat([Buffer.from('héllo ☃ '), Buffer.from([0xff, 0xfe, 0xc3])])],
    ['exactly 64 KiB', Buffer.alloc(64 * 1024, 'a')],
    ['a file over 64 KiB, with a character across the 64 KiB boundary', Buffer.concat([Buffer.alloc(64 * 1024 - 1, 'b'), Buffer.from('☃'), Buffer.alloc(200 * 1024, 'c')])],
  ];

  it.each(bytes)('reads %s exactly as readFile(path, "utf8") does', async (_, content) => {
    const file = join(await tempDir(), 'f');
    await writeFile(file, content);
    expect(await readTextFile(file)).toBe(await readFile(file, 'utf8'));
  });

  it('reads a file whose size says nothing (/proc) to its end', async () => {
    const text = await readTextFile(`/proc/${process.pid}/status`);
    expect(text).toMatch(/^Name:/);
    expect(text).toContain(`Pid:\t${process.pid}\n`);
  });

  it('reads a FIFO written in pieces to its end (no seeking)', async () => {
    const fifo = join(await tempDir(), 'fifo');
    execFileSync('mkfifo', [fifo]);
    // A writer that sends three pieces, pausing between them, then closes.
    const writer = spawn(process.execPath, ['-e', `const fs = require('fs'); const fd = fs.openSync(${JSON.stringify(fifo)}, 'w'); fs.writeSync(fd, 'one '); setTimeout(() => { fs.writeSync(fd, 'two '); setTimeout(() => { fs.writeSync(fd, 'three'); fs.closeSync(fd); }, 30); }, 30);`]);
    expect(await readTextFile(fifo)).toBe('one two three');
    await new Promise((resolve) => writer.once('exit', resolve));
  });

  it('fails as readFile does: ENOENT for a missing file, EISDIR for a directory', async () => {
    const dir = await tempDir();
    await expect(readTextFile(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    await mkdir(join(dir, 'd'));
    await expect(readTextFile(join(dir, 'd'))).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
