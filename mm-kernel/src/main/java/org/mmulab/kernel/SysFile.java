package org.mmulab.kernel;

import java.nio.charset.StandardCharsets;

import org.mmulab.kernel.fs.ConsoleFile;
import org.mmulab.kernel.fs.FdTable;
import org.mmulab.kernel.fs.File;
import org.mmulab.kernel.fs.FsException;
import org.mmulab.kernel.fs.Pipe;

/**
 * The fd-based file calls of fs/read_write.c, fs/file.c, fs/fcntl.c and fs/ioctl.c (Linux 6.x) for both
 * ABIs: read, write, readv/writev, pread64/pwrite64, preadv/pwritev, lseek/_llseek, close, close_range,
 * dup/dup2/dup3, fcntl, flock, ioctl, fsync/fdatasync; pipes and sendfile are {@link SysPipe}, mmap of
 * an fd and msync {@link SysFileMap}.
 *
 * <p>Checks in Linux's order: the fd (EBADF, also for a file not open for that direction), then
 * access_ok(buf, count) (EFAULT), then rw_verify_area, then the clamp to MAX_RW_COUNT.
 */
final class SysFile {
    static final long MAX_RW_COUNT = Integer.MAX_VALUE & ~4095L;
    static final int SIGPIPE = 13;
    static final int UIO_MAXIOV = 1024;
    static final int CHUNK = 1 << 16;
    static final int F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5, F_SETLK = 6,
            F_SETLKW = 7, F_SETOWN = 8, F_GETOWN = 9, F_SETSIG = 10, F_GETSIG = 11, F_GETLK64 = 12, F_SETLK64 = 13,
            F_SETLKW64 = 14, F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38, F_DUPFD_CLOEXEC = 1030,
            F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032, F_ADD_SEALS = 1033, F_GET_SEALS = 1034, FD_CLOEXEC = 1;
    static final int TCGETS = 0x5401, TIOCGPGRP = 0x540f, TIOCGWINSZ = 0x5413, FIONREAD = 0x541b, FIONBIO = 0x5421,
            FIOCLEX = 0x5451, FIONCLEX = 0x5450;

    private final Kernel k;
    /** Pipes, pipe2 and sendfile. */
    final SysPipe pipes;
    /** mmap of a file descriptor, msync. */
    final SysFileMap maps;

    SysFile(Kernel k) {
        this.k = k;
        this.pipes = new SysPipe(k, this);
        this.maps = new SysFileMap(k, this);
    }

    void closeQuietly(int fd) {
        try {
            files().remove(fd).put();
        } catch (FsException ignored) {
            // already gone
        }
    }

    FdTable files() {
        return k.current().files;
    }

    File file(int fd) throws FsException {
        return files().get(fd);
    }

    /** access_ok against TASK_SIZE_MAX (unsigned, no wrap). */
    boolean accessOk(long addr, long size) {
        long limit = k.memory().ops().taskSize();
        long end = addr + size;
        return Long.compareUnsigned(end, addr) >= 0 && Long.compareUnsigned(end, limit) <= 0;
    }

    long nofile() {
        long[][] r = k.current().sig.rlimits;
        return r == null ? 1024 : Math.min(r[SysProc.RLIMIT_NOFILE][0], SysProc.NR_OPEN);
    }

    // ---- read / write ---------------------------------------------------------------------------

    long read(int fd, long buf, long count) {
        File f;
        try {
            f = file(fd);
        } catch (FsException e) {
            return e.ret();
        }
        if (!f.readable()) {
            return -Errno.EBADF;
        }
        if (!accessOk(buf, count)) {
            return -Errno.EFAULT;
        }
        return readFile(f, buf, Math.min(count, MAX_RW_COUNT), -1);
    }

    /** vfs_read of {@code count} bytes at the file position ({@code at} &lt; 0) or at {@code at}. */
    long readFile(File f, long buf, long count, long at) {
        if (f.inode.isDir()) {
            return -Errno.EISDIR;
        }
        if (count == 0) {
            return 0;
        }
        if (f instanceof Pipe.End p) {
            return pipes.read(p, buf, count);
        }
        if (f instanceof ConsoleFile c && c.isInput()) {
            return pipes.consoleRead(c, buf, count);
        }
        long done = 0;
        byte[] b = new byte[(int) Math.min(count, CHUNK)];
        while (done < count) {
            int want = (int) Math.min(b.length, count - done);
            int n;
            try {
                n = at < 0 ? f.read(b, 0, want) : f.pread(at + done, b, 0, want);
            } catch (FsException e) {
                return done > 0 ? done : e.ret();
            }
            if (n <= 0) {
                break;
            }
            int notCopied = k.userAccess().copyToUser(buf + done, b, 0, n);
            if (notCopied != 0) {
                if (at < 0) {
                    f.setPos(f.pos() - notCopied);
                }
                done += n - notCopied;
                return done > 0 ? done : -Errno.EFAULT;
            }
            done += n;
            if (n < want) {
                break; // short read: end of file, or a stream that returned what it had
            }
        }
        return done;
    }

    long write(int fd, long buf, long count) {
        File f;
        try {
            f = file(fd);
        } catch (FsException e) {
            return e.ret();
        }
        if (!f.writable()) {
            return -Errno.EBADF;
        }
        if (!accessOk(buf, count)) {
            return -Errno.EFAULT;
        }
        return writeFile(f, buf, Math.min(count, MAX_RW_COUNT), -1);
    }

    long writeFile(File f, long buf, long count, long at) {
        if (count == 0) {
            return 0;
        }
        if (f instanceof Pipe.End p) {
            return pipes.write(p, buf, count, 0);
        }
        long done = 0;
        byte[] b = new byte[(int) Math.min(count, CHUNK)];
        while (done < count) {
            int n = (int) Math.min(b.length, count - done);
            int notCopied = k.userAccess().copyFromUser(b, 0, buf + done, n);
            int ok = n - notCopied;
            if (ok > 0) {
                int w;
                try {
                    w = at < 0 ? f.write(b, 0, ok) : f.pwrite(at + done, b, 0, ok);
                } catch (FsException e) {
                    if (e.errno == Errno.EPIPE) {
                        sigpipe();
                    }
                    return done > 0 ? done : e.ret();
                }
                done += w;
                if (w < ok) {
                    break;
                }
            }
            if (notCopied != 0) {
                break;
            }
        }
        return done == 0 ? -Errno.EFAULT : done;
    }

    void sigpipe() {
        SignalQueue.kill(k, k.current().tgid(), SIGPIPE);
    }

    // ---- vectors ----------------------------------------------------------------------------------

    /**
     * readv/writev/preadv/pwritev: import_iovec's checks (UIO_MAXIOV, a negative length EINVAL, each
     * segment access_ok, the total clamped to MAX_RW_COUNT), then one segment after another until a
     * short transfer. {@code iovSize} 16 (struct iovec) or 8 (compat_iovec).
     */
    long rwv(int fd, long iov, long vlen, int iovSize, boolean write, long at) {
        File f;
        try {
            f = file(fd);
        } catch (FsException e) {
            return e.ret();
        }
        if (write ? !f.writable() : !f.readable()) {
            return -Errno.EBADF;
        }
        if (at >= 0 && !f.seekable()) {
            return -Errno.ESPIPE;
        }
        if (at < -1) {
            return -Errno.EINVAL;
        }
        long nrSegs = vlen & 0xffff_ffffL;
        if (nrSegs > UIO_MAXIOV) {
            return -Errno.EINVAL;
        }
        if (nrSegs == 0) {
            return 0;
        }
        int n = (int) nrSegs;
        byte[] raw = new byte[n * iovSize];
        if (!accessOk(iov, raw.length) || k.userAccess().copyFromUser(raw, 0, iov, raw.length) != 0) {
            return -Errno.EFAULT;
        }
        long[] base = new long[n];
        long[] len = new long[n];
        long total = 0;
        for (int i = 0; i < n; i++) {
            base[i] = iovSize == 16 ? Le.le64(raw, i * 16) : Le.le32(raw, i * 8);
            len[i] = iovSize == 16 ? Le.le64(raw, i * 16 + 8) : (int) Le.le32(raw, i * 8 + 4);
            if (len[i] < 0) {
                return -Errno.EINVAL;
            }
        }
        for (int i = 0; i < n; i++) {
            if (!accessOk(base[i], len[i])) {
                return -Errno.EFAULT;
            }
            if (len[i] > MAX_RW_COUNT - total) {
                len[i] = MAX_RW_COUNT - total;
            }
            total += len[i];
        }
        long done = 0;
        for (int i = 0; i < n; i++) {
            if (len[i] == 0) {
                continue;
            }
            long r = write ? writeFile(f, base[i], len[i], at < 0 ? -1 : at + done)
                    : readFile(f, base[i], len[i], at < 0 ? -1 : at + done);
            if (r == Sched.BLOCK) {
                if (done == 0) {
                    return r; // the first segment blocks: the continuation finishes that segment only
                }
                k.current().resume = null; // already transferred something: return it
                k.current().state = Task.RUNNING;
                return done;
            }
            if (r < 0) {
                return done > 0 ? done : r;
            }
            done += r;
            if (r < len[i]) {
                break;
            }
        }
        return done;
    }

    // ---- positioned I/O, seek ------------------------------------------------------------------------

    long pread(int fd, long buf, long count, long pos, boolean write) {
        File f;
        try {
            f = file(fd);
        } catch (FsException e) {
            return e.ret();
        }
        if (write ? !f.writable() : !f.readable()) {
            return -Errno.EBADF;
        }
        if (pos < 0) {
            return -Errno.EINVAL;
        }
        if (!f.seekable()) {
            return -Errno.ESPIPE;
        }
        if (!accessOk(buf, count)) {
            return -Errno.EFAULT;
        }
        count = Math.min(count, MAX_RW_COUNT);
        return write ? writeFile(f, buf, count, pos) : readFile(f, buf, count, pos);
    }

    long lseek(int fd, long off, int whence) {
        try {
            File f = file(fd);
            return f.llseek(off, whence);
        } catch (FsException e) {
            return e.ret();
        }
    }

    /** _llseek (ia32): the 64-bit offset from two halves, the result stored as a loff_t. */
    long llseek32(int fd, long hi, long lo, long result, int whence) {
        try {
            File f = file(fd);
            long r = f.llseek((hi << 32) | (lo & 0xffff_ffffL), whence);
            return k.userAccess().putUser64(result, r) ? 0 : -Errno.EFAULT;
        } catch (FsException e) {
            return e.ret();
        }
    }

    /** lseek of an ia32 task: the result must fit a 32-bit off_t (EOVERFLOW). */
    long lseek32(int fd, long off, int whence) {
        long r = lseek(fd, (int) off, whence);
        return r > Integer.MAX_VALUE ? -Errno.EOVERFLOW : r;
    }

    // ---- fd table ---------------------------------------------------------------------------------

    long close(int fd) {
        try {
            files().remove(fd).put();
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }

    /** close_range(first, last, flags): CLOSE_RANGE_CLOEXEC (4) marks instead of closing; UNSHARE (2) accepted. */
    long closeRange(long first, long last, int flags) {
        if ((flags & ~6) != 0 || Long.compareUnsigned(first, last) > 0) {
            return -Errno.EINVAL;
        }
        FdTable ft = files();
        for (int fd : ft.openFds()) {
            if (Long.compareUnsigned(fd, first) >= 0 && Long.compareUnsigned(fd, last) <= 0) {
                if ((flags & 4) != 0) {
                    ft.setCloexec(fd, true);
                } else {
                    closeQuietly(fd);
                }
            }
        }
        return 0;
    }

    long dup(int fd) {
        try {
            File f = file(fd);
            f.get();
            try {
                return files().install(f, 0, nofile(), false);
            } catch (FsException e) {
                f.put();
                return e.ret();
            }
        } catch (FsException e) {
            return e.ret();
        }
    }

    /** dup2 (same fd: checked and returned) and dup3 (same fd: EINVAL; flags only O_CLOEXEC). */
    long dup3(int oldfd, int newfd, int flags, boolean isDup2) {
        if (!isDup2 && (flags & ~File.O_CLOEXEC) != 0) {
            return -Errno.EINVAL;
        }
        File f;
        try {
            f = file(oldfd);
        } catch (FsException e) {
            return e.ret();
        }
        if (oldfd == newfd) {
            return isDup2 ? newfd : -Errno.EINVAL;
        }
        if (newfd < 0 || newfd >= nofile()) {
            return -Errno.EBADF;
        }
        f.get();
        File old = files().replace(newfd, f, (flags & File.O_CLOEXEC) != 0);
        if (old != null) {
            old.put();
        }
        return newfd;
    }

    long fcntl(int fd, int cmd, long arg, boolean compat) {
        File f;
        try {
            f = file(fd);
        } catch (FsException e) {
            return e.ret();
        }
        FdTable ft = files();
        switch (cmd) {
            case F_DUPFD, F_DUPFD_CLOEXEC: {
                if (arg < 0 || arg >= nofile()) {
                    return -Errno.EINVAL;
                }
                f.get();
                try {
                    return ft.install(f, (int) arg, nofile(), cmd == F_DUPFD_CLOEXEC);
                } catch (FsException e) {
                    f.put();
                    return e.ret();
                }
            }
            case F_GETFD:
                return ft.cloexec(fd) ? FD_CLOEXEC : 0;
            case F_SETFD:
                ft.setCloexec(fd, (arg & FD_CLOEXEC) != 0);
                return 0;
            case F_GETFL:
                return f.flags() | (compat ? 0 : File.O_LARGEFILE) & (f.inode.isReg() ? File.O_LARGEFILE : 0);
            case F_SETFL:
                f.setFlags((int) arg);
                return 0;
            case F_GETLK, F_SETLK, F_SETLKW, F_GETLK64, F_SETLK64, F_SETLKW64, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW:
                return lock(f, cmd, arg, compat);
            case F_GETOWN, F_GETSIG:
                return 0;
            case F_SETOWN, F_SETSIG:
                return 0;
            case F_GETPIPE_SZ:
                return f instanceof Pipe.End ? Pipe.PIPE_SIZE : -Errno.EBADF;
            case F_SETPIPE_SZ:
                return f instanceof Pipe.End ? Pipe.PIPE_SIZE : -Errno.EBADF;
            case F_GET_SEALS, F_ADD_SEALS:
                return -Errno.EINVAL;
            default:
                return -Errno.EINVAL;
        }
    }

    /**
     * Record locks: one process owns every file (nothing else could conflict), so F_SETLK(W) succeeds
     * and F_GETLK reports F_UNLCK; the struct flock is still read (EFAULT) and its l_type checked (EINVAL),
     * and a write lock needs a file open for writing (EBADF), as fcntl_setlk checks.
     */
    private long lock(File f, int cmd, long arg, boolean compat) {
        boolean is64 = !compat || cmd == F_GETLK64 || cmd == F_SETLK64 || cmd == F_SETLKW64 || cmd >= F_OFD_GETLK;
        int size = is64 ? (compat ? 24 : 32) : 16;
        byte[] b = new byte[size];
        if (k.userAccess().copyFromUser(b, 0, arg, size) != 0) {
            return -Errno.EFAULT;
        }
        int type = (short) (b[0] & 0xff | (b[1] & 0xff) << 8);
        if (type < 0 || type > 2) {
            return -Errno.EINVAL;
        }
        boolean get = cmd == F_GETLK || cmd == F_GETLK64 || cmd == F_OFD_GETLK;
        if (get) {
            b[0] = 2; // F_UNLCK
            b[1] = 0;
            return k.userAccess().copyToUser(arg, b, 0, 2) == 0 ? 0 : -Errno.EFAULT;
        }
        if (type == 0 && !f.readable() || type == 1 && !f.writable()) {
            return -Errno.EBADF;
        }
        return 0;
    }

    /** flock: LOCK_SH 1, LOCK_EX 2, LOCK_UN 8, LOCK_NB 4; no other holder, so always granted. */
    long flock(int fd, int op) {
        try {
            file(fd);
        } catch (FsException e) {
            return e.ret();
        }
        int o = op & ~4;
        return o == 1 || o == 2 || o == 8 ? 0 : -Errno.EINVAL;
    }

    long fsync(int fd) {
        try {
            file(fd).fsync();
            return 0;
        } catch (FsException e) {
            return e.ret();
        }
    }

    // ---- ioctl ------------------------------------------------------------------------------------

    /**
     * ioctl: FIOCLEX/FIONCLEX/FIONBIO for any fd, FIONREAD on pipes, the console and regular files; a
     * terminal request (TCGETS, TIOCGWINSZ, TIOCGPGRP...) on anything that is not a tty is ENOTTY.
     */
    long ioctl(int fd, int cmd, long arg) {
        File f;
        try {
            f = file(fd);
        } catch (FsException e) {
            return e.ret();
        }
        switch (cmd) {
            case FIOCLEX:
                files().setCloexec(fd, true);
                return 0;
            case FIONCLEX:
                files().setCloexec(fd, false);
                return 0;
            case FIONBIO: {
                byte[] b = new byte[4];
                if (k.userAccess().copyFromUser(b, 0, arg, 4) != 0) {
                    return -Errno.EFAULT;
                }
                int on = (int) Le.le32(b, 0);
                f.setFlags(on != 0 ? f.flags() | File.O_NONBLOCK : f.flags() & ~File.O_NONBLOCK);
                return 0;
            }
            case FIONREAD: {
                long avail;
                if (f instanceof Pipe.End p) {
                    synchronized (k.sched().lock) {
                        avail = p.pipe.available();
                    }
                } else if (f instanceof ConsoleFile c) {
                    avail = c.available();
                } else if (f.inode.isReg()) {
                    avail = Math.max(0, f.inode.size() - f.pos());
                } else {
                    return -Errno.ENOTTY;
                }
                byte[] b = new byte[4];
                Le.put32(b, 0, avail);
                return k.userAccess().copyToUser(arg, b, 0, 4) == 0 ? 0 : -Errno.EFAULT;
            }
            default:
                return -Errno.ENOTTY; // TCGETS, TCSETS*, TIOCGWINSZ, TIOCGPGRP: no fd is a terminal
        }
    }

    /** The string of bytes at {@code va}, at most {@code max} (ENAMETOOLONG beyond), as UTF-8; null on a fault. */
    String userPath(long va, int max) throws FsException {
        byte[] out = new byte[256];
        int n = 0;
        byte[] page = new byte[4096];
        long p = va;
        while (true) {
            int chunk = (int) (4096 - (p & 4095));
            if (k.userAccess().copyFromUser(page, 0, p, chunk) != 0) {
                // The string may end before the fault: byte by byte.
                for (int i = 0; i < chunk; i++) {
                    if (k.userAccess().copyFromUser(page, i, p + i, 1) != 0) {
                        throw new FsException(Errno.EFAULT);
                    }
                    if (page[i] == 0) {
                        chunk = i + 1;
                        break;
                    }
                }
            }
            for (int i = 0; i < chunk; i++) {
                if (page[i] == 0) {
                    return new String(out, 0, n, StandardCharsets.UTF_8);
                }
                if (n == max) {
                    throw new FsException(Errno.ENAMETOOLONG);
                }
                if (n == out.length) {
                    out = java.util.Arrays.copyOf(out, out.length * 2);
                }
                out[n++] = page[i];
            }
            p += chunk;
        }
    }
}
