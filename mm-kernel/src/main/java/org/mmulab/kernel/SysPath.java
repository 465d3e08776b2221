package org.mmulab.kernel;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.mmulab.kernel.fs.Dentry;
import org.mmulab.kernel.fs.DirEntry;
import org.mmulab.kernel.fs.File;
import org.mmulab.kernel.fs.FsContext;
import org.mmulab.kernel.fs.FsException;
import org.mmulab.kernel.fs.Inode;
import org.mmulab.kernel.fs.Tmpfs;
import org.mmulab.kernel.fs.Vfs;

/**
 * The path-based calls of fs/open.c, fs/namei.c, fs/stat.c, fs/statfs.c, fs/readdir.c, fs/d_path.c,
 * fs/utimes.c and mm/memfd.c (Linux 6.x), both ABIs: open/openat/creat, the stat family and statx,
 * access/faccessat(2), readlink(at), getcwd, chdir/fchdir, truncate/ftruncate, chmod/chown families,
 * utimensat, statfs/fstatfs, getdents64 and memfd_create; the namespace changes (mkdir, rmdir, unlink,
 * rename, symlink, link) are {@link SysNamei}'s, the stat family {@link SysStat}'s. Names are walked by
 * {@link Vfs} from the task's root or working directory (or a directory fd); errors are Linux's, in its
 * order.
 */
final class SysPath {
    static final int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EACCESS = 0x200,
            AT_SYMLINK_FOLLOW = 0x400, AT_NO_AUTOMOUNT = 0x800, AT_EMPTY_PATH = 0x1000, AT_STATX_SYNC_TYPE = 0x6000;
    static final long UTIME_NOW = (1L << 30) - 1, UTIME_OMIT = (1L << 30) - 2;

    private final Kernel k;
    private final SysFile files;
    /** stat, statx and statfs. */
    final SysStat stats;
    /** mkdir, rmdir, unlink, rename, symlink and link. */
    final SysNamei namei;
    private Tmpfs memfdFs;

    SysPath(Kernel k, SysFile files) {
        this.k = k;
        this.files = files;
        this.stats = new SysStat(k, this, files);
        this.namei = new SysNamei(this, files);
    }

    Vfs vfs() {
        return k.filesystems().vfs();
    }

    int uid() {
        return k.config().uid();
    }

    FsContext fs() {
        return k.current().fs;
    }

    /** The directory a relative path starts from: the cwd (AT_FDCWD) or the directory open as {@code dfd}. */
    private Dentry start(int dfd, String path) throws FsException {
        if (!path.isEmpty() && path.charAt(0) == '/') {
            return fs().root();
        }
        if (dfd == AT_FDCWD) {
            return fs().cwd();
        }
        File f = files.file(dfd);
        if (f.dentry == null || !f.inode.isDir()) {
            throw new FsException(Errno.ENOTDIR);
        }
        return f.dentry;
    }

    String path(long p) throws FsException {
        if (p == 0) {
            throw new FsException(Errno.EFAULT);
        }
        return files.userPath(p, Vfs.PATH_MAX);
    }

    Dentry lookup(int dfd, String path, boolean follow) throws FsException {
        return vfs().walk(fs().root(), start(dfd, path), path, follow, uid());
    }

    Vfs.Parent parent(int dfd, String path) throws FsException {
        return vfs().walkParent(fs().root(), start(dfd, path), path, uid());
    }

    static void check(int err) throws FsException {
        if (err != 0) {
            throw new FsException(err);
        }
    }

    int umask() {
        return k.current().umask;
    }

    // ---- open -----------------------------------------------------------------------------------

    long openat(int dfd, long pathp, int flags, int mode) {
        try {
            String path = path(pathp);
            File f = open(dfd, path, flags, mode);
            try {
                return files.files().install(f, 0, files.nofile(), (flags & File.O_CLOEXEC) != 0);
            } catch (FsException e) {
                f.put();
                throw e;
            }
        } catch (FsException e) {
            return e.ret();
        }
    }

    /** do_filp_open: the open file for {@code path}, creating it for O_CREAT. */
    File open(int dfd, String path, int flags, int mode) throws FsException {
        if ((flags & File.O_PATH) != 0) {
            flags &= File.O_PATH | File.O_DIRECTORY | File.O_NOFOLLOW | File.O_CLOEXEC;
        }
        int acc = flags & File.O_ACCMODE;
        if ((flags & File.O_TMPFILE) == File.O_TMPFILE) {
            return tmpfile(dfd, path, flags, mode);
        }
        if ((flags & File.O_TMPFILE) != 0 && (flags & File.O_DIRECTORY) == 0) {
            // O_TMPFILE without O_DIRECTORY's bit cannot be asked for
        }
        Dentry d;
        boolean created = false;
        if ((flags & File.O_CREAT) != 0) {
            Vfs.Parent p = parent(dfd, path);
            if (p.name().equals(".") || p.name().equals("..") || p.name().equals("/")) {
                throw new FsException(Errno.EISDIR);
            }
            Inode existing = vfs().child(p.dir(), p.name());
            if (existing != null) {
                if ((flags & File.O_EXCL) != 0) {
                    throw new FsException(Errno.EEXIST);
                }
                if (existing.isLink()) {
                    if ((flags & File.O_NOFOLLOW) != 0) {
                        throw new FsException(Errno.ELOOP);
                    }
                    d = lookup(dfd, path, true);
                } else {
                    d = new Dentry(p.dir(), p.name(), existing);
                }
                if (d.inode.isDir()) {
                    throw new FsException(Errno.EISDIR);
                }
            } else {
                if (p.trailingSlash()) {
                    throw new FsException(Errno.EISDIR);
                }
                check(Vfs.permission(p.dir().inode, Vfs.MAY_WRITE | Vfs.MAY_EXEC, uid()));
                Inode i = p.dir().inode.create(p.name(), mode & ~umask() & 07777, uid(), uid());
                d = new Dentry(p.dir(), p.name(), i);
                created = true;
            }
        } else {
            d = lookup(dfd, path, (flags & File.O_NOFOLLOW) == 0);
            if (d.inode.isLink() && (flags & File.O_PATH) == 0) {
                throw new FsException(Errno.ELOOP);
            }
        }
        Inode i = d.inode;
        if ((flags & File.O_DIRECTORY) != 0 && !i.isDir()) {
            throw new FsException(Errno.ENOTDIR);
        }
        if ((flags & File.O_PATH) == 0) {
            if (i.isDir() && (acc != File.O_RDONLY || (flags & File.O_CREAT) != 0)) {
                throw new FsException(Errno.EISDIR);
            }
            if (!created) {
                int mask = (acc == File.O_RDONLY ? Vfs.MAY_READ : 0) | (acc == File.O_WRONLY ? Vfs.MAY_WRITE : 0)
                        | (acc == File.O_RDWR ? Vfs.MAY_READ | Vfs.MAY_WRITE : 0);
                if ((flags & File.O_TRUNC) != 0) {
                    mask |= Vfs.MAY_WRITE;
                }
                check(Vfs.permission(i, mask, uid()));
            }
            if ((flags & File.O_TRUNC) != 0 && i.isReg() && !created && acc != File.O_RDONLY) {
                i.truncate(0);
            }
        }
        return i.open(d, flags);
    }

    /** O_TMPFILE: an unnamed regular file in a tmpfs directory (a host directory cannot: EOPNOTSUPP). */
    private File tmpfile(int dfd, String path, int flags, int mode) throws FsException {
        int acc = flags & File.O_ACCMODE;
        if (acc == File.O_RDONLY) {
            throw new FsException(Errno.EINVAL);
        }
        Dentry dir = lookup(dfd, path, true);
        if (!dir.inode.isDir()) {
            throw new FsException(Errno.ENOTDIR);
        }
        if (!"tmpfs".equals(dir.inode.sb.type)) {
            throw new FsException(Errno.EOPNOTSUPP);
        }
        check(Vfs.permission(dir.inode, Vfs.MAY_WRITE | Vfs.MAY_EXEC, uid()));
        String name = "#tmpfile." + System.identityHashCode(new Object());
        Inode i = dir.inode.create(name, mode & ~umask() & 07777, uid(), uid());
        File f = i.open(new Dentry(dir, name + " (deleted)", i), flags & ~File.O_TMPFILE);
        dir.inode.unlink(name);
        return f;
    }

    /** memfd_create(name, flags): an unlinked tmpfs file "memfd:NAME", open read-write. */
    long memfdCreate(long namep, int flags) {
        if ((flags & ~(1 | 2 | 4 | 8 | 0x10)) != 0 || (flags & 4) != 0 || (flags & 0x18) == 0x18) {
            return -Errno.EINVAL; // MFD_HUGETLB: no huge pages; MFD_EXEC with MFD_NOEXEC_SEAL
        }
        try {
            String name = files.userPath(namep, 250);
            if (name.length() > 249) {
                return -Errno.EINVAL;
            }
            synchronized (this) {
                if (memfdFs == null) {
                    memfdFs = new Tmpfs(k.memory().frames(), "", 0x18, 01777);
                    memfdFs.setUnmapper(k.filesystems()::unmapMappingRange);
                }
            }
            String n = "memfd:" + name;
            Inode dir = memfdFs.root();
            String unique = n + "#" + System.identityHashCode(new Object());
            Inode i = dir.create(unique, (flags & 8) != 0 ? 0666 : 0777, uid(), uid()); // MFD_NOEXEC_SEAL
            org.mmulab.kernel.fs.MemfdSeals.memfdCreated(i, flags);
            File f = i.open(new Dentry(vfs().root(), n + " (deleted)", i), File.O_RDWR | File.O_LARGEFILE);
            dir.unlink(unique);
            try {
                return files.files().install(f, 0, files.nofile(), (flags & 1) != 0);
            } catch (FsException e) {
                f.put();
                return e.ret();
            }
        } catch (FsException e) {
            return e.ret();
        }
    }

    // ---- directories --------------------------------------------------------------------------------

    /** getdents64: struct linux_dirent64 records (8-byte aligned); a buffer too small for one is EINVAL. */
    long getdents64(int fd, long dirp, long count) {
        try {
            File f = files.file(fd);
            if (!f.inode.isDir()) {
                return -Errno.ENOTDIR;
            }
            if (!files.accessOk(dirp, count)) {
                return -Errno.EFAULT;
            }
            Dentry d = f.dentry;
            long parentIno = d != null && d.parent != null ? d.parent.inode.ino() : f.inode.ino();
            List<DirEntry> mounts = new java.util.ArrayList<>();
            if (d != null) {
                for (String n : vfs().mountNamesIn(d.path())) {
                    Inode m = vfs().child(d, n);
                    mounts.add(new DirEntry(n, m == null ? 0 : m.ino(), DirEntry.DT_DIR));
                }
            }
            List<DirEntry> l = f.dirents(parentIno, mounts);
            int idx = (int) Math.min(f.pos(), l.size());
            byte[] out = new byte[(int) Math.min(count, 1 << 16)];
            int n = 0;
            while (idx < l.size()) {
                DirEntry e = l.get(idx);
                byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
                int reclen = (19 + name.length + 1 + 7) & ~7;
                if (n + reclen > out.length) {
                    break;
                }
                Le.put64(out, n, e.ino());
                Le.put64(out, n + 8, idx + 1);
                out[n + 16] = (byte) reclen;
                out[n + 17] = (byte) (reclen >>> 8);
                out[n + 18] = (byte) e.dtype();
                System.arraycopy(name, 0, out, n + 19, name.length);
                n += reclen;
                idx++;
            }
            if (n == 0 && idx < l.size()) {
                return -Errno.EINVAL;
            }
            if (k.userAccess().copyToUser(dirp, out, 0, n) != 0) {
                return -Errno.EFAULT;
            }
            f.setPos(idx);
            return n;
        } catch (FsException e) {
            return e.ret();
        }
    }

    long getcwd(long buf, long size) {
        String p = fs().cwd().path();
        byte[] b = (p + "\0").getBytes(StandardCharsets.UTF_8);
        if (size < b.length) {
            return -Errno.ERANGE;
        }
        return k.userAccess().copyToUser(buf, b, 0, b.length) == 0 ? b.length : -Errno.EFAULT;
    }

    long chdir(long pathp) {
        try {
            Dentry d = lookup(AT_FDCWD, path(pathp), true);
            if (!d.inode.isDir()) {
                return -Errno.ENOTDIR;
            }
            check(Vfs.permission(d.inode, Vfs.MAY_EXEC, uid()));
            fs().setCwd(d);
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }

    long fchdir(int fd) {
        try {
            File f = files.file(fd);
            if (f.dentry == null || !f.inode.isDir()) {
                return -Errno.ENOTDIR;
            }
            fs().setCwd(f.dentry);
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }

    /** chroot: root only; the new root must be a directory inside the current one. */
    long chroot(long pathp) {
        try {
            Dentry d = lookup(AT_FDCWD, path(pathp), true);
            if (!d.inode.isDir()) {
                return -Errno.ENOTDIR;
            }
            if (uid() != 0) {
                return -Errno.EPERM;
            }
            fs().setRoot(d);
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }

    long readlinkat(int dfd, long pathp, long buf, int bufsiz) {
        try {
            String path = path(pathp);
            Inode i;
            if (path.isEmpty()) {
                i = dfd == AT_FDCWD ? fs().cwd().inode : files.file(dfd).inode;
            } else {
                i = lookup(dfd, path, false).inode;
            }
            if (!i.isLink()) {
                return -Errno.EINVAL;
            }
            if (bufsiz <= 0) {
                return -Errno.EINVAL;
            }
            byte[] b = i.readlink().getBytes(StandardCharsets.UTF_8);
            int len = Math.min(b.length, bufsiz);
            return k.userAccess().copyToUser(buf, b, 0, len) == 0 ? len : -Errno.EFAULT;
        } catch (FsException e) {
            return e.ret();
        }
    }

    long faccessat(int dfd, long pathp, int mode, int flags) {
        if ((mode & ~7) != 0) {
            return -Errno.EINVAL;
        }
        if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) {
            return -Errno.EINVAL;
        }
        try {
            Inode i = stats.target(dfd, pathp, flags);
            return mode == 0 ? 0 : -Vfs.permission(i, mode, uid());
        } catch (FsException e) {
            return e.ret();
        }
    }

    long truncate(long pathp, long len) {
        if (len < 0) {
            return -Errno.EINVAL;
        }
        try {
            Inode i = lookup(AT_FDCWD, path(pathp), true).inode;
            if (i.isDir()) {
                return -Errno.EISDIR;
            }
            if (!i.isReg()) {
                return -Errno.EINVAL;
            }
            check(Vfs.permission(i, Vfs.MAY_WRITE, uid()));
            i.truncate(len);
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }

    long ftruncate(int fd, long len) {
        if (len < 0) {
            return -Errno.EINVAL;
        }
        try {
            File f = files.file(fd);
            if (!f.writable() || !f.inode.isReg()) {
                return -Errno.EINVAL;
            }
            f.inode.truncate(len);
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }

    long fchmodat(int dfd, long pathp, int mode, int fd) {
        try {
            Inode i = fd >= 0 ? files.file(fd).inode : lookup(dfd, path(pathp), true).inode;
            if (!i.writable()) {
                return -Errno.EROFS;
            }
            if (uid() != 0 && uid() != i.uid()) {
                return -Errno.EPERM;
            }
            i.chmod(mode & 07777);
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }

    /** chown family: ownership is not recorded per file; root may, on a writable file system (no change is kept). */
    long fchownat(int dfd, long pathp, int fd, boolean follow) {
        try {
            Inode i = fd >= 0 ? files.file(fd).inode : lookup(dfd, path(pathp), follow).inode;
            if (!i.writable()) {
                return -Errno.EROFS;
            }
            return uid() == 0 ? 0 : -Errno.EPERM;
        } catch (FsException e) {
            return e.ret();
        }
    }

    /** utimensat(dfd, path, times[2], flags): NULL times = now; UTIME_NOW / UTIME_OMIT per field. */
    long utimensat(int dfd, long pathp, long timesp, int flags, boolean time32) {
        if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) {
            return -Errno.EINVAL;
        }
        try {
            Inode i = pathp == 0 ? files.file(dfd).inode : lookup(dfd, path(pathp), (flags & AT_SYMLINK_NOFOLLOW) == 0).inode;
            long now = System.currentTimeMillis() * 1_000_000L;
            long at = now, mt = now;
            if (timesp != 0) {
                int sz = time32 ? 8 : 16;
                byte[] b = new byte[2 * sz];
                if (k.userAccess().copyFromUser(b, 0, timesp, b.length) != 0) {
                    return -Errno.EFAULT;
                }
                long[] v = new long[2];
                for (int j = 0; j < 2; j++) {
                    long sec = time32 ? (int) Le.le32(b, j * sz) : Le.le64(b, j * sz);
                    long nsec = time32 ? (int) Le.le32(b, j * sz + 4) : Le.le64(b, j * sz + 8);
                    if (nsec == UTIME_NOW) {
                        v[j] = now;
                    } else if (nsec == UTIME_OMIT) {
                        v[j] = j == 0 ? i.atimeNs() : i.mtimeNs();
                    } else if (nsec < 0 || nsec >= 1_000_000_000L) {
                        return -Errno.EINVAL;
                    } else {
                        v[j] = sec * 1_000_000_000L + nsec;
                    }
                }
                at = v[0];
                mt = v[1];
            }
            if (!i.writable()) {
                return -Errno.EROFS;
            }
            i.setTimes(at, mt);
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }
}
