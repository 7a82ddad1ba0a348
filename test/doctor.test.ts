// `crossroot doctor --json` on this machine: the JSON shape, and the checks
// whose outcome this machine fixes (kernel >= 6.7, unshare installed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { hasPrivateBinfmt } from '../src/core/host/kernel-release.ts';
import { runCliJson } from './support/cli.ts';

interface DoctorDoc {
  ok: boolean;
  checks: { id: string; ok: boolean; severity: string; message: string; fix: string | null }[];
}

test('doctor --json: shape, stable ids, exit status from error checks', async () => {
  const { code, json } = await runCliJson<DoctorDoc>(['doctor']);
  assert.equal(typeof json.ok, 'boolean');
  assert.equal(code, json.ok ? 0 : 1);
  assert.equal(json.ok, json.checks.every((check) => check.ok || check.severity !== 'error'));
  for (const check of json.checks) {
    assert.deepEqual(Object.keys(check), ['id', 'ok', 'severity', 'message', 'fix']);
    assert.match(check.id, /^[a-z0-9-]+$/);
    assert.ok(['error', 'warning', 'info'].includes(check.severity));
    assert.ok(check.message.length > 0);
    if (check.ok) assert.equal(check.fix, null, check.id);
    else assert.ok(check.fix !== null && check.fix.length > 0, `${check.id} fails without a fix`);
  }
  const ids = json.checks.map((check) => check.id);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
  for (const id of ['kernel-version', 'kernel-fix-binary', 'kernel-private-instances', 'binfmt-mounted', 'userns-max',
    'subuid', 'subgid', 'emulators-present', 'aarch32', 'tool-unshare', 'tool-mount', 'tool-newuidmap', 'tool-bootstrap', 'leaked-mounts']) {
    assert.ok(ids.includes(id), id);
  }
  const byId = new Map(json.checks.map((check) => [check.id, check]));
  // Deterministic here: this machine's kernel and tools.
  assert.equal(byId.get('kernel-private-instances')?.ok, hasPrivateBinfmt(release()));
  assert.equal(byId.get('kernel-fix-binary')?.ok, true);
  assert.equal(byId.get('tool-unshare')?.ok, true);
  assert.match(byId.get('tool-unshare')?.message ?? '', /\/unshare$/);
  if (process.arch !== 'arm64') assert.match(byId.get('aarch32')?.message ?? '', /^n\/a: /);
});
