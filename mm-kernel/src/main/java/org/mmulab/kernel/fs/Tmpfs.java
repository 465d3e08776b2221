package org.mmulab.kernel.fs;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.kernel.Errno;
import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.FrameTable;

/**
 * tmpfs (mm/shmem.c, Linux 6.x): directories, symlinks and regular files whose data are shmem pages in
 * guest RAM ({@link AddressSpace#shmem(FrameTable, String)}: the same object mmap(MAP_SHARED) maps, so
 * read/write and a shared mapping see the same bytes). A hole reads as zeros without allocating;
 * truncate drops the pages past the new end; an unlinked file's pages are freed when its last open file
 * (and mapping) goes. The size limit is half of RAM, as tmpfs's default size=50%: beyond it ENOSPC.
 */
public final class Tmpfs {
    final SuperBlock sb;
    final FrameTable frames;
    final String mountPath;
    final long maxPages;
    final AtomicLong usedPages = new AtomicLong();
    /** unmap_mapping_range: zaps every PTE mapping pages of a file from a page index on (set by the kernel). */
    private volatile java.util.function.ObjLongConsumer<AddressSpace> unmapper = (a, from) -> { };

    /** Installs the kernel's unmap_mapping_range (it knows every mm). */
    public void setUnmapper(java.util.function.ObjLongConsumer<AddressSpace> u) {
        unmapper = u;
    }
    private final Node root;

    public Tmpfs(FrameTable frames, String mountPath, long dev, int rootMode) {
        this.sb = new SuperBlock("tmpfs", SuperBlock.TMPFS_MAGIC, dev, false);
        this.frames = frames;
        this.mountPath = mountPath;
        this.maxPages = Math.max(1, frames.frameCount() / 2);
        this.root = new Node(this, Inode.S_IFDIR | rootMode, null, "");
        root.nlink = 2;
    }

    public Inode root() {
        return root;
    }

    /** Pages tmpfs files hold now (Shmem in /proc/meminfo counts these). */
    public long usedPages() {
        return usedPages.get();
    }

    /** One tmpfs inode: a directory (children), a symlink (target) or a regular file (shmem pages). */
    static final class Node extends Inode {
        private final Tmpfs fs;
        private final TreeMap<String, Node> children;
        private String target;
        private AddressSpace data;
        private long size;
        private int opens;
        /** Where it was created, for the mapping's name in /proc/pid/maps. */
        private Node parent;
        private String name;

        Node(Tmpfs fs, int mode, Node parent, String name) {
            super(fs.sb, fs.sb.nextIno(), mode);
            this.fs = fs;
            this.parent = parent;
            this.name = name;
            this.children = (mode & S_IFMT) == S_IFDIR ? new TreeMap<>() : null;
            touchMtime();
            atimeNs = mtimeNs;
        }

        private String path() {
            if (parent == null) {
                return fs.mountPath;
            }
            String p = parent.path();
            return (p.endsWith("/") ? p : p + "/") + name;
        }

        @Override
        public long size() {
            return isDir() ? 20L * (2 + children.size()) : isLink() ? target.length() : size; // BOGO_DIRENT_SIZE per entry
        }

        @Override
        public long[] statfs() {
            return new long[] {fs.maxPages, fs.maxPages - fs.usedPages.get(), fs.maxPages, fs.maxPages};
        }

        @Override
        public long blocks() {
            return data == null ? 0 : data.cachedPages() * 8L;
        }

        @Override
        public synchronized Inode lookup(String n) throws FsException {
            if (!isDir()) {
                throw new FsException(Errno.ENOTDIR);
            }
            return children.get(n);
        }

        @Override
        public synchronized List<DirEntry> list() throws FsException {
            if (!isDir()) {
                throw new FsException(Errno.ENOTDIR);
            }
            List<DirEntry> l = new ArrayList<>();
            for (var e : children.entrySet()) {
                l.add(new DirEntry(e.getKey(), e.getValue().ino(), DirEntry.dtypeOf(e.getValue().mode())));
            }
            return l;
        }

        private Node add(String n, int mode, int uid, int gid) throws FsException {
            if (!isDir()) {
                throw new FsException(Errno.ENOTDIR);
            }
            if (children.containsKey(n)) {
                throw new FsException(Errno.EEXIST);
            }
            Node c = new Node(fs, mode, this, n);
            c.uid = uid;
            c.gid = gid;
            children.put(n, c);
            touchMtime();
            return c;
        }

        @Override
        public synchronized Inode create(String n, int mode, int uid, int gid) throws FsException {
            return add(n, S_IFREG | (mode & 07777), uid, gid);
        }

        @Override
        public synchronized Inode mkdir(String n, int mode, int uid, int gid) throws FsException {
            Node c = add(n, S_IFDIR | (mode & 07777), uid, gid);
            c.nlink = 2;
            nlink++;
            return c;
        }

        @Override
        public synchronized Inode symlink(String n, String tgt, int uid, int gid) throws FsException {
            Node c = add(n, S_IFLNK | 0777, uid, gid);
            c.target = tgt;
            return c;
        }

        @Override
        public synchronized void link(String n, Inode tgt) throws FsException {
            if (!(tgt instanceof Node t) || t.fs != fs) {
                throw new FsException(Errno.EXDEV);
            }
            if (t.isDir()) {
                throw new FsException(Errno.EPERM);
            }
            if (children.containsKey(n)) {
                throw new FsException(Errno.EEXIST);
            }
            children.put(n, t);
            t.nlink++;
            touchMtime();
        }

        @Override
        public synchronized void unlink(String n) throws FsException {
            Node c = children.get(n);
            if (c == null) {
                throw new FsException(Errno.ENOENT);
            }
            if (c.isDir()) {
                throw new FsException(Errno.EISDIR);
            }
            children.remove(n);
            touchMtime();
            c.dropLink();
        }

        @Override
        public synchronized void rmdir(String n) throws FsException {
            Node c = children.get(n);
            if (c == null) {
                throw new FsException(Errno.ENOENT);
            }
            if (!c.isDir()) {
                throw new FsException(Errno.ENOTDIR);
            }
            if (!c.children.isEmpty()) {
                throw new FsException(Errno.ENOTEMPTY);
            }
            children.remove(n);
            c.nlink = 0;
            nlink--;
            touchMtime();
        }

        @Override
        public void rename(String oldName, Inode newDirI, String newName) throws FsException {
            if (!(newDirI instanceof Node newDir) || newDir.fs != fs) {
                throw new FsException(Errno.EXDEV);
            }
            synchronized (fs) {
                Node c = children.get(oldName);
                if (c == null) {
                    throw new FsException(Errno.ENOENT);
                }
                Node old = newDir.children.get(newName);
                if (old == c) {
                    return;
                }
                if (old != null) {
                    if (c.isDir() && !old.isDir()) {
                        throw new FsException(Errno.ENOTDIR);
                    }
                    if (!c.isDir() && old.isDir()) {
                        throw new FsException(Errno.EISDIR);
                    }
                    if (old.isDir() && !old.children.isEmpty()) {
                        throw new FsException(Errno.ENOTEMPTY);
                    }
                }
                children.remove(oldName);
                if (old != null) {
                    newDir.children.remove(newName);
                    if (old.isDir()) {
                        old.nlink = 0;
                        newDir.nlink--;
                    } else {
                        old.dropLink();
                    }
                }
                newDir.children.put(newName, c);
                if (c.isDir() && newDir != this) {
                    nlink--;
                    newDir.nlink++;
                }
                c.parent = newDir;
                c.name = newName;
                touchMtime();
                newDir.touchMtime();
            }
        }

        @Override
        public String readlink() throws FsException {
            if (!isLink()) {
                throw new FsException(Errno.EINVAL);
            }
            return target;
        }

        private synchronized AddressSpace data() {
            if (data == null) {
                data = AddressSpace.shmem(fs.frames, path());
                data.setEof(size);
            }
            return data;
        }

        @Override
        public int read(long pos, byte[] b, int off, int len) throws FsException {
            if (isDir()) {
                throw new FsException(Errno.EISDIR);
            }
            synchronized (this) {
                if (pos >= size) {
                    return 0;
                }
                int n = (int) Math.min(len, size - pos);
                PageCacheRead.<RuntimeException>copy(data(), fs.frames, pos, b, off, n,
                        (p, dst, o, l) -> java.util.Arrays.fill(dst, o, o + l, (byte) 0)); // a hole reads as zeros
                return n;
            }
        }

        @Override
        public int write(long pos, byte[] b, int off, int len) throws FsException {
            if (isDir()) {
                throw new FsException(Errno.EISDIR);
            }
            synchronized (this) {
                AddressSpace a = data();
                a.setEof(Math.max(size, pos + len)); // shmem_write_begin may allocate up to the new end
                PhysicalMemory mem = fs.frames.memory();
                int done = 0;
                while (done < len) {
                    long p = pos + done;
                    int inPage = (int) (p & 4095);
                    int chunk = Math.min(len - done, 4096 - inPage);
                    long pfn = a.findPage(p >>> 12);
                    if (pfn < 0) {
                        if (fs.usedPages.get() >= fs.maxPages) {
                            break;
                        }
                        pfn = a.getPage(p >>> 12);
                        if (pfn < 0) {
                            break;
                        }
                        fs.usedPages.incrementAndGet();
                    }
                    mem.writeBytes((pfn << 12) + inPage, b, off + done, chunk);
                    fs.frames.put(pfn);
                    done += chunk;
                }
                if (pos + done > size) {
                    size = pos + done;
                }
                a.setEof(size);
                if (done == 0 && len > 0) {
                    throw new FsException(Errno.ENOSPC);
                }
                touchMtime();
                return done;
            }
        }

        @Override
        public synchronized void truncate(long newSize) throws FsException {
            if (isDir()) {
                throw new FsException(Errno.EISDIR);
            }
            if (data != null) {
                data.setEof(newSize);
            }
            if (newSize < size && data != null) {
                // truncate_pagecache: unmap the pages past the new end everywhere (private COW copies
                // too), zero the tail of the last kept page, then drop the pages past it.
                long keep = (newSize + 4095) >>> 12;
                fs.unmapper.accept(data, keep);
                if ((newSize & 4095) != 0) {
                    long pfn = data.findPage(newSize >>> 12);
                    if (pfn >= 0) {
                        int from = (int) (newSize & 4095);
                        fs.frames.memory().writeBytes((pfn << 12) + from, new byte[4096 - from], 0, 4096 - from);
                        fs.frames.put(pfn);
                    }
                }
                fs.usedPages.addAndGet(-data.truncatePages(keep));
            }
            size = newSize;
            touchMtime();
        }

        @Override
        public synchronized void chmod(int perm) {
            mode = (mode & S_IFMT) | (perm & 07777);
            ctimeNs = System.currentTimeMillis() * 1_000_000L;
        }

        @Override
        public synchronized AddressSpace mapping() throws FsException {
            if (!isReg()) {
                throw new FsException(Errno.ENODEV);
            }
            AddressSpace a = data();
            a.acquire(); // the caller's reference (mmap takes its own)
            return a;
        }

        @Override
        public synchronized void opened() {
            opens++;
        }

        @Override
        public void closed() {
            synchronized (this) {
                opens--;
            }
            maybeFree();
        }

        private void dropLink() {
            synchronized (this) {
                nlink--;
            }
            maybeFree();
        }

        /** shmem_evict_inode: no name and no open file left; mappings keep their own reference. */
        private void maybeFree() {
            AddressSpace d;
            synchronized (this) {
                if (nlink > 0 || opens > 0 || data == null) {
                    return;
                }
                d = data;
                data = null;
            }
            fs.usedPages.addAndGet(-d.cachedPages());
            d.releaseUser();
        }
    }
}
