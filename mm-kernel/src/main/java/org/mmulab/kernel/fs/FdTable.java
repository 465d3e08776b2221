package org.mmulab.kernel.fs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.mmulab.kernel.Errno;

/**
 * struct files_struct (fs/file.c, Linux 6.x): the fd array with its close-on-exec bits, shared by the
 * threads of CLONE_FILES (the same object, {@link #share}) and copied by fork ({@link #dup}: every open
 * file gets one more reference). The lowest free fd is allocated; fds at or above RLIMIT_NOFILE are
 * EMFILE (the caller passes the limit).
 */
public final class FdTable {
    private File[] fds = new File[64];
    private boolean[] cloexec = new boolean[64];
    private int users = 1;

    /** One more task shares this table (CLONE_FILES). */
    public synchronized FdTable share() {
        users++;
        return this;
    }

    /** dup_fd: a copy for a forked child, each file referenced once more. */
    public synchronized FdTable dup() {
        FdTable t = new FdTable();
        t.fds = fds.clone();
        t.cloexec = cloexec.clone();
        for (File f : t.fds) {
            if (f != null) {
                f.get();
            }
        }
        return t;
    }

    /** put_files_struct: the last user closes every fd. */
    public void release() {
        File[] toClose;
        synchronized (this) {
            if (--users > 0) {
                return;
            }
            toClose = fds;
            fds = new File[0];
            cloexec = new boolean[0];
        }
        for (File f : toClose) {
            if (f != null) {
                f.put();
            }
        }
    }

    /** fdget: the file at {@code fd} or EBADF. */
    public synchronized File get(int fd) throws FsException {
        if (fd < 0 || fd >= fds.length || fds[fd] == null) {
            throw new FsException(Errno.EBADF);
        }
        return fds[fd];
    }

    /** The file or null. */
    public synchronized File peek(int fd) {
        return fd < 0 || fd >= fds.length ? null : fds[fd];
    }

    public synchronized boolean cloexec(int fd) {
        return fd >= 0 && fd < fds.length && cloexec[fd];
    }

    public synchronized void setCloexec(int fd, boolean on) {
        if (fd >= 0 && fd < fds.length) {
            cloexec[fd] = on;
        }
    }

    private void grow(int min) {
        int n = fds.length;
        while (n <= min) {
            n *= 2;
        }
        fds = Arrays.copyOf(fds, n);
        cloexec = Arrays.copyOf(cloexec, n);
    }

    /** alloc_fd + fd_install: the lowest free fd at or above {@code from}, below {@code limit}; EMFILE if none. */
    public synchronized int install(File f, int from, long limit, boolean closeOnExec) throws FsException {
        for (int fd = Math.max(0, from); fd < limit; fd++) {
            if (fd >= fds.length) {
                grow(fd);
            }
            if (fds[fd] == null) {
                fds[fd] = f;
                cloexec[fd] = closeOnExec;
                return fd;
            }
        }
        throw new FsException(Errno.EMFILE);
    }

    /** dup2/dup3's replace_fd: installs {@code f} at {@code fd}, returning the file it replaced (to put) or null. */
    public synchronized File replace(int fd, File f, boolean closeOnExec) {
        if (fd >= fds.length) {
            grow(fd);
        }
        File old = fds[fd];
        fds[fd] = f;
        cloexec[fd] = closeOnExec;
        return old;
    }

    /** close_fd: removes and returns the file (the caller puts it), or EBADF. */
    public synchronized File remove(int fd) throws FsException {
        if (fd < 0 || fd >= fds.length || fds[fd] == null) {
            throw new FsException(Errno.EBADF);
        }
        File f = fds[fd];
        fds[fd] = null;
        cloexec[fd] = false;
        return f;
    }

    /** do_close_on_exec: removes every close-on-exec fd; returns the files to put. */
    public synchronized List<File> closeOnExec() {
        List<File> out = new ArrayList<>();
        for (int fd = 0; fd < fds.length; fd++) {
            if (fds[fd] != null && cloexec[fd]) {
                out.add(fds[fd]);
                fds[fd] = null;
                cloexec[fd] = false;
            }
        }
        return out;
    }

    /** The open fds in order (for /proc/pid/fd). */
    public synchronized List<Integer> openFds() {
        List<Integer> l = new ArrayList<>();
        for (int fd = 0; fd < fds.length; fd++) {
            if (fds[fd] != null) {
                l.add(fd);
            }
        }
        return l;
    }

    /** Whether the table has users other than the caller (unshare before exec). */
    public synchronized boolean shared() {
        return users > 1;
    }
}
