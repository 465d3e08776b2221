package org.mmulab.kernel.fs;

/**
 * A VFS operation's failure with the errno Linux gives (fs/namei.c, fs/open.c...): the syscall layer
 * returns {@code -errno}. No stack trace: it is an ordinary result on the syscall path.
 */
public final class FsException extends Exception {
    private static final long serialVersionUID = 1L;
    public final int errno;

    public FsException(int errno) {
        super(null, null, false, false);
        this.errno = errno;
    }

    /** The syscall result: {@code -errno}. */
    public long ret() {
        return -errno;
    }

    @Override
    public String getMessage() {
        return "errno " + errno;
    }
}
