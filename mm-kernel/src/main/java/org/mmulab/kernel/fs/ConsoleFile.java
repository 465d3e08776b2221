package org.mmulab.kernel.fs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;

import org.mmulab.kernel.Errno;

/**
 * fds 0-2 of the first process: the host's stdin, stdout and stderr seen as the ends of pipes (pipefs
 * inodes, S_IFIFO|0600), so terminal ioctls give ENOTTY as on a pipe and the guest's output does not
 * depend on whether the host stream is a terminal. A read blocks the vCPU's host thread until the host
 * stream has data (it is not a guest pipe: nothing in the guest could fill it); poll reports stdin
 * readable and stdout/stderr writable at all times.
 */
public final class ConsoleFile extends File {
    private static final int CHUNK = 1 << 16;
    private final PushbackInputStream in;
    private final OutputStream out;

    private ConsoleFile(Inode inode, int flags, InputStream in, OutputStream out) {
        super(null, inode, flags);
        this.in = in == null ? null : new PushbackInputStream(in, CHUNK);
        this.out = out;
    }

    public static ConsoleFile input(SuperBlock pipefs, int uid, InputStream in) {
        return new ConsoleFile(new Pipe(pipefs, uid).inode, O_RDONLY, in, null);
    }

    public static ConsoleFile output(SuperBlock pipefs, int uid, OutputStream out) {
        return new ConsoleFile(new Pipe(pipefs, uid).inode, O_WRONLY, null, out);
    }

    @Override
    public boolean seekable() {
        return false;
    }

    @Override
    public int read(byte[] b, int off, int len) throws FsException {
        if (in == null) {
            throw new FsException(Errno.EBADF);
        }
        try {
            int n = in.read(b, off, Math.min(len, CHUNK));
            return Math.max(n, 0);
        } catch (IOException e) {
            throw new FsException(Errno.EIO);
        }
    }

    /** Gives back bytes whose copy to the guest faulted (pipe_read leaves them in the pipe). */
    public void unread(byte[] b, int off, int n) {
        try {
            in.unread(b, off, n);
        } catch (IOException ignored) {
            // more than CHUNK cannot have been read at once
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

    /** FIONREAD on stdin: what the host stream says is available. */
    public int available() {
        try {
            return in == null ? 0 : in.available();
        } catch (IOException e) {
            return 0;
        }
    }

    @Override
    public int poll() {
        return in != null ? POLLIN | POLLRDNORM : POLLOUT | POLLWRNORM;
    }

    @Override
    public String describe() {
        return "pipe:[" + inode.ino() + "]";
    }
}
