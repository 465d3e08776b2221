package org.mmulab.kernel.fs;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

import org.mmulab.kernel.Errno;

/**
 * Inodes whose content is made by the kernel when they are read, for procfs (fs/proc/: generic
 * directories, seq_file text made by a read from offset 0 and kept for the reads after it, so a
 * rewind re-reads it as seq_read does; symlinks whose target is computed) and devfs. Read-only unless
 * a file has a write handler (clear_refs).
 */
public final class Synth {
    private Synth() {
    }

    /** A directory listing computed names and looking children up by name. */
    public static final class Dir extends Inode {
        private final Supplier<List<String>> names;
        private final Function<String, Inode> lookup;

        public Dir(SuperBlock sb, int perm, Supplier<List<String>> names, Function<String, Inode> lookup) {
            super(sb, sb.nextIno(), S_IFDIR | perm);
            this.names = names;
            this.lookup = lookup;
            nlink = 2;
        }

        @Override
        public Inode lookup(String name) {
            return lookup.apply(name);
        }

        @Override
        public List<DirEntry> list() {
            List<DirEntry> l = new ArrayList<>();
            for (String n : names.get()) {
                Inode i = lookup.apply(n);
                if (i != null) {
                    l.add(new DirEntry(n, i.ino(), DirEntry.dtypeOf(i.mode())));
                }
            }
            return l;
        }

        @Override
        public Inode create(String name, int mode, int uid, int gid) throws FsException {
            throw new FsException(Errno.EACCES);
        }

        @Override
        public Inode mkdir(String name, int mode, int uid, int gid) throws FsException {
            throw new FsException(Errno.EACCES);
        }
    }

    /** Random access content: what a read at {@code pos} of {@code len} bytes returns (pagemap). */
    @FunctionalInterface
    public interface ReadAt {
        byte[] read(long pos, int len) throws FsException;
    }

    /** What a write to a kernel file does (clear_refs); throws the errno for bad input. */
    @FunctionalInterface
    public interface WriteHandler {
        void write(String s) throws FsException;
    }

    /** A file whose text is made at open (seq_file); {@code write} (or null) handles writes. */
    public static final class TextFile extends Inode {
        private final Supplier<String> text;
        private final ReadAt readAt;
        private final WriteHandler write;

        public TextFile(SuperBlock sb, int perm, Supplier<String> text, WriteHandler write) {
            super(sb, sb.nextIno(), S_IFREG | perm);
            this.text = text;
            this.readAt = null;
            this.write = write;
        }

        /** A binary file read at an offset each time (no snapshot). */
        public TextFile(SuperBlock sb, int perm, ReadAt readAt) {
            super(sb, sb.nextIno(), S_IFREG | perm);
            this.text = null;
            this.readAt = readAt;
            this.write = null;
        }

        /**
         * The mode bits decide who may open it for writing (root may, as CAP_DAC_OVERRIDE lets it); a
         * file without a write handler then refuses the write itself with EINVAL (no FMODE_CAN_WRITE).
         */
        @Override
        public File open(Dentry d, int flags) throws FsException {
            return new File(d, this, flags) {
                /** seq_file's buffer: made by a read from offset 0 (after open, rewind or lseek to 0). */
                private byte[] snap;

                @Override
                public synchronized int read(byte[] b, int off, int len) throws FsException {
                    int n = pread(pos, b, off, len);
                    pos += n;
                    return n;
                }

                @Override
                public int pread(long at, byte[] b, int off, int len) throws FsException {
                    if (readAt != null) {
                        byte[] r = readAt.read(at, len);
                        System.arraycopy(r, 0, b, off, r.length);
                        return r.length;
                    }
                    byte[] snap;
                    synchronized (this) {
                        if (at == 0 || this.snap == null) { // seq_read at 0 traverses afresh (rewind)
                            this.snap = text.get().getBytes(StandardCharsets.UTF_8);
                        }
                        snap = this.snap;
                    }
                    if (at >= snap.length) {
                        return 0;
                    }
                    int n = (int) Math.min(len, snap.length - at);
                    System.arraycopy(snap, (int) at, b, off, n);
                    return n;
                }

                @Override
                public int pwrite(long at, byte[] b, int off, int len) throws FsException {
                    if (write == null) {
                        throw new FsException(Errno.EINVAL);
                    }
                    write.write(new String(b, off, len, StandardCharsets.UTF_8));
                    return len;
                }

                @Override
                public synchronized int write(byte[] b, int off, int len) throws FsException {
                    return pwrite(pos, b, off, len);
                }

                @Override
                public synchronized long llseek(long off, int whence) throws FsException {
                    long base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? pos : -1;
                    if (base < 0 || base + off < 0) {
                        throw new FsException(Errno.EINVAL);
                    }
                    pos = base + off;
                    return pos;
                }
            };
        }
    }

    /** A symlink whose target is computed at each readlink (/proc/self, /proc/pid/exe, fd/N). */
    /**
     * A symbolic link whose text is computed when read. With a {@code jump} it is a procfs "magic link"
     * (fs/proc/base.c proc_exe_link / proc_fd_link with nd_jump_link): readlink shows the text, but
     * following it jumps to the object itself — the executed file, the open file — even when its path no
     * longer names it (unlinked, renamed, or shadowed by a mount such as the guest's tmpfs /tmp over the
     * host directory the image was booted from).
     */
    public static final class Link extends Inode {
        private final Supplier<String> target;
        private final Supplier<Dentry> jump;

        public Link(SuperBlock sb, Supplier<String> target) {
            this(sb, target, () -> null);
        }

        public Link(SuperBlock sb, Supplier<String> target, Supplier<Dentry> jump) {
            super(sb, sb.nextIno(), S_IFLNK | 0777);
            this.target = target;
            this.jump = jump;
        }

        @Override
        public String readlink() {
            return target.get();
        }

        /** The object a magic link jumps to, or null (then it is followed as its text). */
        public Dentry jump() {
            return jump.get();
        }

        @Override
        public long size() {
            return 0;
        }
    }
}
