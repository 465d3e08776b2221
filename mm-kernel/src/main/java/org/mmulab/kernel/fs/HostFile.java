package org.mmulab.kernel.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

import org.mmulab.kernel.Errno;

/**
 * An open host regular file (fs/read_write.c over a host FileChannel): reads and writes at the file
 * position, through the inode's {@link HostPageCache} once the file has been mapped, so read(), write()
 * and every mapping of the file see the same bytes; fsync writes back what mappings dirtied first.
 */
final class HostFile extends File {
    private final FileChannel ch;

    HostFile(Dentry d, HostFs.HostInode inode, int flags, FileChannel ch) {
        super(d, inode, flags);
        this.ch = ch;
    }

    private HostFs.HostInode host() {
        return (HostFs.HostInode) inode;
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) throws FsException {
        int n = pread(pos, b, off, len);
        pos += n;
        return n;
    }

    @Override
    public int pread(long at, byte[] b, int off, int len) throws FsException {
        try {
            HostPageCache c = host().cache();
            return c != null ? c.read(ch, at, b, off, len) : HostPageCache.readFully(ch, at, b, off, len);
        } catch (IOException e) {
            throw HostFs.errno(e);
        }
    }

    @Override
    public synchronized int write(byte[] b, int off, int len) throws FsException {
        try {
            if ((flags & O_APPEND) != 0) {
                pos = ch.size();
            }
        } catch (IOException e) {
            throw HostFs.errno(e);
        }
        int n = pwrite(pos, b, off, len);
        pos += n;
        return n;
    }

    @Override
    public int pwrite(long at, byte[] b, int off, int len) throws FsException {
        if (at + len < 0) {
            throw new FsException(Errno.EFBIG);
        }
        try {
            HostPageCache c = host().cache();
            if (c != null) {
                c.write(at, b, off, len, ch.size());
            }
            HostPageCache.writeFully(ch, at, b, off, len);
            inode.refresh();
            return len;
        } catch (IOException e) {
            throw HostFs.errno(e);
        }
    }

    @Override
    public synchronized long llseek(long off, int whence) throws FsException {
        inode.refresh();
        return super.llseek(off, whence);
    }

    /** vfs_fsync: file_write_and_wait_range over the whole cache, then the host's fsync. */
    @Override
    public void fsync() throws FsException {
        host().writeback();
        try {
            ch.force(true);
        } catch (IOException e) {
            throw HostFs.errno(e);
        }
    }

    /** ftruncate's host half: shrink, or extend with a hole. */
    static void truncate(FileChannel ch, long newSize) throws IOException {
        long cur = ch.size();
        if (newSize < cur) {
            ch.truncate(newSize);
        } else if (newSize > cur) {
            ch.write(ByteBuffer.wrap(new byte[1]), newSize - 1); // extend with a hole, as ftruncate does
        }
    }

    @Override
    protected void release() {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to report at close
        }
    }
}
