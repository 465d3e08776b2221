package org.mmulab.kernel.fs;

import org.mmulab.kernel.Errno;

/**
 * A character device whose only file operation is mmap (a driver's f_op->mmap; Linux 6.x
 * drivers/char style): read and write are EINVAL (no FMODE_CAN_READ / FMODE_CAN_WRITE), the mapping
 * itself is made by {@link Driver}. mmulab's /dev/mmulab-pfn and /dev/mmulab-page are such devices.
 */
public final class DriverDevice extends Inode {
    /** The driver's mmap: maps [addr, addr + len) of the caller's mm at device offset pgoff; address or -errno. */
    @FunctionalInterface
    public interface Driver {
        long mmap(long addr, long len, int prot, int flags, long pgoff);
    }

    private final Driver driver;

    public DriverDevice(SuperBlock sb, int major, int minor, Driver driver) {
        super(sb, sb.nextIno(), S_IFCHR | 0666);
        this.rdev = ((long) major << 8) | minor;
        this.driver = driver;
    }

    public Driver driver() {
        return driver;
    }

    @Override
    public File open(Dentry d, int flags) throws FsException {
        return new File(d, this, flags) {
            @Override
            public synchronized int read(byte[] b, int off, int len) throws FsException {
                throw new FsException(Errno.EINVAL);
            }

            @Override
            public synchronized int write(byte[] b, int off, int len) throws FsException {
                throw new FsException(Errno.EINVAL);
            }

            @Override
            public int pread(long at, byte[] b, int off, int len) throws FsException {
                throw new FsException(Errno.EINVAL);
            }

            @Override
            public int pwrite(long at, byte[] b, int off, int len) throws FsException {
                throw new FsException(Errno.EINVAL);
            }
        };
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
