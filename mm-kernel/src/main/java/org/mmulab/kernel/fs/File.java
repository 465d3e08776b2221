package org.mmulab.kernel.fs;

import java.util.List;

import org.mmulab.kernel.Errno;

/**
 * struct file (include/linux/fs.h): an open file description, shared by the fds dup and fork make
 * (refcounted as f_count), with its O_ flags, f_pos and, for a directory, the listing getdents64
 * walks. The default methods are generic_file_read_iter/write_iter over the inode; pipes, the console
 * and devices override them. A read or write that would block throws EAGAIN and names the wait queue
 * ({@link #readWait}, {@link #writeWait}): the syscall layer then blocks the task unless O_NONBLOCK.
 */
public class File {
    public static final int O_ACCMODE = 3, O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_EXCL = 0200,
            O_NOCTTY = 0400, O_TRUNC = 01000, O_APPEND = 02000, O_NONBLOCK = 04000, O_DSYNC = 010000, O_ASYNC = 020000,
            O_DIRECT = 040000, O_LARGEFILE = 0100000, O_DIRECTORY = 0200000, O_NOFOLLOW = 0400000,
            O_NOATIME = 01000000, O_CLOEXEC = 02000000, O_SYNC = 04010000, O_PATH = 010000000,
            O_TMPFILE = 020000000;
    /** Flags F_SETFL may change. */
    public static final int SETFL_MASK = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
    public static final int POLLIN = 1, POLLPRI = 2, POLLOUT = 4, POLLERR = 8, POLLHUP = 16, POLLNVAL = 32,
            POLLRDNORM = 0x40, POLLRDBAND = 0x80, POLLWRNORM = 0x100, POLLWRBAND = 0x200;
    public static final int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;
    /** MAX_LFS_FILESIZE. */
    public static final long MAX_LFS_FILESIZE = Long.MAX_VALUE;

    public final Dentry dentry;
    public final Inode inode;
    protected volatile int flags;
    protected long pos;
    private int refs = 1;
    private List<DirEntry> dirents;

    public File(Dentry dentry, Inode inode, int flags) {
        this.dentry = dentry;
        this.inode = inode;
        this.flags = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
        inode.opened();
    }

    public int flags() {
        return flags;
    }

    /** F_SETFL: only the changeable bits. */
    public void setFlags(int f) {
        flags = (flags & ~SETFL_MASK) | (f & SETFL_MASK);
    }

    public boolean isPath() {
        return (flags & O_PATH) != 0;
    }

    public boolean readable() {
        return !isPath() && (flags & O_ACCMODE) != O_WRONLY;
    }

    public boolean writable() {
        return !isPath() && (flags & O_ACCMODE) != O_RDONLY;
    }

    public boolean nonblocking() {
        return (flags & O_NONBLOCK) != 0;
    }

    /** FMODE_LSEEK / FMODE_PREAD: false for pipes and character streams (ESPIPE). */
    public boolean seekable() {
        return inode.isReg() || inode.isDir() || inode.isLink();
    }

    public synchronized long pos() {
        return pos;
    }

    public synchronized int read(byte[] b, int off, int len) throws FsException {
        int n = inode.read(pos, b, off, len);
        pos += n;
        return n;
    }

    public int pread(long at, byte[] b, int off, int len) throws FsException {
        return inode.read(at, b, off, len);
    }

    public synchronized int write(byte[] b, int off, int len) throws FsException {
        if ((flags & O_APPEND) != 0) {
            pos = inode.size();
        }
        if (pos + len < 0) {
            throw new FsException(Errno.EFBIG);
        }
        int n = inode.write(pos, b, off, len);
        pos += n;
        return n;
    }

    public int pwrite(long at, byte[] b, int off, int len) throws FsException {
        return inode.write(at, b, off, len);
    }

    /** vfs_llseek / generic_file_llseek: the new position or EINVAL. */
    public synchronized long llseek(long off, int whence) throws FsException {
        if (!seekable()) {
            throw new FsException(Errno.ESPIPE);
        }
        long base;
        switch (whence) {
            case SEEK_SET -> base = 0;
            case SEEK_CUR -> base = pos;
            case SEEK_END -> base = inode.size();
            case SEEK_DATA, SEEK_HOLE -> {
                long size = inode.size();
                if (off < 0 || off >= size) {
                    throw new FsException(Errno.ENXIO);
                }
                base = 0;
                if (whence == SEEK_HOLE) {
                    off = size;
                }
            }
            default -> throw new FsException(Errno.EINVAL);
        }
        long np = base + off;
        if (np < 0 || (off > 0 && np < base)) {
            throw new FsException(Errno.EINVAL);
        }
        if (inode.isDir() && np != pos) {
            dirents = null; // a directory's position is an index into a fresh listing
        }
        pos = np;
        return np;
    }

    /** The directory listing getdents64 walks ("." and ".." first), made at the first call after a rewind. */
    public synchronized List<DirEntry> dirents(long parentIno, List<DirEntry> mountpoints) throws FsException {
        if (dirents == null || pos == 0) {
            List<DirEntry> l = new java.util.ArrayList<>();
            l.add(new DirEntry(".", inode.ino(), DirEntry.DT_DIR));
            l.add(new DirEntry("..", parentIno, DirEntry.DT_DIR));
            l.addAll(inode.list());
            for (DirEntry m : mountpoints) {
                if (l.stream().noneMatch(e -> e.name().equals(m.name()))) {
                    l.add(m); // a mount point the directory itself lacks (/proc under --root DIR)
                }
            }
            dirents = l;
        }
        return dirents;
    }

    public synchronized void setPos(long p) {
        pos = p;
    }

    /** The poll mask now (vfs_poll): a regular file is always ready. */
    public int poll() {
        return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
    }

    public WaitQueue readWait() {
        return null;
    }

    public WaitQueue writeWait() {
        return null;
    }

    /** Whether this is a terminal (isatty): TCGETS works on it. */
    public boolean isTty() {
        return false;
    }

    public void fsync() throws FsException {
    }

    /** What /proc/pid/fd/N links to. */
    public String describe() {
        return dentry != null ? dentry.path() : "anon_inode:[" + inode.ino() + "]";
    }

    /** get_file. */
    public synchronized void get() {
        refs++;
    }

    /** fput: the last reference releases the description. */
    public void put() {
        boolean last;
        synchronized (this) {
            last = --refs == 0;
        }
        if (last) {
            release();
            inode.closed();
        }
    }

    /** The last reference is gone. */
    protected void release() {
    }
}
