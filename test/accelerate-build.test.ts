// Twins end to end, in a build root derived from the default arm64 test root
// (test/support/accelerate-build.ts): a real Debian source package (libogg,
// autotools + libtool, C, with tests) built with `dpkg-buildpackage -b` emulated
// and with `run --accelerate` gives byte-identical .deb files, its tests pass
// in both, and the accelerated build's shells, make, sed, perl ... ran
// natively. Around it, what must still say arm64 does: uname, dpkg, perl's
// Config; fakeroot's preload reaches native programs; a native program that
// runs a program of the root runs the root's.
// The emulated build is cached (by the root's dpkg status and the source
// version): cold, this file takes ~15 minutes on a loaded 2-core machine,
// warm ~2 minutes. Needs root, network on first use.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { ProfileReport } from '../src/core/enter/profile.ts';
import { buildPackage, crossroot, emulatedBuild, ensureBuildRoot } from './support/accelerate-build.ts';
import type { SourcePackage } from './support/accelerate-build.ts';
import { runCli } from './support/cli.ts';

const LIBOGG: SourcePackage = { name: 'libogg', version: '1.3.5-3', dir: 'libogg-1.3.5' };

describe('twins: run --accelerate runs the root\'s same-version programs natively, and a real package comes out identical', { timeout: 3 * 60 * 60 * 1000 }, () => {
  let root = '';
  before(async () => {
    root = await ensureBuildRoot('arm64', []);
  });

  it('what reports the machine still says arm64; fakeroot reaches native programs; a native program runs the root\'s programs', async () => {
    const work = mkdtempSync(join(tmpdir(), 'crossroot-twins-'));
    chmodSync(work, 0o1777);
    try {
      const script = [
        'uname -m', 'env uname -m', 'dpkg --print-architecture', 'dpkg-architecture -qDEB_HOST_ARCH',
        'perl -MConfig -e \'print "$Config{archname} $Config{vendorarch}\\n"\'',
        // the shell itself is native: its own maps name the amd64 libc
        'grep -c "x86_64-linux-gnu/libc.so" /proc/$$/maps >/dev/null && echo native-sh',
        'fakeroot sh -c \'grep -q libfakeroot-sysv.so /proc/$$/maps && touch /tmp/f && chown 4321:4321 /tmp/f && stat -c "%u %g" /tmp/f\'',
        'stat -c "%u" /tmp/f',
      ].join('; ');
      const run = await crossroot(['run', root, '--accelerate', '--user', 'nobody', '--bind', `${work}:/tmp`, '--', 'sh', '-c', script]);
      assert.equal(run.exitCode, 0, run.stderr);
      const lines = run.stdout.trim().split('\n');
      assert.deepEqual(lines.slice(0, 6), [
        'aarch64', 'aarch64', 'arm64', 'arm64', 'aarch64-linux-gnu-thread-multi /usr/lib/aarch64-linux-gnu/perl5/5.40', 'native-sh',
      ]);
      // Under fakeroot the native sh, grep, touch, chown and stat ran with the tools root's same-version libfakeroot:
      // the chown was faked (nobody cannot chown), the file outside fakeroot is nobody's.
      assert.equal(lines[6], '4321 4321');
      assert.equal(lines[7], '65534');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('`crossroot accelerate ROOT` lists the twins by package: substituted, emulated and why', async () => {
    const listing = await runCli(['accelerate', root, '--no-create']);
    assert.equal(listing.code, 0, listing.stderr);
    assert.match(listing.stdout, /^ {2}coreutils \S+: \d+ native$/m);
    assert.match(listing.stdout, /^ {4}emulated: arch uname: policy: reports the machine/m);
    // Of dpkg, only dpkg-deb (which packs the .debs) and update-alternatives run natively.
    assert.match(listing.stdout, /^ {2}dpkg \S+: 2 native\n {4}native: dpkg-deb update-alternatives\n {4}emulated: dpkg .*: policy: dpkg and dpkg-query judge packages against the architecture compiled into libdpkg/m);
    // msgfmt and msgunfmt are guarded twins: native for .mo files.
    assert.match(listing.stdout, /^ {2}gettext \S+: \d+ native\n {4}native: .*\bmsgfmt\b.*\bmsgunfmt\b/m);
    assert.match(listing.stdout, /^ {4}native: .*\bperl\b/m);
    assert.match(listing.stdout, /^ {4}native: .*\bmake\b/m);
  });

  it('msgfmt: its guarded twin writes the .mo the root\'s own writes, and the root\'s own runs for --java', async () => {
    const work = mkdtempSync(join(tmpdir(), 'crossroot-msgfmt-'));
    chmodSync(work, 0o1777);
    try {
      writeFileSync(join(work, 'de.po'), [
        'msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"', '',
        'msgid "hello"', 'msgstr "hallo"', '', 'msgid "one file"', 'msgid_plural "%d files"', 'msgstr[0] "eine Datei"', 'msgstr[1] "%d Dateien"', '',
      ].join('\n'));
      // A missing input makes msgfmt name itself: the wrapper's choice shows.
      const script = 'msgfmt -c -o /tmp/twin.mo /tmp/de.po && msgfmt --java -r R -l de -d /tmp /tmp/missing.po; msgfmt -o /tmp/x.mo /tmp/missing.po; true';
      const accelerated = await crossroot(['run', root, '--accelerate', '--bind', `${work}:/tmp`, '--', 'sh', '-c', script]);
      assert.equal(accelerated.exitCode, 0, accelerated.stderr);
      assert.match(accelerated.stderr, /msgfmt\.emulated: .*missing\.po/);
      assert.match(accelerated.stderr, /msgfmt\.native: .*missing\.po/);
      const emulated = await crossroot(['run', root, '--accelerate', '--bind', `${work}:/tmp`, '--', 'msgfmt', '-c', '-o', '/tmp/root.mo', '/tmp/de.po'],
        { CROSSROOT_ACCELERATE_EMULATE: 'gettext' });
      assert.equal(emulated.exitCode, 0, emulated.stderr);
      assert.deepEqual(readFileSync(join(work, 'twin.mo')), readFileSync(join(work, 'root.mo')));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('libogg: the .deb files of the emulated and the accelerated dpkg-buildpackage -b are byte-identical, tests passing in both', async () => {
    const emulated = await emulatedBuild(root, LIBOGG);
    const accelerated = await buildPackage(root, LIBOGG, ['--accelerate']);
    assert.ok(Object.keys(emulated.debs).length >= 2, JSON.stringify(emulated.debs));
    assert.deepEqual(accelerated.debs, emulated.debs);
    for (const log of [emulated.log, accelerated.log]) {
      // make check runs both test programs (a failing one fails the build); their last checks printed 'ok'.
      assert.match(log, /^Testing unaligned writecopies \(MSb\): ok\./m, 'test_bitwise ran');
      assert.match(log, /^Testing loss of pages \(rollback required\)\.\.\. ok\./m, 'test_framing ran');
    }
    const profile = accelerated.profile as ProfileReport;
    const mode = (program: string): string | undefined => profile.programs.find((row) => row.program === program)?.mode;
    assert.equal(mode('/usr/bin/perl'), 'native', JSON.stringify(profile.programs.slice(0, 10)));
    assert.ok(profile.programs.some((row) => /\/(?:dash|bash|sh)$/.test(row.program) && row.mode === 'native'));
    console.log(`libogg ${LIBOGG.version}: emulated ${emulated.seconds.toFixed(0)} s${emulated.cached ? ' (cached)' : ''}, accelerated ${accelerated.seconds.toFixed(0)} s`);
  });
});
