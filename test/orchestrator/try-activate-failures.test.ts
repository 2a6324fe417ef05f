/**
 * The seed's acceptance: a failed reload preserves the old plugin's client
 * and process registration. One table, one proof per failure.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAlive, openTestHost, TEST_TIMEOUTS, type TestHost } from '../helpers/host.js';
import { makePluginDir, type FakePluginSpec } from '../helpers/plugin-dirs.js';

interface FailureCase {
  /** What goes wrong, as the test name says it. */
  what: string;
  /** The candidate; name defaults to the slot's. */
  candidate: FakePluginSpec;
  /** Changes to the candidate directory after it is built. */
  tamper?: (dir: string) => Promise<void>;
  outcome: 'rolledBack' | 'rejected';
  failedStep: string | string[];
  code: string;
  /** A fragment the readable reason must contain. */
  reason: RegExp;
}

const sha = (c: string) => c.repeat(64);

/** The registry as callers see it: which process serves each plugin (the slot's own state excluded). */
// Without the slot's state and the process's usage (which moves on with time).
const registryOf = (t: TestHost) => t.host.listPlugins().map(({ state: _slotState, usage: _usage, ...entry }) => entry);

const failures: FailureCase[] = [
  { what: 'the executable is missing (path)', candidate: { manifest: { command: ['./bin/missing-plugin'] } }, outcome: 'rolledBack', failedStep: 'start', code: 'WFR_PLUGIN_COMMAND_NOT_FOUND', reason: /cannot run \.\/bin\/missing-plugin/ },
  { what: 'the executable is missing (PATH)', candidate: { manifest: { command: ['wfreload-no-such-program'] } }, outcome: 'rolledBack', failedStep: 'start', code: 'WFR_PLUGIN_COMMAND_NOT_FOUND', reason: /wfreload-no-such-program/ },
  { what: 'it exits before the handshake', candidate: { flags: ['exit-early'] }, outcome: 'rolledBack', failedStep: 'handshake', code: 'WFR_PLUGIN_EXITED', reason: /exited with code 3.*cannot open database/ },
  { what: 'it writes non-JSON to stdout', candidate: { flags: ['garbage-stdout'] }, outcome: 'rolledBack', failedStep: 'handshake', code: 'WFR_PLUGIN_PROTOCOL_ERROR', reason: /not JSON.*Starting plugin v1\.2/ },
  { what: 'it writes a line over the size limit', candidate: { flags: ['oversize-line=70000'] }, outcome: 'rolledBack', failedStep: 'handshake', code: 'WFR_PLUGIN_PROTOCOL_ERROR', reason: /exceeds the 65536-byte limit/ },
  { what: 'it does not answer initialize in time', candidate: { flags: ['hang-initialize'] }, outcome: 'rolledBack', failedStep: 'handshake', code: 'WFR_PLUGIN_HANDSHAKE_TIMEOUT', reason: new RegExp(`did not answer initialize within ${TEST_TIMEOUTS.handshakeMs} ms.*flushes each line \\(Python buffers stdout when it is a pipe: print\\(\\.\\.\\., flush=True\\)`) },
  { what: 'it reports another name', candidate: { flags: ['reply-name=impostor'] }, outcome: 'rolledBack', failedStep: 'handshake', code: 'WFR_PLUGIN_CONTRACT_MISMATCH', reason: /name = "impostor", but plugin.json declares "fake"/ },
  { what: 'it reports another version', candidate: { version: '2.0.0', flags: ['reply-version=1.9.0'] }, outcome: 'rolledBack', failedStep: 'handshake', code: 'WFR_PLUGIN_CONTRACT_MISMATCH', reason: /version = "1\.9\.0", but plugin.json declares "2\.0\.0"/ },
  { what: 'it reports another protocolVersion', candidate: { flags: ['reply-protocol=2'] }, outcome: 'rolledBack', failedStep: 'handshake', code: 'WFR_PLUGIN_CONTRACT_MISMATCH', reason: /protocolVersion = 2, but plugin.json declares 1/ },
  { what: 'it offers an extra step type', candidate: { flags: ['reply-steps=echo,shout'] }, outcome: 'rolledBack', failedStep: 'handshake', code: 'WFR_PLUGIN_CONTRACT_MISMATCH', reason: /\["echo","shout"\], but plugin.json declares \["echo"\]/ },
  { what: 'it misses a step type', candidate: { steps: ['echo', 'shout'], flags: ['reply-steps=echo'] }, outcome: 'rolledBack', failedStep: 'handshake', code: 'WFR_PLUGIN_CONTRACT_MISMATCH', reason: /contract\.steps\[\]\.type/ },
  { what: 'health returns not-ok', candidate: { flags: ['unhealthy'] }, outcome: 'rolledBack', failedStep: 'probe', code: 'WFR_PLUGIN_UNHEALTHY', reason: /"status":"degraded"/ },
  { what: 'health hangs', candidate: { flags: ['hang-health'] }, outcome: 'rolledBack', failedStep: 'probe', code: 'WFR_PLUGIN_CALL_TIMEOUT', reason: new RegExp(`did not answer health within ${TEST_TIMEOUTS.healthMs} ms`) },
  { what: 'a manifest probe gets the wrong output', candidate: { manifest: { probe: [{ step: 'echo', input: { x: 1 }, expect: { version: '0.0.1' } }] } }, outcome: 'rolledBack', failedStep: 'probe', code: 'WFR_PLUGIN_PROBE_FAILED', reason: /expected output containing \{"version":"0\.0\.1"\}/ },
  { what: 'it crashes right after the handshake', candidate: { flags: ['crash-after-initialize'] }, outcome: 'rolledBack', failedStep: ['handshake', 'probe'], code: 'WFR_PLUGIN_EXITED', reason: /exited with code 1/ },
  { what: 'a checksum does not match', candidate: { manifest: { sha256: { 'plugin.mjs': sha('0') } } }, outcome: 'rejected', failedStep: 'stage', code: 'WFR_CHECKSUM_MISMATCH', reason: /declares sha256 0{64}, the file has [0-9a-f]{64}/ },
  { what: 'a checksummed path escapes the directory', candidate: { manifest: { sha256: { '../outside.mjs': sha('a') } } }, outcome: 'rejected', failedStep: 'stage', code: 'WFR_PATH_ESCAPE', reason: /points outside the plugin directory/ },
  { what: 'the command escapes the directory', candidate: { manifest: { command: ['../../bin/sh'] } }, outcome: 'rejected', failedStep: 'stage', code: 'WFR_PATH_ESCAPE', reason: /outside the plugin directory/ },
  {
    what: 'a symlink escapes the directory',
    candidate: {},
    tamper: (dir) => symlink('/etc/passwd', join(dir, 'passwd')),
    outcome: 'rejected',
    failedStep: 'stage',
    code: 'WFR_PATH_ESCAPE',
    reason: /symlink to \/etc\/passwd, outside the plugin directory/,
  },
  {
    what: 'a nested symlink escapes the directory',
    candidate: {},
    tamper: async (dir) => {
      await mkdir(join(dir, 'lib'));
      await symlink('../../', join(dir, 'lib', 'up'));
    },
    outcome: 'rejected',
    failedStep: 'stage',
    code: 'WFR_PATH_ESCAPE',
    reason: /lib\/up/,
  },
];

describe('a failed reload keeps the old plugin exactly as it was', () => {
  let t: TestHost;
  beforeEach(async () => {
    t = await openTestHost({ maxLineBytes: 65_536 });
  });
  afterEach(() => t.close());

  it.each(failures)('when $what', async (failure) => {
    const good = await t.host.tryActivatePlugin('fake', await makePluginDir({ version: '1.0.0' }));
    expect(good.outcome).toBe('activated');
    const oldPid = good.active!.pid!;
    const registryBefore = registryOf(t);
    const markerBefore = await t.readMarker();
    const reply = await t.host.invoke('fake', 'echo', { n: 1 });

    const dir = await makePluginDir({ version: '2.0.0', ...failure.candidate });
    await failure.tamper?.(dir);
    const result = await t.host.tryActivatePlugin('fake', dir);

    // The result says what happened, where, and why.
    expect(result.outcome).toBe(failure.outcome);
    expect([failure.failedStep].flat()).toContain(result.failedStep);
    expect(result.error?.code).toBe(failure.code);
    expect(result.error?.message).toMatch(failure.reason);
    expect(result.steps.find((s) => s.error)?.error?.code).toBe(failure.code);
    // The old plugin: same pid, alive, answering as before.
    expect(result.active).toEqual(good.active);
    expect(isAlive(oldPid)).toBe(true);
    expect(await t.host.invoke('fake', 'echo', { n: 1 })).toEqual(reply);
    // Registry and marker: byte for byte.
    expect(registryOf(t)).toEqual(registryBefore);
    expect(await t.readMarker()).toBe(markerBefore);
    // The candidate is gone (reaped before the result was returned).
    if (result.candidate?.pid) expect(isAlive(result.candidate.pid)).toBe(false);
    if (failure.outcome === 'rolledBack' && failure.failedStep !== 'start') expect(result.candidate?.pid).toBeGreaterThan(0);
  });
});
