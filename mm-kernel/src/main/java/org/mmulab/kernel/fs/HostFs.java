package org.mmulab.kernel.fs;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.mmulab.kernel.Errno;
import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.FrameTable;

/**
 * The host's directory tree as the guest's root file system, as qemu-user shows it: read-only, except
 * below the {@code --rw} directories. Every name is looked up one component at a time with
 * {@code NOFOLLOW_LINKS} (the {@link Vfs} walk resolves symlinks inside the namespace), so a host
 * symlink never takes a lookup outside the root, and a write is allowed only when the file's host path
 * lies below an {@code --rw} directory (real paths compared): anything else is EROFS, whatever the
 * host would permit. Inodes are kept per host (dev, ino), so one file has one page cache for mmap.
 */
public final class HostFs {
    final SuperBlock sb;
    final Path root;
    private final List<Path> rwDirs;
    private final FrameTable frames;
    private final Map<List<Long>, HostInode> inodes = new HashMap<>();
    /** unmap_mapping_range from a page index on, through the object's i_mmap (set by the kernel). */
    private volatile java.util.function.ObjLongConsumer<AddressSpace> unmapper = (a, from) -> { };
    /** file_write_and_wait_range over a whole object: 0 or -errno (set by the kernel). */
    private volatile java.util.function.ToIntFunction<AddressSpace> writeback = a -> a.writeDirty(0, Long.MAX_VALUE);

    /** {@code root} and {@code rwDirs} are host directories (made real paths here). */
    public HostFs(Path root, List<Path> rwDirs, FrameTable frames) throws IOException {
        this.root = root.toRealPath();
        if (!Files.isDirectory(this.root)) {
            throw new NotDirectoryException(root.toString());
        }
        List<Path> rw = new ArrayList<>();
        for (Path p : rwDirs) {
            rw.add(p.toRealPath());
        }
        this.rwDirs = rw;
        this.frames = frames;
        this.sb = new SuperBlock("host", SuperBlock.EXT4_SUPER_MAGIC, 0, rw.isEmpty());
    }

    /** Installs the kernel's unmap_mapping_range and writeback (they know the page tables). */
    public void setPagecacheOps(java.util.function.ObjLongConsumer<AddressSpace> unmap,
            java.util.function.ToIntFunction<AddressSpace> write) {
        unmapper = unmap;
        writeback = write;
    }

    public Inode rootInode() throws FsException {
        return inode(root);
    }

    /** The name a host path has in the guest (below the root). */
    String guestPath(Path p) {
        Path r = root.relativize(p);
        return "/" + r.toString();
    }

    boolean writableHost(Path p) {
        for (Path d : rwDirs) {
            if (p.startsWith(d)) {
                return true;
            }
        }
        return false;
    }

    /** The inode for host path {@code p} (lstat), or null when it does not exist. */
    HostInode inode(Path p) throws FsException {
        Map<String, Object> a;
        try {
            a = Files.readAttributes(p, "unix:mode,ino,dev,nlink,uid,gid,size,rdev,lastAccessTime,lastModifiedTime,ctime",
                    LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw errno(e);
        }
        List<Long> key = List.of(((Number) a.get("dev")).longValue(), ((Number) a.get("ino")).longValue());
        HostInode i;
        synchronized (inodes) {
            i = inodes.get(key);
            if (i == null || !i.path.equals(p) && !Files.exists(i.path, LinkOption.NOFOLLOW_LINKS)) {
                i = new HostInode(this, p, key.get(1));
                inodes.put(key, i);
            }
        }
        i.path = p;
        i.set(a);
        return i;
    }

    /** The errno a host failure stands for. */
    static FsException errno(IOException e) {
        int n;
        if (e instanceof NoSuchFileException) {
            n = Errno.ENOENT;
        } else if (e instanceof AccessDeniedException) {
            n = Errno.EACCES;
        } else if (e instanceof NotDirectoryException) {
            n = Errno.ENOTDIR;
        } else if (e instanceof FileAlreadyExistsException) {
            n = Errno.EEXIST;
        } else if (e instanceof DirectoryNotEmptyException) {
            n = Errno.ENOTEMPTY;
        } else if (e instanceof FileSystemLoopException) {
            n = Errno.ELOOP;
        } else if (e instanceof FileSystemException f && f.getReason() != null) {
            String r = f.getReason();
            n = r.contains("Read-only") ? Errno.EROFS : r.contains("Is a directory") ? Errno.EISDIR
                    : r.contains("Not a directory") ? Errno.ENOTDIR : r.contains("No space") ? Errno.ENOSPC
                    : r.contains("Cross-device") ? Errno.EXDEV : r.contains("Too many levels") ? Errno.ELOOP
                    : r.contains("Permission") ? Errno.EACCES : r.contains("Operation not permitted") ? Errno.EPERM
                    : Errno.EIO;
        } else {
            n = Errno.EIO;
        }
        return new FsException(n);
    }

    /** A host file, directory or symlink. */
    static final class HostInode extends Inode {
        private final HostFs fs;
        volatile Path path;
        private long size;
        private long dev;
        /** The page cache, from the first mmap on (read/write go through it from then). */
        private HostPageCache cache;

        HostInode(HostFs fs, Path path, long ino) {
            super(fs.sb, ino, 0);
            this.fs = fs;
            this.path = path;
        }

        synchronized void set(Map<String, Object> a) {
            mode = (Integer) a.get("mode");
            nlink = (Integer) a.get("nlink");
            uid = (Integer) a.get("uid");
            gid = (Integer) a.get("gid");
            size = (Long) a.get("size");
            dev = (Long) a.get("dev");
            rdev = (Long) a.get("rdev");
            atimeNs = ns((FileTime) a.get("lastAccessTime"));
            mtimeNs = ns((FileTime) a.get("lastModifiedTime"));
            ctimeNs = ns((FileTime) a.get("ctime"));
            if (cache != null) {
                cache.a.setEof(size);
            }
        }

        private static long ns(FileTime t) {
            return t == null ? 0 : t.to(java.util.concurrent.TimeUnit.NANOSECONDS);
        }

        @Override
        public synchronized long size() {
            return size;
        }

        @Override
        public synchronized long dev() {
            return dev;
        }

        @Override
        public long[] statfs() {
            try {
                java.nio.file.FileStore st = Files.getFileStore(path);
                return new long[] {st.getTotalSpace() / 4096, st.getUsableSpace() / 4096, 0, 0};
            } catch (IOException e) {
                return new long[4];
            }
        }

        @Override
        public void refresh() throws FsException {
            if (fs.inode(path) == null) {
                nlink = 0; // deleted on the host meanwhile: the attributes stay as they were
            }
        }

        @Override
        public boolean writable() {
            return fs.writableHost(path);
        }

        private void requireWritable() throws FsException {
            if (!writable()) {
                throw new FsException(Errno.EROFS);
            }
        }

        @Override
        public Inode lookup(String name) throws FsException {
            if (!isDir()) {
                throw new FsException(Errno.ENOTDIR);
            }
            return fs.inode(path.resolve(name));
        }

        @Override
        public List<DirEntry> list() throws FsException {
            if (!isDir()) {
                throw new FsException(Errno.ENOTDIR);
            }
            List<DirEntry> l = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(path)) {
                for (Path c : ds) {
                    HostInode i;
                    try {
                        i = fs.inode(c);
                    } catch (FsException e) {
                        i = null;
                    }
                    if (i != null) {
                        l.add(new DirEntry(c.getFileName().toString(), i.ino(), DirEntry.dtypeOf(i.mode())));
                    }
                }
            } catch (IOException e) {
                throw errno(e);
            }
            return l;
        }

        private static Set<PosixFilePermission> perms(int mode) {
            Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
            PosixFilePermission[] all = PosixFilePermission.values(); // OWNER_READ ... OTHERS_EXECUTE
            for (int i = 0; i < 9; i++) {
                if ((mode & (0400 >> i)) != 0) {
                    s.add(all[i]);
                }
            }
            return s;
        }

        @Override
        public Inode create(String name, int m, int u, int g) throws FsException {
            return make(name, m, false);
        }

        @Override
        public Inode mkdir(String name, int m, int u, int g) throws FsException {
            return make(name, m, true);
        }

        /** A new regular file or directory with permission bits {@code m}. */
        private Inode make(String name, int m, boolean dir) throws FsException {
            requireWritable();
            Path p = path.resolve(name);
            try {
                if (dir) {
                    Files.createDirectory(p);
                } else {
                    Files.createFile(p);
                }
                Files.setPosixFilePermissions(p, perms(m));
            } catch (IOException e) {
                throw errno(e);
            }
            return fs.inode(p);
        }

        @Override
        public Inode symlink(String name, String target, int u, int g) throws FsException {
            requireWritable();
            Path p = path.resolve(name);
            try {
                Files.createSymbolicLink(p, path.getFileSystem().getPath(target));
            } catch (IOException e) {
                throw errno(e);
            }
            return fs.inode(p);
        }

        @Override
        public void link(String name, Inode target) throws FsException {
            requireWritable();
            if (!(target instanceof HostInode t) || t.fs != fs) {
                throw new FsException(Errno.EXDEV);
            }
            if (!t.writable()) {
                throw new FsException(Errno.EROFS);
            }
            try {
                Files.createLink(path.resolve(name), t.path);
            } catch (IOException e) {
                throw errno(e);
            }
        }

        @Override
        public void unlink(String name) throws FsException {
            requireWritable();
            Path p = path.resolve(name);
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                throw new FsException(Errno.EISDIR);
            }
            try {
                Files.delete(p);
            } catch (IOException e) {
                throw errno(e);
            }
        }

        @Override
        public void rmdir(String name) throws FsException {
            requireWritable();
            Path p = path.resolve(name);
            if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                throw new FsException(Files.exists(p, LinkOption.NOFOLLOW_LINKS) ? Errno.ENOTDIR : Errno.ENOENT);
            }
            try {
                Files.delete(p);
            } catch (IOException e) {
                throw errno(e);
            }
        }

        @Override
        public void rename(String oldName, Inode newDir, String newName) throws FsException {
            if (!(newDir instanceof HostInode nd) || nd.fs != fs) {
                throw new FsException(Errno.EXDEV);
            }
            requireWritable();
            nd.requireWritable();
            try {
                Files.move(path.resolve(oldName), nd.path.resolve(newName), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw errno(e);
            }
        }

        @Override
        public String readlink() throws FsException {
            if (!isLink()) {
                throw new FsException(Errno.EINVAL);
            }
            try {
                return Files.readSymbolicLink(path).toString();
            } catch (IOException e) {
                throw errno(e);
            }
        }

        @Override
        public File open(Dentry d, int flags) throws FsException {
            if (isDir() || (flags & File.O_PATH) != 0 || !isReg()) {
                return new File(d, this, flags);
            }
            List<OpenOption> o = new ArrayList<>();
            o.add(LinkOption.NOFOLLOW_LINKS);
            o.add(StandardOpenOption.READ);
            if ((flags & File.O_ACCMODE) != File.O_RDONLY) {
                requireWritable();
                o.add(StandardOpenOption.WRITE);
            }
            try {
                FileChannel ch = FileChannel.open(path, o.toArray(new OpenOption[0]));
                return new HostFile(d, this, flags, ch);
            } catch (IOException e) {
                throw errno(e);
            }
        }

        /** do_truncate on the host, then truncate_pagecache through the mapping's i_mmap. */
        @Override
        public void truncate(long newSize) throws FsException {
            requireWritable();
            try (FileChannel ch = FileChannel.open(path, LinkOption.NOFOLLOW_LINKS, StandardOpenOption.WRITE)) {
                HostFile.truncate(ch, newSize);
            } catch (IOException e) {
                throw errno(e);
            }
            HostPageCache c = cache();
            if (c != null) {
                c.truncate(newSize, fs.unmapper);
            }
            refresh();
        }

        @Override
        public void chmod(int perm) throws FsException {
            requireWritable();
            try {
                Files.setPosixFilePermissions(path, perms(perm));
            } catch (IOException e) {
                throw errno(e);
            }
            refresh();
        }

        @Override
        public void setTimes(long at, long mt) throws FsException {
            requireWritable();
            try {
                Files.setLastModifiedTime(path, FileTime.from(mt, java.util.concurrent.TimeUnit.NANOSECONDS));
            } catch (IOException e) {
                throw errno(e);
            }
            refresh();
        }

        /** The page cache every mapping of this file shares, made at the first mmap. */
        @Override
        public synchronized AddressSpace mapping() throws FsException {
            if (!isReg()) {
                throw new FsException(Errno.ENODEV);
            }
            if (cache == null) {
                cache = new HostPageCache(this, fs.frames, fs.guestPath(path), size); // the inode's reference
            }
            cache.a.acquire();
            return cache.a;
        }

        synchronized HostPageCache cache() {
            return cache;
        }

        /** file_write_and_wait_range over the whole file: EIO when a page could not be written. */
        void writeback() throws FsException {
            HostPageCache c = cache();
            if (c != null) {
                int r = fs.writeback.applyAsInt(c.a);
                if (r < 0) {
                    throw new FsException(-r);
                }
            }
        }
    }
}
