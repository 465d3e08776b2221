package org.mmulab.kernel.fs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.mmulab.kernel.Errno;

/**
 * The mount namespace and path walk (fs/namespace.c, fs/namei.c: link_path_walk, walk_component,
 * follow_dotdot, trailing_symlink, may_lookup; Linux 6.x). Mounts are keyed by their absolute path;
 * a walk that reaches a mount point continues on the mounted file system's root (so a mount point need
 * not exist below it, as /proc and /tmp under {@code --root DIR}).
 *
 * <p>Confinement: every name is looked up by the walk, one component at a time, never by the host;
 * ".." at the task's root stays there (follow_dotdot's path_equal(root) check) and goes to the parent
 * dentry otherwise; a symlink's target is walked again from the task's root (absolute) or from the
 * link's directory (relative), with at most {@link #MAXSYMLINKS} links per walk (ELOOP). So no path,
 * link or /proc/self/root can name anything outside the namespace root.
 */
public final class Vfs {
    public static final int MAXSYMLINKS = 40, PATH_MAX = 4096, NAME_MAX = 255;
    public static final int MAY_EXEC = 1, MAY_WRITE = 2, MAY_READ = 4;

    /** A mounted file system, for /proc/mounts and statfs. */
    public record Mount(String path, Inode root, String source, String type, boolean readOnly) {
    }

    private final Dentry root;
    private final Map<String, Mount> mounts = new TreeMap<>();

    public Vfs(Inode rootInode, String source) {
        this.root = new Dentry(null, "", rootInode);
        mounts.put("/", new Mount("/", rootInode, source, rootInode.sb.type, rootInode.sb.readOnly));
    }

    /** The namespace root: the first task's root and cwd. */
    public Dentry root() {
        return root;
    }

    /** Mounts {@code fsRoot} at the absolute path {@code path} (over whatever is there). */
    public synchronized void mount(String path, Inode fsRoot, String source) {
        mounts.put(path, new Mount(path, fsRoot, source, fsRoot.sb.type, fsRoot.sb.readOnly));
    }

    public synchronized List<Mount> mounts() {
        return new ArrayList<>(mounts.values());
    }

    /** The mount whose file system {@code inode} is on (for statfs), or the root mount. */
    public synchronized Mount mountOf(Inode inode) {
        for (Mount m : mounts.values()) {
            if (m.root().sb == inode.sb) {
                return m;
            }
        }
        return mounts.get("/");
    }

    /** Mount points directly below {@code dirPath} (listed by readdir even where the directory lacks them). */
    public synchronized List<String> mountNamesIn(String dirPath) {
        List<String> l = new ArrayList<>();
        String prefix = dirPath.equals("/") ? "/" : dirPath + "/";
        for (String p : mounts.keySet()) {
            if (p.length() > prefix.length() && p.startsWith(prefix) && p.indexOf('/', prefix.length()) < 0) {
                l.add(p.substring(prefix.length()));
            }
        }
        return l;
    }

    /** The inode {@code name} names in {@code dir} (a mounted root if it is a mount point), or null. */
    public Inode child(Dentry dir, String name) throws FsException {
        String p = dir.parent == null ? "/" + name : dir.path() + "/" + name;
        Mount m;
        synchronized (this) {
            m = mounts.get(p);
        }
        if (m != null) {
            return m.root();
        }
        return dir.inode.lookup(name);
    }

    /** Whether {@code d} is a mount point's root (rmdir/rename of it is EBUSY). */
    public synchronized boolean isMountpoint(Dentry d) {
        return d.parent != null && mounts.containsKey(d.path());
    }

    /** inode_permission: EROFS for writes on a read-only file system, then the mode bits (root passes but exec needs an x bit). */
    public static int permission(Inode inode, int mask, int uid) {
        int t = inode.type();
        if ((mask & MAY_WRITE) != 0 && !inode.writable()
                && (t == Inode.S_IFREG || t == Inode.S_IFDIR || t == Inode.S_IFLNK)) {
            return Errno.EROFS;
        }
        if (uid == 0) {
            if ((mask & MAY_EXEC) != 0 && t != Inode.S_IFDIR && (inode.mode() & 0111) == 0) {
                return Errno.EACCES;
            }
            return 0;
        }
        int m = inode.mode();
        int bits = uid == inode.uid() ? m >>> 6 : uid == inode.gid() ? m >>> 3 : m;
        return (bits & mask & 7) == (mask & 7) ? 0 : Errno.EACCES;
    }

    private static void check(int err) throws FsException {
        if (err != 0) {
            throw new FsException(err);
        }
    }

    /** The parent directory and last name of a path (for create, unlink, rename...). */
    public record Parent(Dentry dir, String name, boolean trailingSlash) {
    }

    /**
     * path_lookupat: walks {@code path} from {@code start} (relative) or {@code root} (absolute) and
     * returns the dentry of its last component, following a final symlink when {@code followLast}.
     */
    public Dentry walk(Dentry root, Dentry start, String path, boolean followLast, int uid) throws FsException {
        return walk(root, start, path, followLast, uid, new int[] {MAXSYMLINKS});
    }

    private Dentry walk(Dentry root, Dentry start, String path, boolean followLast, int uid, int[] budget)
            throws FsException {
        if (path.isEmpty()) {
            throw new FsException(Errno.ENOENT);
        }
        if (path.length() >= PATH_MAX) {
            throw new FsException(Errno.ENAMETOOLONG);
        }
        Dentry cur = path.charAt(0) == '/' ? root : start;
        String[] comps = path.split("/");
        boolean trailingSlash = path.endsWith("/");
        int last = comps.length - 1;
        while (last >= 0 && comps[last].isEmpty()) {
            last--;
        }
        for (int i = 0; i <= last; i++) {
            String name = comps[i];
            if (name.isEmpty() || name.equals(".")) {
                if (!cur.inode.isDir()) {
                    throw new FsException(Errno.ENOTDIR);
                }
                continue;
            }
            cur = step(root, cur, name, i < last || followLast || trailingSlash, uid, budget);
        }
        if (trailingSlash && !cur.inode.isDir()) {
            throw new FsException(Errno.ENOTDIR);
        }
        return cur;
    }

    /** walk_component: one name below {@code cur}; follows a symlink when {@code follow}. */
    private Dentry step(Dentry root, Dentry cur, String name, boolean follow, int uid, int[] budget) throws FsException {
        if (!cur.inode.isDir()) {
            throw new FsException(Errno.ENOTDIR);
        }
        if (name.length() > NAME_MAX) {
            throw new FsException(Errno.ENAMETOOLONG);
        }
        check(permission(cur.inode, MAY_EXEC, uid)); // may_lookup
        if (name.equals("..")) {
            return cur == root || cur.parent == null ? cur : cur.parent;
        }
        Inode child = child(cur, name);
        if (child == null) {
            throw new FsException(Errno.ENOENT);
        }
        if (child.isLink() && follow) {
            if (--budget[0] < 0) {
                throw new FsException(Errno.ELOOP);
            }
            Dentry jumped = child instanceof Synth.Link l ? l.jump() : null;
            if (jumped != null) {
                return jumped; // nd_jump_link
            }
            String target = child.readlink();
            if (target.isEmpty()) {
                throw new FsException(Errno.ENOENT);
            }
            return walk(root, cur, target, true, uid, budget);
        }
        return new Dentry(cur, name, child);
    }

    /**
     * The parent directory of {@code path}'s last component and that name (filename_parentat); "." or
     * ".." as the last component is returned as is, for the caller's EEXIST/EBUSY/EINVAL.
     */
    public Parent walkParent(Dentry root, Dentry start, String path, int uid) throws FsException {
        if (path.isEmpty()) {
            throw new FsException(Errno.ENOENT);
        }
        if (path.length() >= PATH_MAX) {
            throw new FsException(Errno.ENAMETOOLONG);
        }
        boolean trailing = path.endsWith("/");
        String p = path;
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        int slash = p.lastIndexOf('/');
        String name = slash < 0 ? p : p.substring(slash + 1);
        Dentry dir;
        if (slash < 0) {
            dir = start;
        } else if (slash == 0) {
            dir = root;
        } else {
            dir = walk(root, start, p.substring(0, slash), true, uid);
        }
        if (!dir.inode.isDir()) {
            throw new FsException(Errno.ENOTDIR);
        }
        if (name.isEmpty()) {
            name = "/"; // the path is "/" itself
        }
        if (name.length() > NAME_MAX) {
            throw new FsException(Errno.ENAMETOOLONG);
        }
        return new Parent(dir, name, trailing);
    }
}
