package org.mmulab.kernel;

import org.mmulab.kernel.fs.ConsoleFile;
import org.mmulab.kernel.fs.File;
import org.mmulab.kernel.fs.FdTable;
import org.mmulab.kernel.fs.FsException;
import org.mmulab.kernel.fs.Pipe;
import org.mmulab.kernel.fs.WaitQueue;

/**
 * Pipes through the scheduler (fs/pipe.c pipe_read, pipe_write, do_pipe2; fs/read_write.c sendfile,
 * Linux 6.x). A read of an empty pipe or a write to a full one queues the task on the pipe's wait queue
 * under the scheduler lock and blocks it; its continuation retries when a reader, writer or close wakes
 * it, and a signal ends the wait with -ERESTARTSYS ({@link SyscallRestart}), or with the count when part
 * was transferred. A short copy to user memory is EFAULT and leaves the bytes in the pipe. Writes of up
 * to PIPE_BUF are atomic; a write without readers is EPIPE and SIGPIPE.
 */
final class SysPipe {
    private final Kernel k;
    private final SysFile f;

    SysPipe(Kernel k, SysFile f) {
        this.k = k;
        this.f = f;
    }


    /**
     * pipe_read: takes what is there (blocking while the pipe is empty and has writers); bytes whose
     * copy to user memory faults go back into the pipe.
     */
    long read(Pipe.End p, long buf, long count) {
        return streamRead(p, (b, n) -> p.pipe.unread(b, 0, n), buf, count, "pipe read");
    }

    /**
     * pipe_write: copies up to a chunk of user bytes, then writes what fits, blocking for the rest;
     * {@code done} is what this call has written so far (a continuation carries it on).
     */
    long write(Pipe.End p, long buf, long count, long done) {
        byte[] b = new byte[(int) Math.min(count - done, SysFile.CHUNK)];
        int notCopied = k.userAccess().copyFromUser(b, 0, buf + done, b.length);
        int ok = b.length - notCopied;
        if (ok == 0) {
            return done > 0 ? done : -Errno.EFAULT;
        }
        return pipeWriteBytes(p, b, 0, ok, buf, count, done, notCopied != 0);
    }

    private long pipeWriteBytes(Pipe.End p, byte[] b, int off, int len, long buf, long count, long done, boolean faulted) {
        Task t = k.current();
        Sched s = k.sched();
        boolean epipe = false;
        synchronized (s.lock) {
            while (off < len) {
                int w;
                try {
                    w = p.write(b, off, len - off);
                } catch (FsException e) {
                    if (e.errno == Errno.EAGAIN && !p.nonblocking()) {
                        int o = off;
                        long d = done;
                        return blockOn(t, p.writeWait(),
                                (kk, cpu, task) -> pipeWriteBytes(p, b, o, len, buf, count, d, faulted), "pipe write", d);
                    }
                    if (e.errno != Errno.EPIPE) {
                        return done > 0 ? done : e.ret();
                    }
                    epipe = true;
                    break;
                }
                off += w;
                done += w;
            }
        }
        if (epipe) {
            f.sigpipe();
            return done > 0 ? done : -Errno.EPIPE;
        }
        if (faulted || done >= count) {
            return done;
        }
        return write(p, buf, count, done);
    }

    /**
     * A read of the console's stdin ({@link ConsoleFile}): what the host reader buffered, blocking as a
     * continuation while there is nothing and the host stream is open; a faulting copy gives the bytes back.
     */
    long consoleRead(ConsoleFile c, long buf, long count) {
        return streamRead(c, (b, n) -> c.unread(b, 0, n), buf, count, Sched.HOST_INPUT);
    }

    /** Gives bytes back to a stream whose copy to user memory faulted (under the scheduler lock). */
    private interface Unread {
        void unread(byte[] b, int n);
    }

    /**
     * The read of a pipe-like stream ({@link Pipe.End}, the console's stdin): takes what is there under the
     * scheduler lock, blocking as a continuation on {@code f.readWait()} while it is empty and open (EAGAIN
     * with O_NONBLOCK); bytes whose copy faults go back and the call is EFAULT.
     */
    private long streamRead(File f, Unread back, long buf, long count, String what) {
        Task t = k.current();
        Sched s = k.sched();
        byte[] b = new byte[(int) Math.min(count, Pipe.PIPE_SIZE)];
        int n;
        synchronized (s.lock) {
            try {
                n = f.read(b, 0, b.length);
            } catch (FsException e) {
                if (e.errno != Errno.EAGAIN || f.nonblocking()) {
                    return e.ret();
                }
                return blockOn(t, f.readWait(), (kk, cpu, task) -> streamRead(f, back, buf, count, what), what);
            }
        }
        if (n > 0 && k.userAccess().copyToUser(buf, b, 0, n) != 0) {
            synchronized (s.lock) {
                back.unread(b, n);
            }
            return -Errno.EFAULT;
        }
        return n;
    }

    /**
     * Blocks the current task on {@code wq} (caller holds the scheduler lock); its continuation retries
     * the call, or returns EINTR if a signal woke it.
     */
    long blockOn(Task t, WaitQueue wq, Task.Resume retry, String what) {
        return blockOn(t, wq, retry, what, 0);
    }

    /** {@link #blockOn}; a signal ends the wait with {@code partial} when something was transferred already. */
    long blockOn(Task t, WaitQueue wq, Task.Resume retry, String what, long partial) {
        if (t.killPending) {
            return -Errno.EINTR;
        }
        Sched s = k.sched();
        Task.Resume[] self = new Task.Resume[1];
        self[0] = (kk, cpu, task) -> task.wakeResult == -Errno.EINTR ? (partial > 0 ? partial : -Errno.ERESTARTSYS)
                : task.wakeResult != 0 ? task.wakeResult : retry.resume(kk, cpu, task);
        wq.add(() -> {
            if (t.resume == self[0]) {
                s.wakeLocked(t, 0);
            }
        });
        return s.blockLocked(t, self[0], Long.MAX_VALUE, what);
    }

    long pipe2(long fdsp, int flags) {
        if ((flags & ~(File.O_CLOEXEC | File.O_NONBLOCK | File.O_DIRECT)) != 0) {
            return -Errno.EINVAL;
        }
        Pipe pipe = new Pipe(k.filesystems().pipefs, k.config().uid());
        Object lock = k.sched().lock;
        File r = new Pipe.End(pipe, true, flags & File.O_NONBLOCK, lock);
        File w = new Pipe.End(pipe, false, flags & File.O_NONBLOCK, lock);
        boolean cloexec = (flags & File.O_CLOEXEC) != 0;
        FdTable ft = f.files();
        int rfd, wfd;
        try {
            rfd = ft.install(r, 0, f.nofile(), cloexec);
        } catch (FsException e) {
            r.put();
            w.put();
            return e.ret();
        }
        try {
            wfd = ft.install(w, 0, f.nofile(), cloexec);
        } catch (FsException e) {
            f.closeQuietly(rfd);
            w.put();
            return e.ret();
        }
        byte[] b = new byte[8];
        Le.put32(b, 0, rfd);
        Le.put32(b, 4, wfd);
        if (k.userAccess().copyToUser(fdsp, b, 0, 8) != 0) {
            f.closeQuietly(rfd);
            f.closeQuietly(wfd);
            return -Errno.EFAULT;
        }
        return 0;
    }


    // ---- sendfile -------------------------------------------------------------------------------------

    /**
     * sendfile(out, in, offp, count): through a kernel buffer; offp (loff_t, or compat off_t) if given.
     * Into a pipe it reads only what the pipe has room for, so nothing read is ever lost, and blocks
     * while the pipe is full (as splice to a pipe waits in pipe_wait_writable). A pipe as input is EINVAL.
     */
    long sendfile(int outFd, int inFd, long offp, long count, boolean compat) {
        File in, out;
        try {
            in = f.file(inFd);
            out = f.file(outFd);
        } catch (FsException e) {
            return e.ret();
        }
        if (!in.readable() || !out.writable()) {
            return -Errno.EBADF;
        }
        if (in instanceof Pipe.End) {
            return -Errno.EINVAL;
        }
        long pos = -1;
        if (offp != 0) {
            byte[] b = new byte[compat ? 4 : 8];
            if (k.userAccess().copyFromUser(b, 0, offp, b.length) != 0) {
                return -Errno.EFAULT;
            }
            pos = compat ? (int) Le.le32(b, 0) : Le.le64(b, 0);
            if (pos < 0) {
                return -Errno.EINVAL;
            }
        }
        return sendfileFrom(in, out, offp, pos, Math.min(count, SysFile.MAX_RW_COUNT), 0, compat);
    }

    private long sendfileFrom(File in, File out, long offp, long pos, long count, long done, boolean compat) {
        byte[] buf = new byte[(int) Math.min(Math.max(count, 1), SysFile.CHUNK)];
        Task t = k.current();
        while (done < count) {
            int want = (int) Math.min(buf.length, count - done);
            int n;
            try {
                if (out instanceof Pipe.End p) {
                    synchronized (k.sched().lock) {
                        int space = p.space();
                        if (space < 0) {
                            f.sigpipe();
                            return finishSendfile(offp, pos, done, done > 0 ? done : -Errno.EPIPE, compat);
                        }
                        if (space == 0) {
                            if (done > 0 || p.nonblocking()) {
                                return finishSendfile(offp, pos, done, done > 0 ? done : -Errno.EAGAIN, compat);
                            }
                            long d = done;
                            return blockOn(t, p.writeWait(), (kk, cpu, task) -> sendfileFrom(in, out, offp, pos, count, d, compat),
                                    "sendfile to a pipe");
                        }
                        want = Math.min(want, space);
                        n = pos < 0 ? in.read(buf, 0, want) : in.pread(pos + done, buf, 0, want);
                        if (n > 0) {
                            out.write(buf, 0, n); // fits: the lock was held since the space check
                        }
                    }
                } else {
                    n = pos < 0 ? in.read(buf, 0, want) : in.pread(pos + done, buf, 0, want);
                    int w = 0;
                    while (w < n) {
                        w += out.write(buf, w, n - w);
                    }
                }
            } catch (FsException e) {
                if (e.errno == Errno.EPIPE) {
                    f.sigpipe();
                }
                return finishSendfile(offp, pos, done, done > 0 ? done : e.ret(), compat);
            }
            if (n <= 0) {
                break;
            }
            done += n;
        }
        return finishSendfile(offp, pos, done, done, compat);
    }

    private long finishSendfile(long offp, long pos, long done, long ret, boolean compat) {
        if (offp != 0) {
            byte[] b = new byte[compat ? 4 : 8];
            if (compat) {
                Le.put32(b, 0, pos + done);
            } else {
                Le.put64(b, 0, pos + done);
            }
            k.userAccess().copyToUser(offp, b, 0, b.length);
        }
        return ret;
    }
}
