package org.mmulab.kernel.fs;

/**
 * struct dentry, "lite" (fs/dcache.c without the cache): a name in its parent directory and the inode
 * it resolved to when the path walk passed it (for a mount point, the mounted file system's root).
 * Dentries are made by each walk and kept by whoever needs them (an open file, a cwd); the parent chain
 * is what ".." follows and what getcwd prints, so ".." never leaves the chain a walk came down.
 */
public final class Dentry {
    /** The parent, or null for the root of the namespace. */
    public final Dentry parent;
    public final String name;
    public final Inode inode;

    public Dentry(Dentry parent, String name, Inode inode) {
        this.parent = parent;
        this.name = name;
        this.inode = inode;
    }

    /** The absolute path from the namespace root ("/" for the root). */
    public String path() {
        if (parent == null) {
            return "/";
        }
        StringBuilder sb = new StringBuilder();
        build(sb);
        return sb.toString();
    }

    private void build(StringBuilder sb) {
        if (parent == null) {
            return;
        }
        parent.build(sb);
        sb.append('/').append(name);
    }

    /** Whether {@code other} is this dentry or one of its ancestors (rename into itself). */
    public boolean hasAncestor(Inode other) {
        for (Dentry d = this; d != null; d = d.parent) {
            if (d.inode == other) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return path();
    }
}
