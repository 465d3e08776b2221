package org.mmulab.kernel.fs;

/**
 * struct fs_struct (include/linux/fs_struct.h): a task's root and working directory, shared by
 * CLONE_FS and copied otherwise. The umask lives on the task (mmulab's Task.umask).
 */
public final class FsContext {
    private Dentry root;
    private Dentry cwd;

    public FsContext(Dentry root, Dentry cwd) {
        this.root = root;
        this.cwd = cwd;
    }

    public synchronized Dentry root() {
        return root;
    }

    public synchronized Dentry cwd() {
        return cwd;
    }

    public synchronized void setCwd(Dentry d) {
        cwd = d;
    }

    public synchronized void setRoot(Dentry d) {
        root = d;
    }

    /** copy_fs_struct. */
    public synchronized FsContext copy() {
        return new FsContext(root, cwd);
    }
}
