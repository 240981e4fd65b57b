#!/usr/bin/env python3
"""vm_image.py: a bootable Debian 12 disk with bora-agent, without loop devices.

    vm_image.py AGENT_DEB OUTDIR      (prints the paths it made)

The base is `debootstrap --variant=minbase` of bookworm with systemd,
cloud-init and the cloud kernel, plus the runtime libraries the .deb
depends on. It is cached as a tar file under BORA_VM_CACHE (default
/var/cache/bora-test/vm) keyed by the sha256 of the package list and the
mirror, so a warm run only unpacks it. On top of a fresh copy of that base
each run installs the bora-agent .deb built by this run (dpkg -i in a
chroot), then makes OUTDIR/root.img with `mkfs.ext4 -d` (no loop device,
no root mount) and copies the kernel and initrd out for qemu's -kernel.

Known traps on these machines: debootstrap does not resolve virtual
packages (python3-cffi-backend is listed by hand); raw images by
diskimage-builder need device-mapper, which is why this does not use it.
Root is needed (debootstrap, chroot).
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

SUITE = 'bookworm'
MIRROR = os.environ.get('BORA_VM_MIRROR', 'http://deb.debian.org/debian')
CACHE = os.environ.get('BORA_VM_CACHE', '/var/cache/bora-test/vm')
IMAGE_MB = 1536

# What the guest needs besides the agent's own Depends (read from the .deb).
BASE_PACKAGES = [
    'systemd', 'systemd-sysv', 'udev', 'dbus', 'cloud-init',
    'python3-cffi-backend', 'linux-image-cloud-amd64', 'initramfs-tools',
    'ifupdown', 'isc-dhcp-client', 'iproute2', 'procps', 'coreutils',
]


def deb_depends(deb):
    """The package names of the .deb's Depends (versions and | dropped)."""
    out = subprocess.run(['dpkg-deb', '-f', deb, 'Depends'], check=True,
                         capture_output=True, text=True).stdout
    names = []
    for item in out.split(','):
        name = item.split('|')[0].split('(')[0].strip()
        if name:
            names.append(name)
    return names


def package_list(deb):
    return sorted(set(BASE_PACKAGES + deb_depends(deb)))


def cache_key(packages):
    h = hashlib.sha256()
    h.update(('%s %s\n' % (SUITE, MIRROR)).encode())
    h.update('\n'.join(packages).encode())
    return h.hexdigest()[:16]


def base_tar(packages, log):
    """The cached base rootfs tar for these packages, built if missing."""
    os.makedirs(CACHE, mode=0o700, exist_ok=True)
    path = os.path.join(CACHE, 'base-%s.tar' % cache_key(packages))
    if os.path.exists(path):
        log('vm_image: base cached: %s' % path)
        return path, False
    work = tempfile.mkdtemp(prefix='bora-vm-debootstrap-', dir=CACHE)
    try:
        root = os.path.join(work, 'root')
        t0 = time.monotonic()
        subprocess.run(['debootstrap', '--variant=minbase',
                        '--include=' + ','.join(packages), SUITE, root, MIRROR],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
        # apt's downloaded .debs are not part of the image.
        shutil.rmtree(os.path.join(root, 'var/cache/apt/archives'),
                      ignore_errors=True)
        tmp = path + '.part'
        # GNU tar keeps owners, modes, xattrs and device nodes as they are.
        subprocess.run(['tar', '--numeric-owner', '--xattrs', '-C', root,
                        '-cf', tmp, '.'], check=True)
        os.rename(tmp, path)
        log('vm_image: debootstrap took %.1f s' % (time.monotonic() - t0))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path, True


def write(root, rel, text, mode=0o644):
    p = os.path.join(root, rel.lstrip('/'))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'w', encoding='utf-8') as f:
        f.write(text)
    os.chmod(p, mode)


def configure(root, deb):
    """Install the agent .deb and make the tree boot on qemu's virtio disk."""
    shutil.copy(deb, os.path.join(root, 'tmp', 'bora-agent.deb'))
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive', LC_ALL='C')
    subprocess.run(['chroot', root, 'dpkg', '-i', '/tmp/bora-agent.deb'],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    os.unlink(os.path.join(root, 'tmp', 'bora-agent.deb'))
    write(root, '/etc/fstab', '/dev/vda / ext4 defaults,errors=remount-ro 0 1\n')
    write(root, '/etc/hostname', 'bora-vm\n')
    # NoCloud only: no time lost probing clouds that are not there.
    write(root, '/etc/cloud/cloud.cfg.d/90-bora-test.cfg',
          'datasource_list: [NoCloud, None]\n')
    write(root, '/etc/network/interfaces',
          'auto lo\niface lo inet loopback\n'
          'source /etc/network/interfaces.d/*\n')
    # The machine id is made at first boot, as on a real image.
    write(root, '/etc/machine-id', '')


def kernel_files(root, outdir):
    boot = os.path.join(root, 'boot')
    names = sorted(os.listdir(boot))
    vmlinuz = [n for n in names if n.startswith('vmlinuz-')]
    initrd = [n for n in names if n.startswith('initrd.img-')]
    if not vmlinuz or not initrd:
        raise RuntimeError('no kernel or initrd in %s: %s' % (boot, names))
    kernel = os.path.join(outdir, 'vmlinuz')
    ramdisk = os.path.join(outdir, 'initrd.img')
    shutil.copy(os.path.join(boot, vmlinuz[-1]), kernel)
    shutil.copy(os.path.join(boot, initrd[-1]), ramdisk)
    return kernel, ramdisk


def build(deb, outdir, log=print):
    """Make outdir/root.img, vmlinuz and initrd.img; returns a dict of paths
    and timings (debootstrap ran or not)."""
    t0 = time.monotonic()
    packages = package_list(deb)
    tar, cold = base_tar(packages, log)
    root = os.path.join(outdir, 'rootfs')
    os.makedirs(root)
    subprocess.run(['tar', '--numeric-owner', '--xattrs', '-C', root,
                    '-xf', tar], check=True)
    configure(root, deb)
    kernel, ramdisk = kernel_files(root, outdir)
    image = os.path.join(outdir, 'root.img')
    subprocess.run(['mkfs.ext4', '-q', '-F', '-L', 'bora-root', '-d', root,
                    image, '%dM' % IMAGE_MB], check=True)
    shutil.rmtree(root)
    return {'image': image, 'kernel': kernel, 'initrd': ramdisk,
            'cold': cold, 'seconds': time.monotonic() - t0}


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    os.makedirs(argv[2], exist_ok=True)
    r = build(argv[1], argv[2])
    for k, v in sorted(r.items()):
        print('%s: %s' % (k, v))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
