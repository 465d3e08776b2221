package org.mmulab.kernel;

import static org.mmulab.kernel.SysPath.AT_EMPTY_PATH;
import static org.mmulab.kernel.SysPath.AT_REMOVEDIR;
import static org.mmulab.kernel.SysPath.AT_SYMLINK_FOLLOW;

import org.mmulab.kernel.fs.Dentry;
import org.mmulab.kernel.fs.FsException;
import org.mmulab.kernel.fs.Inode;
import org.mmulab.kernel.fs.Vfs;

/**
 * The namespace changes of fs/namei.c (Linux 6.x), both ABIs: mkdir(at), rmdir, unlink(at), rename(at/2),
 * symlink(at) and link(at). Names are resolved by {@link SysPath} (the task's root, working directory or a
 * directory fd); the checks and their order are do_mkdirat's, do_rmdir's, do_unlinkat's, do_renameat2's,
 * do_symlinkat's and do_linkat's, so a guest sees Linux's errno for each bad call.
 */
final class SysNamei {
    private final SysPath paths;
    private final SysFile files;

    SysNamei(SysPath paths, SysFile files) {
        this.paths = paths;
        this.files = files;
    }

    long mkdirat(int dfd, long pathp, int mode) {
        try {
            Vfs.Parent p = paths.parent(dfd, paths.path(pathp));
            if (p.name().equals(".") || p.name().equals("..") || p.name().equals("/")
                    || paths.vfs().child(p.dir(), p.name()) != null) {
                return -Errno.EEXIST;
            }
            SysPath.check(Vfs.permission(p.dir().inode, Vfs.MAY_WRITE | Vfs.MAY_EXEC, paths.uid()));
            p.dir().inode.mkdir(p.name(), mode & ~paths.umask() & 07777, paths.uid(), paths.uid());
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }

    long unlinkat(int dfd, long pathp, int flags) {
        if ((flags & ~AT_REMOVEDIR) != 0) {
            return -Errno.EINVAL;
        }
        try {
            String path = paths.path(pathp);
            Vfs.Parent p = paths.parent(dfd, path);
            String n = p.name();
            if ((flags & AT_REMOVEDIR) != 0) {
                if (n.equals(".")) {
                    return -Errno.EINVAL;
                }
                if (n.equals("..")) {
                    return -Errno.ENOTEMPTY;
                }
                if (n.equals("/")) {
                    return -Errno.EBUSY;
                }
                Inode c = paths.vfs().child(p.dir(), n);
                if (c == null) {
                    return -Errno.ENOENT;
                }
                if (!c.isDir()) {
                    return -Errno.ENOTDIR;
                }
                SysPath.check(Vfs.permission(p.dir().inode, Vfs.MAY_WRITE | Vfs.MAY_EXEC, paths.uid()));
                if (paths.vfs().isMountpoint(new Dentry(p.dir(), n, c))) {
                    return -Errno.EBUSY;
                }
                p.dir().inode.rmdir(n);
                return 0;
            }
            if (n.equals(".") || n.equals("..") || n.equals("/")) {
                return -Errno.EISDIR;
            }
            Inode c = paths.vfs().child(p.dir(), n);
            if (c == null) {
                return -Errno.ENOENT;
            }
            if (p.trailingSlash()) {
                return c.isDir() ? -Errno.EISDIR : -Errno.ENOTDIR;
            }
            if (c.isDir()) {
                return -Errno.EISDIR;
            }
            SysPath.check(Vfs.permission(p.dir().inode, Vfs.MAY_WRITE | Vfs.MAY_EXEC, paths.uid()));
            p.dir().inode.unlink(n);
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }

    long renameat2(int odfd, long oldp, int ndfd, long newp, int flags) {
        if ((flags & ~1) != 0) {
            return -Errno.EINVAL; // RENAME_EXCHANGE and RENAME_WHITEOUT are not supported
        }
        try {
            Vfs.Parent op = paths.parent(odfd, paths.path(oldp));
            Vfs.Parent np = paths.parent(ndfd, paths.path(newp));
            if (isDot(op.name()) || isDot(np.name())) {
                return -Errno.EBUSY;
            }
            Inode src = paths.vfs().child(op.dir(), op.name());
            if (src == null) {
                return -Errno.ENOENT;
            }
            if (src.sb != np.dir().inode.sb) {
                return -Errno.EXDEV;
            }
            if (src.isDir() && np.dir().hasAncestor(src)) {
                return -Errno.EINVAL;
            }
            Inode dst = paths.vfs().child(np.dir(), np.name());
            if (dst != null && (flags & 1) != 0) {
                return -Errno.EEXIST;
            }
            if (dst == src) {
                return 0;
            }
            if ((op.trailingSlash() || np.trailingSlash()) && !src.isDir()) {
                return -Errno.ENOTDIR;
            }
            SysPath.check(Vfs.permission(op.dir().inode, Vfs.MAY_WRITE | Vfs.MAY_EXEC, paths.uid()));
            SysPath.check(Vfs.permission(np.dir().inode, Vfs.MAY_WRITE | Vfs.MAY_EXEC, paths.uid()));
            if (paths.vfs().isMountpoint(new Dentry(op.dir(), op.name(), src))
                    || dst != null && paths.vfs().isMountpoint(new Dentry(np.dir(), np.name(), dst))) {
                return -Errno.EBUSY;
            }
            if (dst != null) {
                if (src.isDir() && !dst.isDir()) {
                    return -Errno.ENOTDIR;
                }
                if (!src.isDir() && dst.isDir()) {
                    return -Errno.EISDIR;
                }
            }
            op.dir().inode.rename(op.name(), np.dir().inode, np.name());
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }

    private static boolean isDot(String n) {
        return n.equals(".") || n.equals("..") || n.equals("/");
    }

    long symlinkat(long targetp, int ndfd, long linkp) {
        try {
            String target = paths.path(targetp);
            Vfs.Parent p = paths.parent(ndfd, paths.path(linkp));
            if (target.isEmpty()) {
                return -Errno.ENOENT;
            }
            if (isDot(p.name()) || paths.vfs().child(p.dir(), p.name()) != null) {
                return -Errno.EEXIST;
            }
            SysPath.check(Vfs.permission(p.dir().inode, Vfs.MAY_WRITE | Vfs.MAY_EXEC, paths.uid()));
            p.dir().inode.symlink(p.name(), target, paths.uid(), paths.uid());
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }

    long linkat(int odfd, long oldp, int ndfd, long newp, int flags) {
        if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) != 0) {
            return -Errno.EINVAL;
        }
        try {
            String op = paths.path(oldp);
            Inode src;
            if (op.isEmpty() && (flags & AT_EMPTY_PATH) != 0) {
                src = files.file(odfd).inode;
            } else {
                src = paths.lookup(odfd, op, (flags & AT_SYMLINK_FOLLOW) != 0).inode;
            }
            Vfs.Parent p = paths.parent(ndfd, paths.path(newp));
            if (isDot(p.name()) || paths.vfs().child(p.dir(), p.name()) != null) {
                return -Errno.EEXIST;
            }
            if (src.sb != p.dir().inode.sb) {
                return -Errno.EXDEV;
            }
            SysPath.check(Vfs.permission(p.dir().inode, Vfs.MAY_WRITE | Vfs.MAY_EXEC, paths.uid()));
            if (src.isDir()) {
                return -Errno.EPERM;
            }
            p.dir().inode.link(p.name(), src);
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }
}
