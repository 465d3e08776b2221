package org.mmulab.kernel.fs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import org.mmulab.kernel.Errno;

/**
 * fds 0-2 of the first process: the host's stdin, stdout and stderr seen as the ends of pipes (pipefs
 * inodes, S_IFIFO|0600), so terminal ioctls give ENOTTY as on a pipe and the guest's output does not
 * depend on whether the host stream is a terminal. Stdin is read by a host thread of its own (started
 * at the first read or poll) into a 64 KiB buffer, like a pipe whose writer is the host: a read takes
 * what is buffered, or fails with EAGAIN naming {@link #readWait} so the task blocks as a scheduler
 * continuation and its vCPU runs other tasks (pipe_read's wait); the reader wakes the queue under the
 * scheduler lock. Buffer, EOF and queue are guarded by that lock. Poll reports stdin readable when
 * bytes or EOF are there, stdout/stderr writable at all times.
 */
public final class ConsoleFile extends File {
    private static final int CHUNK = 1 << 16;
    private final InputStream in;
    private final OutputStream out;
    /** The scheduler lock: guards the buffer, {@link #eof} and {@link #readWait}. */
    private final Object lock;
    private final byte[] buf;
    private int count;
    private boolean eof, readerStarted;
    private final WaitQueue readWait = new WaitQueue();

    private ConsoleFile(Inode inode, int flags, InputStream in, OutputStream out, Object lock) {
        super(null, inode, flags);
        this.in = in;
        this.out = out;
        this.lock = lock;
        this.buf = in == null ? null : new byte[CHUNK];
    }

    /** Stdin; {@code lock} is the scheduler lock the reader wakes waiters under. */
    public static ConsoleFile input(SuperBlock pipefs, int uid, InputStream in, Object lock) {
        return new ConsoleFile(new Pipe(pipefs, uid).inode, O_RDONLY, in, null, lock);
    }

    public static ConsoleFile output(SuperBlock pipefs, int uid, OutputStream out) {
        return new ConsoleFile(new Pipe(pipefs, uid).inode, O_WRONLY, null, out, new Object());
    }

    @Override
    public boolean seekable() {
        return false;
    }

    /** Whether this is stdin (reads go through {@link #read}'s buffer). */
    public boolean isInput() {
        return in != null;
    }

    /** Caller holds the scheduler lock: what is buffered, 0 at EOF, else EAGAIN (wait on {@link #readWait}). */
    @Override
    public int read(byte[] b, int off, int len) throws FsException {
        if (in == null) {
            throw new FsException(Errno.EBADF);
        }
        synchronized (lock) {
            if (count == 0) {
                if (eof) {
                    return 0;
                }
                startReader();
                throw new FsException(Errno.EAGAIN);
            }
            int n = Math.min(len, count);
            System.arraycopy(buf, 0, b, off, n);
            System.arraycopy(buf, n, buf, 0, count - n);
            count -= n;
            lock.notifyAll(); // the reader may wait for room
            return n;
        }
    }

    /** Gives back bytes whose copy to the guest faulted (pipe_read leaves them in the pipe). */
    public void unread(byte[] b, int off, int n) {
        synchronized (lock) {
            int keep = Math.min(count, CHUNK - n);
            System.arraycopy(buf, 0, buf, n, keep);
            System.arraycopy(b, off, buf, 0, n);
            count = keep + n;
        }
    }

    @Override
    public WaitQueue readWait() {
        return in != null ? readWait : null;
    }

    private void startReader() {
        if (readerStarted) {
            return;
        }
        readerStarted = true;
        Thread th = new Thread(this::readLoop, "mmulab-stdin");
        th.setDaemon(true);
        th.start();
    }

    /** The host side: fills the buffer as the host stream delivers, waking readers; ends at EOF or an error. */
    private void readLoop() {
        byte[] tmp = new byte[CHUNK];
        for (;;) {
            int room;
            synchronized (lock) {
                while (count == CHUNK) {
                    try {
                        lock.wait(50);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                room = CHUNK - count;
            }
            int n;
            try {
                n = in.read(tmp, 0, room);
            } catch (IOException e) {
                n = -1; // EIO from the host stream: the guest sees the end of its input
            }
            synchronized (lock) {
                if (n < 0) {
                    eof = true;
                } else {
                    System.arraycopy(tmp, 0, buf, count, n);
                    count += n;
                }
                readWait.wakeAll();
            }
            if (n < 0) {
                return;
            }
        }
    }

    @Override
    public int write(byte[] b, int off, int len) throws FsException {
        if (out == null) {
            throw new FsException(Errno.EBADF);
        }
        try {
            out.write(b, off, len);
            out.flush();
            return len;
        } catch (IOException e) {
            throw new FsException(Errno.EPIPE);
        }
    }

    @Override
    public int pread(long at, byte[] b, int off, int len) throws FsException {
        throw new FsException(Errno.ESPIPE);
    }

    @Override
    public int pwrite(long at, byte[] b, int off, int len) throws FsException {
        throw new FsException(Errno.ESPIPE);
    }

    /** FIONREAD on stdin: what is buffered. */
    public int available() {
        if (in == null) {
            return 0;
        }
        synchronized (lock) {
            return count;
        }
    }

    @Override
    public int poll() {
        if (in == null) {
            return POLLOUT | POLLWRNORM;
        }
        synchronized (lock) {
            if (count > 0) {
                return POLLIN | POLLRDNORM;
            }
            if (eof) {
                return POLLHUP;
            }
            startReader();
            return 0;
        }
    }

    @Override
    public String describe() {
        return "pipe:[" + inode.ino() + "]";
    }
}
