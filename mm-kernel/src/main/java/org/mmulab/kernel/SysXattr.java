package org.mmulab.kernel;

import org.mmulab.kernel.fs.File;
import org.mmulab.kernel.fs.FsException;
import org.mmulab.kernel.fs.Inode;

/**
 * The extended-attribute calls (fs/xattr.c, Linux 6.6: setxattr, getxattr, listxattr, removexattr, each
 * by path, by path without following the last link, and by fd) on file systems that keep no extended
 * attributes (mmulab's host, tmpfs, proc and dev trees have no xattr handlers): after the same checks in
 * the same order as Linux — the attribute name (ERANGE when empty or longer than 255 bytes, EFAULT),
 * EINVAL for set flags other than XATTR_CREATE|XATTR_REPLACE, E2BIG for a value over 64 KiB, the path
 * or fd (ENOENT, EBADF ...), EROFS for a change to a read-only file — get, set and remove are
 * EOPNOTSUPP (xattr_resolve_name finds no handler) and list returns an empty list (0 bytes).
 * {@code ls -l} asks lgetxattr for ACLs and takes EOPNOTSUPP as "no ACL".
 */
final class SysXattr {
    static final int SET = 0, GET = 1, LIST = 2, REMOVE = 3;
    static final String[] NAMES = {"setxattr", "lsetxattr", "fsetxattr", "getxattr", "lgetxattr", "fgetxattr",
        "listxattr", "llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr"};
    static final int XATTR_NAME_MAX = 255, XATTR_SIZE_MAX = 65536, XATTR_CREATE = 1, XATTR_REPLACE = 2;

    private final SysFile files;
    private final SysPath paths;

    SysXattr(SysFile files, SysPath paths) {
        this.files = files;
        this.paths = paths;
    }

    /**
     * Syscall {@code nr} of the twelve starting at {@code first} (188 on x86-64, 226 on ia32), in the
     * table's order: op = set, get, list, remove; each as path, lpath, fd. {@code target} is the path or
     * fd, {@code name} the name (the list buffer for list), {@code size} the value size, {@code flags}
     * set's flags.
     */
    long call(int nr, int first, long target, long name, long size, int flags) {
        int op = (nr - first) / 3, how = (nr - first) % 3;
        try {
            if (op != LIST) {
                attrName(name);
            }
            if (op == SET) {
                if ((flags & ~(XATTR_CREATE | XATTR_REPLACE)) != 0) {
                    return -Errno.EINVAL;
                }
                if (Long.compareUnsigned(size, XATTR_SIZE_MAX) > 0) {
                    return -Errno.E2BIG;
                }
            }
            Inode i;
            if (how == 2) {
                File f = files.file((int) target);
                if (f.isPath()) {
                    return -Errno.EBADF;
                }
                i = f.inode;
            } else {
                i = paths.lookup(SysPath.AT_FDCWD, paths.path(target), how == 0).inode;
            }
            if ((op == SET || op == REMOVE) && !i.writable()) {
                return -Errno.EROFS; // mnt_want_write
            }
            return op == LIST ? 0 : -Errno.EOPNOTSUPP;
        } catch (FsException e) {
            return e.ret();
        }
    }

    /** strncpy_from_user(kname, name, XATTR_NAME_MAX + 1): empty or too long is ERANGE. */
    private void attrName(long name) throws FsException {
        String s;
        try {
            s = files.userPath(name, XATTR_NAME_MAX);
        } catch (FsException e) {
            throw new FsException(e.errno == Errno.ENAMETOOLONG ? Errno.ERANGE : e.errno);
        }
        if (s.isEmpty()) {
            throw new FsException(Errno.ERANGE);
        }
    }
}
