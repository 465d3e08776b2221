package org.mmulab.kernel.fs;

import org.mmulab.kernel.Errno;

/**
 * struct pipe_inode_info (fs/pipe.c, Linux 6.x): a 64 KiB ring (16 pipe buffers of a page, the default
 * pipe_max_size... PIPE_DEF_BUFFERS), the counts of open read and write ends, and the two wait queues.
 * Writes of at most PIPE_BUF (4096) bytes are atomic: they wait until the whole write fits. A read of
 * an empty pipe with no writer is end of file; a write with no reader is EPIPE (the caller raises
 * SIGPIPE). Every method runs under the kernel's scheduler lock (see {@link WaitQueue}).
 */
public final class Pipe {
    public static final int PIPE_SIZE = 65536, PIPE_BUF = 4096;

    private final byte[] ring = new byte[PIPE_SIZE];
    private int head, count;
    int readers, writers;
    public final WaitQueue readWait = new WaitQueue(), writeWait = new WaitQueue();
    public final Inode inode;

    public Pipe(SuperBlock pipefs, int uid) {
        inode = new PipeInode(pipefs, uid);
    }

    /** The pipefs inode both ends' fstat shows: S_IFIFO|0600, size = bytes buffered. */
    final class PipeInode extends Inode {
        PipeInode(SuperBlock sb, int uid) {
            super(sb, sb.nextIno(), S_IFIFO | 0600);
            this.uid = uid;
            this.gid = uid;
            touchMtime();
            atimeNs = mtimeNs;
        }

        @Override
        public long size() {
            return 0;
        }
    }

    public int available() {
        return count;
    }

    /** pipe_read: up to len bytes; EAGAIN when empty with writers; 0 at end of file. */
    public int read(byte[] b, int off, int len) throws FsException {
        if (len == 0) {
            return 0;
        }
        if (count == 0) {
            if (writers == 0) {
                return 0;
            }
            throw new FsException(Errno.EAGAIN);
        }
        int n = Math.min(len, count);
        int first = Math.min(n, PIPE_SIZE - head);
        System.arraycopy(ring, head, b, off, first);
        System.arraycopy(ring, 0, b, off + first, n - first);
        head = (head + n) % PIPE_SIZE;
        count -= n;
        writeWait.wakeAll();
        return n;
    }

    /** Puts bytes back at the front (a read whose copy to user memory faulted leaves them in the pipe). */
    public void unread(byte[] b, int off, int n) {
        head = Math.floorMod(head - n, PIPE_SIZE);
        int first = Math.min(n, PIPE_SIZE - head);
        System.arraycopy(b, off, ring, head, first);
        System.arraycopy(b, off + first, ring, 0, n - first);
        count += n;
    }

    /**
     * pipe_write: EPIPE without readers; what fits (all of it for a write of at most PIPE_BUF, or
     * nothing); EAGAIN when nothing could be written.
     */
    public int write(byte[] b, int off, int len) throws FsException {
        if (readers == 0) {
            throw new FsException(Errno.EPIPE);
        }
        if (len == 0) {
            return 0;
        }
        int space = PIPE_SIZE - count;
        if (space == 0 || (len <= PIPE_BUF && space < len)) {
            throw new FsException(Errno.EAGAIN);
        }
        int n = Math.min(len, space);
        int tail = (head + count) % PIPE_SIZE;
        int first = Math.min(n, PIPE_SIZE - tail);
        System.arraycopy(b, off, ring, tail, first);
        System.arraycopy(b, off + first, ring, 0, n - first);
        count += n;
        readWait.wakeAll();
        return n;
    }

    /** The poll mask for the read or the write end (pipe_poll). */
    public int poll(boolean readEnd) {
        int m = 0;
        if (readEnd) {
            if (count > 0) {
                m |= File.POLLIN | File.POLLRDNORM;
            }
            if (writers == 0) {
                m |= File.POLLHUP;
            }
        } else {
            if (PIPE_SIZE - count >= PIPE_BUF) {
                m |= File.POLLOUT | File.POLLWRNORM;
            }
            if (readers == 0) {
                m |= File.POLLERR;
            }
        }
        return m;
    }

    /** One end of a pipe (pipe2's two files, or a FIFO opened later). */
    public static final class End extends File {
        public final Pipe pipe;
        private final boolean readEnd;
        private final Object lock;

        /** {@code lock} is the kernel's scheduler lock, taken for every pipe operation. */
        public End(Pipe pipe, boolean readEnd, int flags, Object lock) {
            super(null, pipe.inode, (flags & ~O_ACCMODE) | (readEnd ? O_RDONLY : O_WRONLY));
            this.pipe = pipe;
            this.readEnd = readEnd;
            this.lock = lock;
            synchronized (lock) {
                if (readEnd) {
                    pipe.readers++;
                } else {
                    pipe.writers++;
                }
            }
        }

        @Override
        public boolean seekable() {
            return false;
        }

        /** Under the scheduler lock (reentrant: the syscall layer usually holds it already). */
        @Override
        public int read(byte[] b, int off, int len) throws FsException {
            synchronized (lock) {
                return pipe.read(b, off, len);
            }
        }

        @Override
        public int write(byte[] b, int off, int len) throws FsException {
            synchronized (lock) {
                return pipe.write(b, off, len);
            }
        }

        /** Room for a write now (the caller holds the lock); -1 without readers. */
        public int space() {
            return pipe.readers == 0 ? -1 : PIPE_SIZE - pipe.available();
        }

        @Override
        public int pread(long at, byte[] b, int off, int len) throws FsException {
            throw new FsException(Errno.ESPIPE);
        }

        @Override
        public int pwrite(long at, byte[] b, int off, int len) throws FsException {
            throw new FsException(Errno.ESPIPE);
        }

        @Override
        public int poll() {
            synchronized (lock) {
                return pipe.poll(readEnd);
            }
        }

        @Override
        public WaitQueue readWait() {
            return pipe.readWait;
        }

        @Override
        public WaitQueue writeWait() {
            return pipe.writeWait;
        }

        public Object lock() {
            return lock;
        }

        @Override
        public String describe() {
            return "pipe:[" + inode.ino() + "]";
        }

        /** pipe_release: the other side sees EOF (or EPIPE) and is woken. */
        @Override
        protected void release() {
            synchronized (lock) {
                if (readEnd) {
                    pipe.readers--;
                } else {
                    pipe.writers--;
                }
                pipe.readWait.wakeAll();
                pipe.writeWait.wakeAll();
            }
        }
    }
}
