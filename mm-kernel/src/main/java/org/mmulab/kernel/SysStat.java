package org.mmulab.kernel;

/**
 * fstat, newfstatat, fstat64/fstatat64 and statx for the only files a task has, its pipes on fds 0-2
 * (fs/stat.c, fs/pipe.c): S_IFIFO|0600 owned by the caller, one link, size 0, st_blksize PAGE_SIZE,
 * on pipefs (device 0:12 as the anonymous pipefs superblock usually gets), inode 1000+fd, times 0
 * (made at boot). A name lookup (a non-empty path) has no file system to look in: -ENOENT; any
 * other fd is -EBADF. Layouts: x86-64 struct stat (144 bytes), i386 struct stat64 (96 bytes, both
 * the 32-bit and the low inode), struct statx (256 bytes, STATX_BASIC_STATS).
 */
final class SysStat {
    static final int AT_EMPTY_PATH = 0x1000, S_IFIFO = 0010000, STATX_BASIC_STATS = 0x7ff;
    static final long PIPEFS_DEV = 12;

    private SysStat() {
    }

    /** Resolves (fd, path, flags) to one of the pipes: the fd, or a negative errno. */
    private static long pipeFd(Kernel k, int fd, long pathp, int flags) {
        if (pathp != 0) {
            String path = k.userAccess().getUserString(pathp, 4096);
            if (path == null) {
                return -Errno.EFAULT;
            }
            if (!path.isEmpty()) {
                return -Errno.ENOENT;
            }
            if ((flags & AT_EMPTY_PATH) == 0) {
                return -Errno.ENOENT;
            }
        }
        return fd >= 0 && fd <= 2 ? fd : -Errno.EBADF;
    }

    static long fstatat(Kernel k, int fd, long pathp, long buf, int flags, boolean stat64) {
        long f = pipeFd(k, fd, pathp, flags);
        if (f < 0) {
            return f;
        }
        int uid = k.config().uid();
        byte[] b;
        if (stat64) {
            b = new byte[96];
            Le.put64(b, 0, PIPEFS_DEV);
            Le.put32(b, 12, 1000 + f);
            Le.put32(b, 16, S_IFIFO | 0600);
            Le.put32(b, 20, 1);
            Le.put32(b, 24, uid);
            Le.put32(b, 28, uid);
            Le.put32(b, 52, 4096);
            Le.put64(b, 88, 1000 + f);
        } else {
            b = new byte[144];
            Le.put64(b, 0, PIPEFS_DEV);
            Le.put64(b, 8, 1000 + f);
            Le.put64(b, 16, 1);
            Le.put32(b, 24, S_IFIFO | 0600);
            Le.put32(b, 28, uid);
            Le.put32(b, 32, uid);
            Le.put64(b, 56, 4096);
        }
        return k.userAccess().copyToUser(buf, b, 0, b.length) == 0 ? 0 : -Errno.EFAULT;
    }

    static long statx(Kernel k, int dfd, long pathp, int flags, long buf) {
        if (pathp == 0) {
            return -Errno.EFAULT;
        }
        long f = pipeFd(k, dfd, pathp, flags);
        if (f < 0) {
            return f;
        }
        int uid = k.config().uid();
        byte[] b = new byte[256];
        Le.put32(b, 0, STATX_BASIC_STATS);
        Le.put32(b, 4, 4096);
        Le.put32(b, 16, 1);
        Le.put32(b, 20, uid);
        Le.put32(b, 24, uid);
        b[28] = (byte) (S_IFIFO | 0600);
        b[29] = (byte) ((S_IFIFO | 0600) >>> 8);
        Le.put64(b, 32, 1000 + f);
        Le.put32(b, 136, 0); // dev major
        Le.put32(b, 140, (int) PIPEFS_DEV);
        return k.userAccess().copyToUser(buf, b, 0, b.length) == 0 ? 0 : -Errno.EFAULT;
    }
}
