package org.mmulab.kernel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.mmulab.kernel.fs.ConsoleFile;
import org.mmulab.kernel.fs.Device;
import org.mmulab.kernel.fs.Dentry;
import org.mmulab.kernel.fs.FdTable;
import org.mmulab.kernel.fs.FsContext;
import org.mmulab.kernel.fs.FsException;
import org.mmulab.kernel.fs.HostFs;
import org.mmulab.kernel.fs.Inode;
import org.mmulab.kernel.fs.SuperBlock;
import org.mmulab.kernel.fs.Synth;
import org.mmulab.kernel.fs.Tmpfs;
import org.mmulab.kernel.fs.Vfs;

/**
 * The guest's mount namespace as mmulab boots it (init/do_mounts.c and what an init mounts first): the
 * host tree (or {@code --root DIR}) at /, read-only except below {@code --rw} directories; tmpfs at
 * /tmp and /dev/shm (shmem pages in guest RAM); procfs at /proc ({@link ProcFs}); a devtmpfs-like /dev
 * with null, zero, full, random, urandom and tty. Also the pipefs super block and the console files
 * the first process gets as fds 0-2.
 */
public final class Filesystems {
    private final Kernel k;
    private Vfs vfs;
    private String hostCwd;
    private Path realRoot = Path.of("/");
    final SuperBlock pipefs = new SuperBlock("pipefs", SuperBlock.PIPEFS_MAGIC, 12, false);
    private Tmpfs tmp, shm;

    Filesystems(Kernel k) {
        this.k = k;
    }

    /**
     * Builds the namespace: {@code root} (null: the host's /) read-only but for {@code rwDirs}. The
     * working directory of the first process is the host's when it lies inside the root, else /.
     */
    public void configure(Path root, List<Path> rwDirs) throws IOException {
        Path r = root == null ? Path.of("/") : root;
        HostFs host = new HostFs(r, rwDirs, k.memory().frames());
        host.setPagecacheOps(this::unmapMappingRange,
                a -> org.mmulab.kernel.mm.PageWriteback.writeAndWait(k.memory(), a, 0, Long.MAX_VALUE));
        Inode rootInode;
        try {
            rootInode = host.rootInode();
        } catch (FsException e) {
            throw new IOException("cannot read " + r + " (errno " + e.errno + ")");
        }
        Vfs v = new Vfs(rootInode, r.toString());
        tmp = new Tmpfs(k.memory().frames(), "/tmp", 0x16, 01777);
        shm = new Tmpfs(k.memory().frames(), "/dev/shm", 0x17, 01777);
        tmp.setUnmapper(this::unmapMappingRange);
        shm.setUnmapper(this::unmapMappingRange);
        v.mount("/tmp", tmp.root(), "tmpfs");
        v.mount("/proc", new ProcFs(k, this).root(), "proc");
        v.mount("/dev", devRoot(), "udev");
        v.mount("/dev/shm", shm.root(), "tmpfs");
        realRoot = r.toRealPath();
        Path cwd = Path.of("").toAbsolutePath();
        try {
            cwd = cwd.toRealPath();
        } catch (IOException e) {
            // keep it as it is
        }
        hostCwd = cwd.startsWith(realRoot) ? "/" + realRoot.relativize(cwd) : "/";
        vfs = v;
    }

    /** The namespace (the host's / read-only when nothing was configured). */
    public Vfs vfs() {
        if (vfs == null) {
            try {
                configure(null, List.of());
            } catch (IOException e) {
                throw new IllegalStateException("cannot read the host's /", e);
            }
        }
        return vfs;
    }

    /** Which inode each mapped page cache belongs to (for /proc/pid/maps' device and inode columns). */
    private final java.util.Map<org.mmulab.kernel.mm.AddressSpace, Inode> mappings = new java.util.WeakHashMap<>();

    void registerMapping(org.mmulab.kernel.mm.AddressSpace a, Inode i) {
        synchronized (mappings) {
            mappings.put(a, i);
        }
    }

    Inode inodeOf(org.mmulab.kernel.mm.AddressSpace a) {
        synchronized (mappings) {
            return mappings.get(a);
        }
    }

    /**
     * unmap_mapping_range(mapping, from, 0, even_cows=1) for truncate: every VMA in {@code a}'s i_mmap
     * loses its PTEs for file pages at or past {@code fromIndex} (private COW copies included), so later
     * touches fault again (SIGBUS past the new end); see {@link org.mmulab.kernel.mm.Truncate}.
     */
    void unmapMappingRange(org.mmulab.kernel.mm.AddressSpace a, long fromIndex) {
        org.mmulab.kernel.mm.Truncate.unmapMappingRange(k.memory(), a, fromIndex, Long.MAX_VALUE);
    }

    /** The guest's name for a host path below the root (the image booted under --root DIR); others unchanged. */
    String guestPath(String hostPath) {
        vfs();
        try {
            Path p = Path.of(hostPath).toRealPath();
            return p.startsWith(realRoot) ? "/" + realRoot.relativize(p) : hostPath;
        } catch (IOException | RuntimeException e) {
            return hostPath;
        }
    }

    /** Pages held by tmpfs files (Shmem in /proc/meminfo). */
    long tmpfsPages() {
        return (tmp == null ? 0 : tmp.usedPages()) + (shm == null ? 0 : shm.usedPages());
    }

    private Inode devRoot() {
        SuperBlock sb = new SuperBlock("devtmpfs", SuperBlock.TMPFS_MAGIC, 5, false);
        java.util.Map<String, Inode> nodes = new java.util.LinkedHashMap<>();
        nodes.put("null", new Device(sb, Device.Kind.NULL, 1, 3, null));
        nodes.put("zero", new Device(sb, Device.Kind.ZERO, 1, 5, null));
        nodes.put("full", new Device(sb, Device.Kind.FULL, 1, 7, null));
        nodes.put("random", new Device(sb, Device.Kind.RANDOM, 1, 8, this::randomBytes));
        nodes.put("urandom", new Device(sb, Device.Kind.URANDOM, 1, 9, this::randomBytes));
        nodes.put("tty", new Device(sb, Device.Kind.TTY, 5, 0, null));
        nodes.put("fd", new Synth.Link(sb, () -> "/proc/self/fd"));
        nodes.put("stdin", new Synth.Link(sb, () -> "/proc/self/fd/0"));
        nodes.put("stdout", new Synth.Link(sb, () -> "/proc/self/fd/1"));
        nodes.put("stderr", new Synth.Link(sb, () -> "/proc/self/fd/2"));
        return new Synth.Dir(sb, 0755, () -> List.copyOf(nodes.keySet()), nodes::get);
    }

    private java.util.SplittableRandom seeded;
    private java.security.SecureRandom host;

    /** /dev/urandom's bytes: a stream seeded by --seed under --deterministic, the host's SecureRandom otherwise. */
    synchronized void randomBytes(byte[] b) {
        if (k.machine().guestTime().isVirtual()) {
            if (seeded == null) {
                seeded = new java.util.SplittableRandom(k.randomSeed() ^ 0x75726e64L);
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) seeded.nextInt();
            }
        } else {
            if (host == null) {
                host = new java.security.SecureRandom();
            }
            host.nextBytes(b);
        }
    }

    /** The first process's fd table: the console as fds 0-2. */
    FdTable consoleFiles() {
        FdTable t = new FdTable();
        KernelConfig c = k.config();
        try {
            t.install(ConsoleFile.input(pipefs, c.uid(), c.stdin(), k.sched().lock), 0, 3, false);
            t.install(ConsoleFile.output(pipefs, c.uid(), c.stdout()), 1, 3, false);
            t.install(ConsoleFile.output(pipefs, c.uid(), c.stderr()), 2, 3, false);
        } catch (FsException e) {
            throw new IllegalStateException(e);
        }
        return t;
    }

    /** The first process's root and working directory. */
    FsContext initialFs() {
        Vfs v = vfs();
        Dentry cwd = v.root();
        try {
            cwd = v.walk(v.root(), v.root(), hostCwd, true, 0);
            if (!cwd.inode.isDir()) {
                cwd = v.root();
            }
        } catch (FsException e) {
            cwd = v.root();
        }
        return new FsContext(v.root(), cwd);
    }
}
