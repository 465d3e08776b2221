package org.mmulab.kernel;

import org.mmulab.kernel.fs.FsException;
import org.mmulab.kernel.fs.Inode;

/**
 * The stat family (fs/stat.c: newfstatat, fstat, stat/lstat, fstat64/fstatat64/stat64/lstat64, statx)
 * and fs/statfs.c (statfs, fstatfs, compat statfs64) for both ABIs, Linux 6.x. Layouts: x86-64 struct
 * stat (144 bytes), i386 struct stat64 (96 bytes: both the 32-bit and the 64-bit inode), struct statx
 * (256 bytes, STATX_BASIC_STATS whatever was asked), struct statfs (120) and compat_statfs64 (84).
 * AT_EMPTY_PATH with "" names the fd itself (a pipe's or the console's pipefs inode too).
 */
final class SysStat {
    static final int AT_SYMLINK_NOFOLLOW = SysPath.AT_SYMLINK_NOFOLLOW, AT_NO_AUTOMOUNT = SysPath.AT_NO_AUTOMOUNT,
            AT_EMPTY_PATH = SysPath.AT_EMPTY_PATH, AT_STATX_SYNC_TYPE = SysPath.AT_STATX_SYNC_TYPE,
            AT_FDCWD = SysPath.AT_FDCWD;

    private final Kernel k;
    private final SysPath paths;
    private final SysFile files;

    SysStat(Kernel k, SysPath paths, SysFile files) {
        this.k = k;
        this.paths = paths;
        this.files = files;
    }


    /** (dfd, path, flags) to an inode: AT_EMPTY_PATH with "" is the fd itself. */
    Inode target(int dfd, long pathp, int flags) throws FsException {
        String path = pathp == 0 && (flags & AT_EMPTY_PATH) != 0 ? "" : paths.path(pathp);
        if (path.isEmpty()) {
            if ((flags & AT_EMPTY_PATH) == 0) {
                throw new FsException(Errno.ENOENT);
            }
            Inode i = dfd == AT_FDCWD ? paths.fs().cwd().inode : files.file(dfd).inode;
            i.refresh();
            return i;
        }
        Inode i = paths.lookup(dfd, path, (flags & AT_SYMLINK_NOFOLLOW) == 0).inode;
        i.refresh();
        return i;
    }

    long fstatat(int dfd, long pathp, long buf, int flags, boolean stat64) {
        if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) != 0) {
            return -Errno.EINVAL;
        }
        try {
            return putStat(target(dfd, pathp, flags), buf, stat64);
        } catch (FsException e) {
            return e.ret();
        }
    }

    long fstat(int fd, long buf, boolean stat64) {
        try {
            Inode i = files.file(fd).inode;
            i.refresh();
            return putStat(i, buf, stat64);
        } catch (FsException e) {
            return e.ret();
        }
    }

    long stat(long pathp, long buf, boolean follow, boolean stat64) {
        return fstatat(AT_FDCWD, pathp, buf, follow ? 0 : AT_SYMLINK_NOFOLLOW, stat64);
    }

    /** x86-64 struct stat (144 bytes) or i386 struct stat64 (96 bytes). */
    private long putStat(Inode i, long buf, boolean stat64) {
        byte[] b;
        long dev = i.dev();
        if (stat64) {
            b = new byte[96];
            Le.put64(b, 0, dev);
            Le.put32(b, 12, i.ino());
            Le.put32(b, 16, i.mode());
            Le.put32(b, 20, i.nlink());
            Le.put32(b, 24, i.uid());
            Le.put32(b, 28, i.gid());
            Le.put64(b, 32, i.rdev());
            Le.put64(b, 44, i.size());
            Le.put32(b, 52, i.blksize());
            Le.put64(b, 56, i.blocks());
            putTime32(b, 64, i.atimeNs());
            putTime32(b, 72, i.mtimeNs());
            putTime32(b, 80, i.ctimeNs());
            Le.put64(b, 88, i.ino());
        } else {
            b = new byte[144];
            Le.put64(b, 0, dev);
            Le.put64(b, 8, i.ino());
            Le.put64(b, 16, i.nlink());
            Le.put32(b, 24, i.mode());
            Le.put32(b, 28, i.uid());
            Le.put32(b, 32, i.gid());
            Le.put64(b, 40, i.rdev());
            Le.put64(b, 48, i.size());
            Le.put64(b, 56, i.blksize());
            Le.put64(b, 64, i.blocks());
            putTime64(b, 72, i.atimeNs());
            putTime64(b, 88, i.mtimeNs());
            putTime64(b, 104, i.ctimeNs());
        }
        return k.userAccess().copyToUser(buf, b, 0, b.length) == 0 ? 0 : -Errno.EFAULT;
    }

    private static void putTime32(byte[] b, int off, long ns) {
        Le.put32(b, off, Math.floorDiv(ns, 1_000_000_000L));
        Le.put32(b, off + 4, Math.floorMod(ns, 1_000_000_000L));
    }

    private static void putTime64(byte[] b, int off, long ns) {
        Le.put64(b, off, Math.floorDiv(ns, 1_000_000_000L));
        Le.put64(b, off + 8, Math.floorMod(ns, 1_000_000_000L));
    }

    /** statx: STATX_BASIC_STATS for any request; the NULL path is EFAULT. */
    long statx(int dfd, long pathp, int flags, int mask, long buf) {
        if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)) != 0
                || (flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE || (mask & 0x8000_0000) != 0) {
            return -Errno.EINVAL;
        }
        if (pathp == 0) {
            return -Errno.EFAULT;
        }
        try {
            Inode i = target(dfd, pathp, flags);
            byte[] b = new byte[256];
            Le.put32(b, 0, 0x7ff); // STATX_BASIC_STATS
            Le.put32(b, 4, i.blksize());
            Le.put32(b, 16, i.nlink());
            Le.put32(b, 20, i.uid());
            Le.put32(b, 24, i.gid());
            b[28] = (byte) i.mode();
            b[29] = (byte) (i.mode() >>> 8);
            Le.put64(b, 32, i.ino());
            Le.put64(b, 40, i.size());
            Le.put64(b, 48, i.blocks());
            putStatxTime(b, 64, i.atimeNs());
            putStatxTime(b, 96, i.ctimeNs());
            putStatxTime(b, 112, i.mtimeNs());
            long rdev = i.rdev();
            Le.put32(b, 128, (rdev >>> 8) & 0xfff | (rdev >>> 32) & ~0xfffL);
            Le.put32(b, 132, rdev & 0xff | (rdev >>> 12) & ~0xffL);
            long dev = i.dev();
            Le.put32(b, 136, (dev >>> 8) & 0xfff | (dev >>> 32) & ~0xfffL);
            Le.put32(b, 140, dev & 0xff | (dev >>> 12) & ~0xffL);
            return k.userAccess().copyToUser(buf, b, 0, 256) == 0 ? 0 : -Errno.EFAULT;
        } catch (FsException e) {
            return e.ret();
        }
    }

    private static void putStatxTime(byte[] b, int off, long ns) {
        Le.put64(b, off, Math.floorDiv(ns, 1_000_000_000L));
        Le.put32(b, off + 8, Math.floorMod(ns, 1_000_000_000L));
    }

    /** statfs/fstatfs: struct statfs (120 bytes), or compat statfs64 (84 bytes, {@code compat64}). */
    long statfs(int fd, long pathp, long buf, boolean compat64) {
        try {
            Inode i = pathp != 0 ? paths.lookup(AT_FDCWD, paths.path(pathp), true).inode : files.file(fd).inode;
            long[] s = i.statfs();
            byte[] b;
            if (compat64) {
                b = new byte[84];
                Le.put32(b, 0, i.sb.magic);
                Le.put32(b, 4, 4096);
                Le.put64(b, 8, s[0]);
                Le.put64(b, 16, s[1]);
                Le.put64(b, 24, s[1]);
                Le.put64(b, 32, s[2]);
                Le.put64(b, 40, s[3]);
                Le.put32(b, 56, 255);
                Le.put32(b, 60, 4096);
                Le.put32(b, 64, i.sb.readOnly ? 1 : 0);
            } else {
                b = new byte[120];
                Le.put64(b, 0, i.sb.magic);
                Le.put64(b, 8, 4096);
                Le.put64(b, 16, s[0]);
                Le.put64(b, 24, s[1]);
                Le.put64(b, 32, s[1]);
                Le.put64(b, 40, s[2]);
                Le.put64(b, 48, s[3]);
                Le.put64(b, 64, 255);
                Le.put64(b, 72, 4096);
                Le.put64(b, 80, i.sb.readOnly ? 1 : 0);
            }
            return k.userAccess().copyToUser(buf, b, 0, b.length) == 0 ? 0 : -Errno.EFAULT;
        } catch (FsException e) {
            return e.ret();
        }
    }
}
