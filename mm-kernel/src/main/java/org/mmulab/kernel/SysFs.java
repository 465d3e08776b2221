package org.mmulab.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;

/**
 * read, write, writev and ioctl on the three fds a guest has, after fs/read_write.c (ksys_read/vfs_read,
 * ksys_write/vfs_write, do_writev/vfs_writev), lib/iov_iter.c (import_iovec, iovec_from_user), fs/pipe.c
 * (pipe_read, pipe_write, FIONREAD) and arch/x86/include/asm/uaccess_64.h (access_ok), Linux 6.x.
 * fd 0 is the read end of a pipe (stdin), fds 1 and 2 write ends (stdout, stderr).
 *
 * <p>The order of the checks is Linux's: the fd and its mode (EBADF), then {@code access_ok(buf, count)}
 * with the count as given (EFAULT: a count of 2^62 or -1 never passes, whatever the buffer), then
 * rw_verify_area, then the clamp to MAX_RW_COUNT. access_ok checks against the kernel's TASK_SIZE_MAX
 * (the paging format's user limit), not the task's: a compat task's pointer between its 4 GiB - 8 KiB
 * TASK_SIZE and TASK_SIZE_MAX passes and then faults in the copy, as on a 64-bit kernel.
 */
final class SysFs {
    /** MAX_RW_COUNT: INT_MAX rounded down to a page. */
    static final long MAX_RW_COUNT = Integer.MAX_VALUE & ~4095L;
    /** UIO_MAXIOV. */
    static final int UIO_MAXIOV = 1024;
    private static final int CHUNK = 1 << 16;

    private final Kernel k;
    /** stdin with room to put back what could not be copied out (pipe_read leaves it in the pipe). */
    private PushbackInputStream stdin;
    private InputStream stdinSource;

    SysFs(Kernel k) {
        this.k = k;
    }

    /**
     * access_ok(addr, size): [addr, addr + size) does not wrap and ends at or below TASK_SIZE_MAX.
     * Unsigned arithmetic throughout: sizes are size_t.
     */
    boolean accessOk(long addr, long size) {
        long limit = k.memory().ops().taskSize();
        long end = addr + size;
        return Long.compareUnsigned(end, addr) >= 0 && Long.compareUnsigned(end, limit) <= 0;
    }

    private OutputStream outFor(int fd) {
        return switch (fd) {
            case 1 -> k.config().stdout();
            case 2 -> k.config().stderr();
            default -> null;
        };
    }

    private PushbackInputStream stdin() {
        InputStream src = k.config().stdin();
        if (stdin == null || stdinSource != src) {
            stdin = new PushbackInputStream(src, CHUNK);
            stdinSource = src;
        }
        return stdin;
    }

    /**
     * ksys_read: fd 0 only (1 and 2 are not open for reading: EBADF); access_ok; then pipe_read, which
     * blocks for at least one byte and returns what is there up to count. A buffer that faults is
     * EFAULT and the bytes stay in the pipe; at end of file nothing is copied and the result is 0.
     */
    long read(int fd, long buf, long count) {
        if (fd != 0) {
            return -Errno.EBADF;
        }
        if (!accessOk(buf, count)) {
            return -Errno.EFAULT;
        }
        // rw_verify_area: a pipe has no position; (ssize_t) count < 0 cannot pass access_ok.
        count = Math.min(count, MAX_RW_COUNT);
        if (count == 0) {
            return 0;
        }
        int n = (int) Math.min(count, CHUNK);
        byte[] b = new byte[n];
        PushbackInputStream in = stdin();
        int got;
        try {
            got = in.read(b, 0, n);
        } catch (IOException e) {
            return -Errno.EIO;
        }
        if (got <= 0) {
            return 0; // end of file: nothing is copied, so even a bad buffer reads 0
        }
        // pipe_read copies one pipe buffer at a time and consumes it only when the copy completed: a
        // short copy of the first buffer is EFAULT, and its bytes stay in the pipe.
        if (k.userAccess().copyToUser(buf, b, 0, got) != 0) {
            try {
                in.unread(b, 0, got);
            } catch (IOException e) {
                return -Errno.EIO;
            }
            return -Errno.EFAULT;
        }
        return got;
    }

    /** ksys_write: fds 1 and 2 (fd 0 is not open for writing: EBADF); access_ok; pipe_write. */
    long write(int fd, long buf, long count) {
        OutputStream out = outFor(fd);
        if (out == null) {
            return -Errno.EBADF;
        }
        if (!accessOk(buf, count)) {
            return -Errno.EFAULT;
        }
        return pipeWrite(out, buf, Math.min(count, MAX_RW_COUNT));
    }

    /** pipe_write: copies page by page; a fault ends it with what was written, or EFAULT if nothing. */
    private long pipeWrite(OutputStream out, long buf, long count) {
        if (count == 0) {
            return 0;
        }
        long done = 0;
        byte[] b = new byte[(int) Math.min(count, CHUNK)];
        while (done < count) {
            int n = (int) Math.min(count - done, b.length);
            int notCopied = k.userAccess().copyFromUser(b, 0, buf + done, n);
            int ok = n - notCopied;
            try {
                out.write(b, 0, ok);
            } catch (IOException e) {
                return done > 0 ? done : -Errno.EPIPE;
            }
            done += ok;
            if (notCopied != 0) {
                break;
            }
        }
        try {
            out.flush();
        } catch (IOException ignored) {
            // nothing to report beyond the count
        }
        return done == 0 ? -Errno.EFAULT : done;
    }

    /**
     * do_writev: {@code vlen} is an unsigned long that import_iovec takes as an unsigned int; more than
     * UIO_MAXIOV is EINVAL. iovec_from_user copies the array (EFAULT) and refuses a negative length
     * (EINVAL: ssize_t, or compat_ssize_t for the 8-byte struct compat_iovec); then each segment must
     * pass access_ok (EFAULT) and the total is clamped to MAX_RW_COUNT. {@code iovSize} is 16 for
     * struct iovec, 8 for struct compat_iovec.
     */
    long writev(int fd, long iov, long vlen, int iovSize) {
        OutputStream out = outFor(fd);
        if (out == null) {
            return -Errno.EBADF;
        }
        long nrSegs = vlen & 0xffff_ffffL;
        if (nrSegs > UIO_MAXIOV) {
            return -Errno.EINVAL;
        }
        if (nrSegs == 0) {
            return 0;
        }
        int n = (int) nrSegs;
        if (!accessOk(iov, (long) n * iovSize)) {
            return -Errno.EFAULT;
        }
        long[] base = new long[n];
        long[] len = new long[n];
        byte[] one = new byte[iovSize];
        for (int i = 0; i < n; i++) {
            if (k.userAccess().copyFromUser(one, 0, iov + (long) i * iovSize, iovSize) != 0) {
                return -Errno.EFAULT;
            }
            base[i] = iovSize == 16 ? Le.le64(one, 0) : Le.le32(one, 0);
            len[i] = iovSize == 16 ? Le.le64(one, 8) : (int) Le.le32(one, 4);
            if (len[i] < 0) {
                return -Errno.EINVAL;
            }
        }
        long totalLen = 0;
        for (int i = 0; i < n; i++) {
            if (!accessOk(base[i], len[i])) {
                return -Errno.EFAULT;
            }
            if (len[i] > MAX_RW_COUNT - totalLen) {
                len[i] = MAX_RW_COUNT - totalLen;
            }
            totalLen += len[i];
        }
        long done = 0;
        for (int i = 0; i < n; i++) {
            if (len[i] == 0) {
                continue;
            }
            long w = pipeWrite(out, base[i], len[i]);
            if (w < 0) {
                return done > 0 ? done : w;
            }
            done += w;
            if (w < len[i]) {
                break;
            }
        }
        return done;
    }

    /** ioctl on a pipe: FIONREAD works, every terminal request is -ENOTTY. */
    long ioctl(int fd, int cmd, long arg) {
        if (fd < 0 || fd > 2) {
            return -Errno.EBADF;
        }
        if (cmd == 0x541b) { // FIONREAD
            int avail = 0;
            if (fd == 0) {
                try {
                    avail = stdin().available();
                } catch (IOException e) {
                    avail = 0;
                }
            }
            byte[] b = new byte[4];
            Le.put32(b, 0, avail);
            return k.userAccess().copyToUser(arg, b, 0, 4) == 0 ? 0 : -Errno.EFAULT;
        }
        return -Errno.ENOTTY; // TCGETS, TCSETS*, TCSBRK, TIOCGWINSZ, TIOCGPGRP...
    }
}
