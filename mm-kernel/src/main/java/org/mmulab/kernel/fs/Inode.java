package org.mmulab.kernel.fs;

import java.util.List;

import org.mmulab.kernel.Errno;
import org.mmulab.kernel.mm.AddressSpace;

/**
 * struct inode with its inode_operations and the data half of file_operations (include/linux/fs.h,
 * Linux 6.x). Each file system overrides what it supports; the defaults are Linux's answers for an
 * inode without the operation (ENOTDIR for a lookup in a non-directory, EINVAL for readlink of a
 * non-link, EPERM/EROFS for changes a file system refuses). Attributes are read through
 * {@link #refresh} (a host file can change under the guest).
 *
 * <p>Locking: the namespace operations (lookup, create, unlink, rename) run under the {@link Vfs}'s
 * lock; file data under the inode's own monitor.
 */
public abstract class Inode {
    public static final int S_IFMT = 0170000, S_IFSOCK = 0140000, S_IFLNK = 0120000, S_IFREG = 0100000,
            S_IFBLK = 0060000, S_IFDIR = 0040000, S_IFCHR = 0020000, S_IFIFO = 0010000;
    public static final int S_ISUID = 04000, S_ISGID = 02000, S_ISVTX = 01000;

    public final SuperBlock sb;
    protected long ino;
    protected int mode;
    protected int nlink = 1;
    protected int uid, gid;
    protected long rdev;
    /** Times in ns since the epoch. */
    protected long atimeNs, mtimeNs, ctimeNs;

    protected Inode(SuperBlock sb, long ino, int mode) {
        this.sb = sb;
        this.ino = ino;
        this.mode = mode;
    }

    public long ino() {
        return ino;
    }

    public int mode() {
        return mode;
    }

    public int type() {
        return mode & S_IFMT;
    }

    public boolean isDir() {
        return type() == S_IFDIR;
    }

    public boolean isReg() {
        return type() == S_IFREG;
    }

    public boolean isLink() {
        return type() == S_IFLNK;
    }

    public int nlink() {
        return nlink;
    }

    public int uid() {
        return uid;
    }

    public int gid() {
        return gid;
    }

    public long rdev() {
        return rdev;
    }

    public long atimeNs() {
        return atimeNs;
    }

    public long mtimeNs() {
        return mtimeNs;
    }

    public long ctimeNs() {
        return ctimeNs;
    }

    /** i_size. */
    public long size() {
        return 0;
    }

    /** st_blocks in 512-byte units. */
    public long blocks() {
        return (size() + 4095) / 4096 * 8;
    }

    /** st_blksize. */
    public int blksize() {
        return 4096;
    }

    /** st_dev: the super block's device (a host file: its host device). */
    public long dev() {
        return sb.dev;
    }

    /** statfs counts: {blocks, free blocks, files, free files} in 4 KiB blocks. */
    public long[] statfs() {
        return new long[4];
    }

    /** Re-reads the attributes where they live elsewhere (the host file). */
    public void refresh() throws FsException {
    }

    /** Whether writes to this inode are allowed (read-only mounts and host files outside --rw are not). */
    public boolean writable() {
        return !sb.readOnly;
    }

    // ---- directories ------------------------------------------------------------------------------

    /** The child {@code name}, or null when there is none. */
    public Inode lookup(String name) throws FsException {
        throw new FsException(Errno.ENOTDIR);
    }

    /** The entries, without "." and "..". */
    public List<DirEntry> list() throws FsException {
        throw new FsException(Errno.ENOTDIR);
    }

    public Inode create(String name, int mode, int uid, int gid) throws FsException {
        throw new FsException(isDir() ? Errno.EPERM : Errno.ENOTDIR);
    }

    public Inode mkdir(String name, int mode, int uid, int gid) throws FsException {
        throw new FsException(isDir() ? Errno.EPERM : Errno.ENOTDIR);
    }

    public Inode symlink(String name, String target, int uid, int gid) throws FsException {
        throw new FsException(isDir() ? Errno.EPERM : Errno.ENOTDIR);
    }

    public void link(String name, Inode target) throws FsException {
        throw new FsException(isDir() ? Errno.EPERM : Errno.ENOTDIR);
    }

    /** unlink of a non-directory entry. */
    public void unlink(String name) throws FsException {
        throw new FsException(isDir() ? Errno.EPERM : Errno.ENOTDIR);
    }

    public void rmdir(String name) throws FsException {
        throw new FsException(isDir() ? Errno.EPERM : Errno.ENOTDIR);
    }

    /** rename within one file system ({@code newDir} is on the same super block). */
    public void rename(String oldName, Inode newDir, String newName) throws FsException {
        throw new FsException(Errno.EPERM);
    }

    // ---- symlinks ---------------------------------------------------------------------------------

    public String readlink() throws FsException {
        throw new FsException(Errno.EINVAL);
    }

    // ---- data -------------------------------------------------------------------------------------

    /** An open file description for this inode (O_ flags as given to open). */
    public File open(Dentry d, int flags) throws FsException {
        return new File(d, this, flags);
    }

    /** Reads at {@code pos}; 0 at end of file. */
    public int read(long pos, byte[] b, int off, int len) throws FsException {
        throw new FsException(isDir() ? Errno.EISDIR : Errno.EINVAL);
    }

    public int write(long pos, byte[] b, int off, int len) throws FsException {
        throw new FsException(isDir() ? Errno.EISDIR : Errno.EINVAL);
    }

    public void truncate(long size) throws FsException {
        throw new FsException(isDir() ? Errno.EISDIR : Errno.EINVAL);
    }

    public void chmod(int perm) throws FsException {
        throw new FsException(Errno.EPERM);
    }

    public void setTimes(long atimeNs, long mtimeNs) throws FsException {
        this.atimeNs = atimeNs;
        this.mtimeNs = mtimeNs;
    }

    /** The page cache behind mmap of this inode, or ENODEV when it cannot be mapped. */
    public AddressSpace mapping() throws FsException {
        throw new FsException(Errno.ENODEV);
    }

    /** Data changed through the file (write, truncate): called so cached mappings stay coherent. */
    protected void touchMtime() {
        long now = System.currentTimeMillis() * 1_000_000L;
        mtimeNs = now;
        ctimeNs = now;
    }

    /** One more open file description (or one less): tmpfs frees an unlinked file at the last close. */
    public void opened() {
    }

    public void closed() {
    }
}
