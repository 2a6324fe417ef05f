/** Runs in every test file: its temporary directories go when the file ends, pass or fail. */
import { afterAll } from 'vitest';
import { removeTempDirs } from './helpers/temp.js';

// Registered before the file's own hooks, so it runs after them (vitest runs after-hooks in reverse):
// hosts are stopped first, then their state directories are removed.
afterAll(removeTempDirs);
