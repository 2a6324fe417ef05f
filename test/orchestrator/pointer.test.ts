/**
 * One path to the active pointer: the registry's pointer moves only through
 * the writer the orchestrator claims once from its plugin host and hands to
 * the slot work. It is module-private, not a convention: the host has no
 * method that moves it, its registry cannot be written through, and a second
 * claim throws.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { normalizeOrchestratorOptions } from '../../src/orchestrator/options.js';
import { PluginHost } from '../../src/orchestrator/plugin-host.js';
import { openTestHost } from '../helpers/host.js';
import { makePluginDir, tempDir } from '../helpers/plugin-dirs.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the registry pointer', () => {
  it('has no writer on the host itself, and a registry that cannot be written through', async () => {
    const host = new PluginHost(normalizeOrchestratorOptions({ stateDir: await tempDir(), logger: pino({ level: 'silent' }) }));
    const methods = Object.getOwnPropertyNames(PluginHost.prototype);
    expect(methods).toContain('claimPointer');
    for (const writer of ['setActive', 'replaceRegistry', 'set', 'delete', 'clear']) expect(methods).not.toContain(writer);
    for (const writer of ['set', 'delete', 'clear']) expect((host.registry as unknown as Record<string, unknown>)[writer]).toBeUndefined();
  });

  it('is handed out once: a second claim throws', async () => {
    const host = new PluginHost(normalizeOrchestratorOptions({ stateDir: await tempDir(), logger: pino({ level: 'silent' }) }));
    const pointer = host.claimPointer();
    expect(() => host.claimPointer()).toThrow(/already handed out/);
    // The first holder does move it, and readers see it.
    const ref = { name: 'a', version: '1.0.0', dir: '/x', digest: 'd', instanceId: 'a#1', pid: 1 };
    expect(pointer.setActive('a', ref)).toBeNull();
    expect(host.registry.get('a')).toBe(ref);
  });

  it('is already claimed in a running orchestrator, so nothing else can move its pointer', async () => {
    const t = await openTestHost();
    try {
      await t.host.tryActivatePlugin('fake', await makePluginDir());
      const host = (t.host as unknown as { host: PluginHost }).host;
      expect(() => host.claimPointer()).toThrow(/already handed out/);
      expect(host.registry.get('fake')?.version).toBe('1.0.0');
    } finally {
      await t.close();
    }
  });

  it('is used only by the slot work (plugin swap, swap back, reinstate; engine swap and swap back) and the legacy path', () => {
    const sources = (dir: string): string[] => readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    const movers = sources('src').filter((file) => /\.(setActive|replaceRegistry)\(/.test(readFileSync(join(root, file), 'utf8')));
    expect(movers.sort()).toEqual(['src/orchestrator/engine-runtime.ts', 'src/orchestrator/legacy-reload.ts', 'src/orchestrator/plugin-slot-actors.ts']);
    const claimers = sources('src').filter((file) => /\.claimPointer\(/.test(readFileSync(join(root, file), 'utf8')));
    expect(claimers).toEqual(['src/orchestrator/orchestrator.ts']);
  });
});
