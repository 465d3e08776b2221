package org.mmulab.kernel.fs;

import java.util.function.Consumer;

import org.mmulab.kernel.Errno;

/**
 * The character devices of drivers/char/mem.c and random.c that programs open by name: /dev/null
 * (reads end at once, writes vanish), /dev/zero (zeros; writes vanish), /dev/full (zeros; writes are
 * ENOSPC), /dev/random and /dev/urandom (the kernel's random stream: seeded under --deterministic),
 * and /dev/tty, which is ENXIO: mmulab's processes have no controlling terminal (their stdio are pipes).
 */
public final class Device extends Inode {
    public enum Kind { NULL, ZERO, FULL, RANDOM, URANDOM, TTY }

    public final Kind kind;
    private final Consumer<byte[]> random;

    public Device(SuperBlock sb, Kind kind, int major, int minor, Consumer<byte[]> random) {
        super(sb, sb.nextIno(), S_IFCHR | 0666);
        this.kind = kind;
        this.rdev = ((long) major << 8) | minor;
        this.random = random;
    }

    @Override
    public File open(Dentry d, int flags) throws FsException {
        if (kind == Kind.TTY && (flags & File.O_PATH) == 0) {
            throw new FsException(Errno.ENXIO);
        }
        return new File(d, this, flags) {
            @Override
            public boolean seekable() {
                return true;
            }

            @Override
            public synchronized int read(byte[] b, int off, int len) throws FsException {
                return pread(0, b, off, len);
            }

            @Override
            public synchronized int write(byte[] b, int off, int len) throws FsException {
                return pwrite(0, b, off, len);
            }

            @Override
            public synchronized long llseek(long off, int whence) {
                pos = 0;
                return 0;
            }
        };
    }

    @Override
    public int read(long pos, byte[] b, int off, int len) throws FsException {
        switch (kind) {
            case NULL:
                return 0;
            case RANDOM:
            case URANDOM: {
                byte[] r = new byte[len];
                random.accept(r);
                System.arraycopy(r, 0, b, off, len);
                return len;
            }
            default:
                java.util.Arrays.fill(b, off, off + len, (byte) 0);
                return len;
        }
    }

    @Override
    public int write(long pos, byte[] b, int off, int len) throws FsException {
        if (kind == Kind.FULL) {
            throw new FsException(Errno.ENOSPC);
        }
        return len;
    }

    @Override
    public void truncate(long size) {
        // O_TRUNC on a character device does nothing
    }

    @Override
    public boolean writable() {
        return true;
    }
}
