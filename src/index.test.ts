import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crossroot from './index.ts';

test('the library entry exposes the core and reads an ELF header', () => {
  const probe = crossroot.buildProbeElf('aarch64', 42);
  const elf = crossroot.parseElfBytes(probe);
  assert.equal(crossroot.archOfElf(elf)?.name, 'aarch64');
  assert.equal(crossroot.resolveArch('arm64').name, 'aarch64');
  const rule = crossroot.parseRegisterString(':x:M::\\x7fELF::/bin/true:F');
  assert.equal(rule.ok, true);
  assert.equal(typeof crossroot.main, 'function');
  assert.equal(typeof crossroot.exportImage, 'function');
  assert.equal(typeof crossroot.importImage, 'function');
});
