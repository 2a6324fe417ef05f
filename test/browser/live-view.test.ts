/**
 * The live view in a real browser (Debian's chromium through playwright-core):
 * it draws the slot machines, and highlights the state a reload reaches.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeConfig, writeRawConfig } from '../helpers/configs.js';
import { launchBrowser } from '../helpers/browser.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';
import { startServe, wfctl, type RunningHost } from '../helpers/serve.js';

const screenshot = fileURLToPath(new URL('../../docs/live-view.png', import.meta.url));

let browser: Browser;
let host: RunningHost;
let stateDir: string;

beforeAll(async () => {
  stateDir = await tempDir('wfr-live-');
  host = await startServe(stateDir, await writeConfig({ tag: 'A' }));
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

it('shows each slot machine and follows a reload triggered through the API to its outcome', async () => {
  const url = JSON.parse((await wfctl(host, stateDir, 'live', '--json')).stdout).url as string;
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  await page.goto(url);
  await page.waitForSelector('body[data-live="true"]');
  // Both kinds of slot are drawn from the machine definitions, with their current state.
  await page.waitForSelector('.slot[data-actor="engine"][data-current="active"]');
  await page.waitForSelector('.slot[data-actor="plugin:fake"][data-current="active"]');
  const pluginStates = await page.locator('.slot[data-actor="plugin:fake"] .state').evaluateAll((boxes) => boxes.map((b) => b.getAttribute('data-state')));
  expect(pluginStates).toEqual(expect.arrayContaining(['idle', 'staging', 'staged', 'candidateStarted', 'handshaked', 'healthy', 'probed', 'draining', 'active', 'rolledBack']));

  // A bad candidate through the API: the page sees the slot end in rolledBack, and the result row.
  const bad = await wfctl(host, stateDir, 'plugin', 'try-activate', 'fake', await makePluginDir({ version: '2.0.0', flags: ['unhealthy'] }), '--json');
  const result = JSON.parse(bad.stdout);
  await page.waitForSelector(`tr[data-reload="${result.id}"] td.rolledBack`);
  expect(await page.locator(`tr[data-reload="${result.id}"]`).innerText()).toContain('WFR_PLUGIN_UNHEALTHY');
  // A failed attempt is not a plugin down: the card says the old version serves, and is not painted red.
  const card = page.locator('.slot[data-actor="plugin:fake"]');
  await page.waitForSelector('.slot[data-actor="plugin:fake"][data-current="rolledBack"] .state.current.attempt');
  await page.waitForSelector('.slot[data-actor="plugin:fake"][data-health="serving"]');
  expect(await card.locator('.health').innerText()).toBe('· serving 1.0.0');
  // Its process's resident memory and CPU time, from the status.
  expect(await card.locator('.usage').innerText()).toMatch(/^· \d+ MiB, cpu \d+\.\d s$/);
  expect(await card.locator('.state.current.bad').count()).toBe(0);
  expect(await card.evaluate((node) => (globalThis as unknown as { getComputedStyle: (n: unknown) => { borderTopColor: string } }).getComputedStyle(node).borderTopColor)).not.toBe('rgb(207, 34, 46)');

  // A good one: back to active.
  const good = JSON.parse((await wfctl(host, stateDir, 'plugin', 'try-activate', 'fake', await makePluginDir({ version: '2.1.0' }), '--json')).stdout);
  await page.waitForSelector('.slot[data-actor="plugin:fake"][data-current="active"]');
  await page.waitForSelector(`tr[data-reload="${good.id}"]`);

  // Newest first, whether a row came live or with the history a fresh page loads.
  const order = () => page.locator('#reloads tr[data-reload]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-reload')));
  const live = await order();
  expect(live.slice(0, 2)).toEqual([good.id, result.id]);
  await page.reload();
  await page.waitForSelector('body[data-live="true"]');
  await page.waitForSelector(`tr[data-reload="${good.id}"]`);
  const loaded = await order();
  expect(loaded.slice(0, 2)).toEqual([good.id, result.id]);
  const history = JSON.parse((await wfctl(host, stateDir, 'reloads', '--json', '--limit', '20')).stdout).reloads.map((r: { id: string }) => r.id);
  expect(loaded).toEqual(history);

  // A config with a YAML syntax error: the row gives the parser's reason (line and column), not just the file name.
  const badYaml = await writeRawConfig('http:\n  listen: [127.0.0.1:0\npipelines: {');
  const rejected = JSON.parse((await wfctl(host, stateDir, 'config', 'try-activate', badYaml, '--json')).stdout);
  await page.waitForSelector(`tr[data-reload="${rejected.id}"] td.rejected`);
  const reason = await page.locator(`tr[data-reload="${rejected.id}"] td`).last().innerText();
  expect(reason).toMatch(/^WFR_CONFIG_INVALID: Invalid engine config .*: ✖ .* at line \d+, column \d+:/);
  // UPDATE_SCREENSHOT=1 refreshes the one in docs/; otherwise it goes to the temporary state directory.
  await page.screenshot({ path: process.env.UPDATE_SCREENSHOT ? screenshot : join(stateDir, 'live-view.png'), fullPage: true });
});
