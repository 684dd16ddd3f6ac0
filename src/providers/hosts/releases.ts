import type { HostSession } from './ssh.js';

/**
 * A version's release folder on a host, made once: when it is missing the tarball is uploaded beside it,
 * unpacked into a temporary folder, and renamed into place, so a folder that exists is whole.
 */
export async function releaseOnHost(
  session: HostSession,
  release: string,
  uploadTarball: () => Promise<string>,
): Promise<void> {
  const there = await session.run(['test', '-d', release]);
  if (there.code === 0) return;
  const tarball = await uploadTarball();
  const unpacked = await session.run([
    'sh',
    '-c',
    // A tarball that will not unpack leaves nothing behind: neither the half-unpacked folder nor itself.
    'set -e; rm -rf "$1.tmp"; mkdir -p "$1.tmp"; tar -xzf "$2" -C "$1.tmp" || { s=$?; rm -rf "$1.tmp" "$2"; exit $s; }; rm -rf "$1"; mv "$1.tmp" "$1"; rm -f "$2"',
    'sh',
    release,
    tarball,
  ]);
  if (unpacked.code !== 0)
    throw new Error(
      `${session.host}: unpacking ${tarball} into ${release} failed: ${unpacked.stderr.trim().slice(-400)}`,
    );
}

/** Uploads a local file and returns where it went. */
export async function upload(session: HostSession, local: string, remote: string): Promise<string> {
  await session.upload(local, remote);
  return remote;
}
