package org.mmulab.kernel.fs;

import org.mmulab.kernel.Errno;
import org.mmulab.kernel.mm.Memory;

/**
 * fallocate(2) (fs/open.c vfs_fallocate, mm/shmem.c shmem_fallocate; Linux 6.12): the generic checks in
 * Linux's order, then tmpfs's implementation ({@link Tmpfs}): mode 0 allocates the range's pages (and
 * grows the file), FALLOC_FL_KEEP_SIZE allocates without growing, FALLOC_FL_PUNCH_HOLE|KEEP_SIZE unmaps
 * the whole pages of the range from every mapping and frees them, zeroing the partial pages at its ends
 * ({@link org.mmulab.kernel.mm.Truncate#punchHole}). Other file systems have no fallocate: EOPNOTSUPP.
 */
public final class Fallocate {
    public static final int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_COLLAPSE_RANGE = 8,
            FALLOC_FL_ZERO_RANGE = 0x10, FALLOC_FL_INSERT_RANGE = 0x20, FALLOC_FL_UNSHARE_RANGE = 0x40;
    private static final int FALLOC_FL_MODE_MASK = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE
            | FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE;

    private Fallocate() {
    }

    /** vfs_fallocate: 0 or -errno. */
    public static long vfsFallocate(File file, int mode, long offset, long len, Memory memory) {
        if (offset < 0 || len <= 0) {
            return -Errno.EINVAL;
        }
        if ((mode & ~(FALLOC_FL_MODE_MASK | FALLOC_FL_KEEP_SIZE)) != 0) {
            return -Errno.EOPNOTSUPP;
        }
        switch (mode & FALLOC_FL_MODE_MASK) {
            case 0, FALLOC_FL_UNSHARE_RANGE, FALLOC_FL_ZERO_RANGE:
                break;
            case FALLOC_FL_PUNCH_HOLE:
                if ((mode & FALLOC_FL_KEEP_SIZE) == 0) {
                    return -Errno.EOPNOTSUPP;
                }
                break;
            case FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE:
                if ((mode & FALLOC_FL_KEEP_SIZE) != 0) {
                    return -Errno.EOPNOTSUPP;
                }
                break;
            default:
                return -Errno.EOPNOTSUPP;
        }
        if (file.isPath() || !file.writable()) {
            return -Errno.EBADF;
        }
        Inode i = file.inode;
        if ((i.mode() & Inode.S_IFMT) == Inode.S_IFIFO) {
            return -Errno.ESPIPE;
        }
        if (i.isDir()) {
            return -Errno.EISDIR;
        }
        if (!i.isReg()) {
            return -Errno.ENODEV;
        }
        if (offset + len < 0) {
            return -Errno.EFBIG; // check_add_overflow, s_maxbytes = MAX_LFS_FILESIZE
        }
        if (!(i instanceof Tmpfs.Node n)) {
            return -Errno.EOPNOTSUPP;
        }
        if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) != 0) {
            return -Errno.EOPNOTSUPP; // shmem_fallocate: no zero/collapse/insert/unshare
        }
        try {
            n.fallocate((mode & FALLOC_FL_PUNCH_HOLE) != 0, (mode & FALLOC_FL_KEEP_SIZE) != 0, offset, len, memory);
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }
}
