package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The VFS through the 64-bit syscalls (SysPath, SysFile): confinement to the root (.., absolute and
 * relative symlinks, /proc/self/root), EROFS outside --rw (creat, unlink, rename, link, symlink,
 * truncate, writes through a symlink), tmpfs files in guest RAM freed on unlink + close, errno for bad
 * input (EBADF, EFAULT, ENOENT, ENOTDIR, EISDIR, ELOOP, ENAMETOOLONG, EEXIST, EMFILE), the fd table
 * (dup, dup2, dup3, fcntl, close-on-exec bits, CLONE_FILES sharing and fork copies).
 */
class VfsTest {
    static final int RW = 3, ANON = 0x22, AT_FDCWD = -100;
    static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_EXCL = 0200, O_TRUNC = 01000,
            O_DIRECTORY = 0200000, O_NOFOLLOW = 0400000, O_CLOEXEC = 02000000, O_NONBLOCK = 04000;

    @TempDir
    Path tmp;

    private Fixture f;
    private long buf;

    /** A process whose root is {@code root} (null: the host's /) with {@code rw} writable. */
    private void boot(Path root, List<Path> rw) throws Exception {
        f = new Fixture(64L << 20);
        f.kernel.filesystems().configure(root, rw);
        f.exec(TestElf.standard(Fixture.CODE, "x".getBytes(StandardCharsets.UTF_8), 0).build());
        buf = f.mmap(0, 64 * 4096, RW, ANON);
    }

    /** A NUL-terminated string at a fresh place in the buffer. */
    private int strings;

    private long str(String s) {
        long p = buf + 32 * 4096 + strings;
        byte[] b = (s + "\0").getBytes(StandardCharsets.UTF_8);
        f.writeBytes(p, b);
        strings += (b.length + 7) & ~7;
        return p;
    }

    private long open(String path, int flags, int mode) {
        return f.sys(257, AT_FDCWD, str(path), flags, mode);
    }

    private long write(long fd, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        f.writeBytes(buf, b);
        return f.sys(1, fd, buf, b.length);
    }

    private String read(long fd, int n) {
        long r = f.sys(0, fd, buf + 4096, n);
        assertTrue(r >= 0, "read: " + r);
        return new String(f.readBytes(buf + 4096, (int) r), StandardCharsets.UTF_8);
    }

    private String readlink(String path) {
        long r = f.sys(89, str(path), buf + 8192, 4096);
        return r < 0 ? "errno " + -r : new String(f.readBytes(buf + 8192, (int) r), StandardCharsets.UTF_8);
    }

    private String getcwd() {
        long r = f.sys(79, buf + 8192, 4096);
        return r < 0 ? "errno " + -r : new String(f.readBytes(buf + 8192, (int) r - 1), StandardCharsets.UTF_8);
    }

    @Test
    void pathsNeverLeaveTheRoot() throws Exception {
        Path root = Files.createDirectory(tmp.resolve("root"));
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/inside"), "in");
        Files.writeString(tmp.resolve("outside"), "secret");
        Files.createSymbolicLink(root.resolve("abs"), Path.of("/"));
        Files.createSymbolicLink(root.resolve("rel"), Path.of("../../../../.."));
        Files.createSymbolicLink(root.resolve("etc/out"), Path.of("../../outside"));
        boot(root, List.of());
        assertEquals(Errno.ENOENT, -open("/../outside", O_RDONLY, 0), ".. at the root stays there");
        assertEquals(Errno.ENOENT, -open("/rel/outside", O_RDONLY, 0), "relative symlink climbing out");
        assertEquals(Errno.ENOENT, -open("/etc/out", O_RDONLY, 0), "symlink to ../../outside");
        assertEquals(Errno.ENOENT, -open("/proc/self/root/../outside", O_RDONLY, 0), "/proc/self/root");
        long fd = open("/abs/etc/../etc/inside", O_RDONLY, 0);
        assertTrue(fd >= 3, "an absolute symlink resolves from the guest's root: " + fd);
        assertEquals("in", read(fd, 100));
        assertEquals(0, f.sys(80, str("/../../..")));
        assertEquals("/", getcwd());
        assertEquals(0, f.sys(80, str("abs/etc")));
        assertEquals("/etc", getcwd(), "getcwd names the walked path");
        assertEquals(0, f.sys(80, str("../../../..")));
        assertEquals("/", getcwd());
        assertEquals("/", readlink("/proc/self/root"));
    }

    @Test
    void writesOutsideRwAreErofsAndInsideReachTheHost() throws Exception {
        Path root = Files.createDirectory(tmp.resolve("root"));
        Path rw = Files.createDirectory(root.resolve("rw"));
        Files.writeString(root.resolve("ro.txt"), "read only");
        Files.createSymbolicLink(rw.resolve("escape"), Path.of("/ro.txt"));
        Files.createSymbolicLink(rw.resolve("up"), Path.of(".."));
        boot(root, List.of(rw));
        assertEquals(Errno.EROFS, -open("/new", O_WRONLY | O_CREAT, 0644), "creat outside --rw");
        assertEquals(Errno.EROFS, -open("/ro.txt", O_WRONLY, 0));
        assertEquals(Errno.EROFS, -open("/ro.txt", O_RDONLY | O_TRUNC, 0));
        assertEquals(Errno.EROFS, -open("/rw/escape", O_WRONLY | O_TRUNC, 0), "through a symlink in --rw");
        assertEquals(Errno.EROFS, -open("/rw/up/new", O_WRONLY | O_CREAT, 0644), "through .. in --rw");
        assertEquals(Errno.EROFS, -f.sys(87, str("/ro.txt")), "unlink");
        assertEquals(Errno.EROFS, -f.sys(82, str("/ro.txt"), str("/rw/stolen")), "rename out of ro");
        assertEquals(Errno.EROFS, -f.sys(86, str("/ro.txt"), str("/rw/hard")), "hard link to a ro file");
        assertEquals(Errno.EROFS, -f.sys(88, str("x"), str("/sym")), "symlink");
        assertEquals(Errno.EROFS, -f.sys(76, str("/ro.txt"), 0), "truncate");
        assertEquals(Errno.EROFS, -f.sys(83, str("/dir"), 0755), "mkdir");
        assertEquals(Errno.EROFS, -f.sys(90, str("/ro.txt"), 0777), "chmod");
        assertEquals("read only", Files.readString(root.resolve("ro.txt")));
        long fd = open("/rw/made", O_RDWR | O_CREAT | O_EXCL, 0600);
        assertTrue(fd >= 3, "create below --rw: " + fd);
        assertEquals(5, write(fd, "hello"));
        assertEquals(Errno.EEXIST, -open("/rw/made", O_RDWR | O_CREAT | O_EXCL, 0600));
        assertEquals("hello", Files.readString(rw.resolve("made")));
        assertEquals(0, f.sys(82, str("/rw/made"), str("/rw/renamed")));
        assertTrue(Files.exists(rw.resolve("renamed")));
        assertEquals(0, f.sys(87, str("/rw/renamed")));
        assertFalse(Files.exists(rw.resolve("renamed")));
        assertEquals(Errno.EROFS, -f.sys(82, str("/rw/up"), str("/gone")), "rename into ro");
    }

    @Test
    void tmpfsFilesLiveInGuestRamAndAreFreedOnUnlinkAndClose() throws Exception {
        boot(null, List.of());
        long free0 = f.kernel.memory().frames().freePages();
        long fd = open("/tmp/big", O_RDWR | O_CREAT | O_TRUNC, 0600);
        assertTrue(fd >= 3);
        byte[] page = new byte[4096];
        java.util.Arrays.fill(page, (byte) 'z');
        f.writeBytes(buf, page);
        for (int i = 0; i < 16; i++) {
            assertEquals(4096, f.sys(1, fd, buf, 4096));
        }
        assertTrue(free0 - f.kernel.memory().frames().freePages() >= 16, "16 pages of tmpfs data in guest RAM");
        assertEquals(4095, f.sys(8, fd, 4095, 0));
        assertEquals("zz", read(fd, 2));
        assertEquals(0, f.sys(87, str("/tmp/big")), "unlink while open");
        assertEquals(Errno.ENOENT, -open("/tmp/big", O_RDONLY, 0));
        assertEquals("zz", read(fd, 2), "still readable through the open fd");
        long before = f.kernel.memory().frames().freePages();
        assertEquals(0, f.sys(3, fd));
        assertTrue(f.kernel.memory().frames().freePages() - before >= 16, "the last close frees the pages");
        // A hole reads as zeros without allocating; ftruncate shrinks.
        fd = open("/tmp/sparse", O_RDWR | O_CREAT, 0600);
        assertEquals(0, f.sys(77, fd, 1 << 20));
        assertEquals(12345, f.sys(8, fd, 12345, 0));
        assertEquals("\0\0\0", read(fd, 3));
        assertEquals(Errno.EINVAL, -f.sys(77, fd, -1));
    }

    @Test
    void errnosForBadInput() throws Exception {
        boot(null, List.of());
        assertEquals(Errno.EBADF, -f.sys(0, 99, buf, 1));
        assertEquals(Errno.EBADF, -f.sys(3, 99));
        assertEquals(Errno.EBADF, -f.sys(5, -1, buf));
        assertEquals(Errno.EFAULT, -f.sys(257, AT_FDCWD, 0x10, 0, 0), "unmapped path");
        assertEquals(Errno.EFAULT, -f.sys(4, str("/"), 0x10), "stat into unmapped memory");
        assertEquals(Errno.ENOENT, -open("/no/such/file", O_RDONLY, 0));
        assertEquals(Errno.ENOENT, -open("", O_RDONLY, 0));
        assertEquals(Errno.ENOTDIR, -open("/proc/self/status/x", O_RDONLY, 0));
        assertEquals(Errno.EISDIR, -open("/tmp", O_WRONLY, 0));
        assertEquals(Errno.ENOTDIR, -open("/proc/self/status", O_RDONLY | O_DIRECTORY, 0));
        assertEquals(Errno.ENAMETOOLONG, -open("/tmp/" + "a".repeat(300), O_RDONLY, 0));
        assertEquals(Errno.ENAMETOOLONG, -open("/" + "a/".repeat(2100), O_RDONLY, 0));
        assertEquals(0, f.sys(88, str("/tmp/loop2"), str("/tmp/loop1")));
        assertEquals(0, f.sys(88, str("/tmp/loop1"), str("/tmp/loop2")));
        assertEquals(Errno.ELOOP, -open("/tmp/loop1", O_RDONLY, 0));
        assertEquals(Errno.ELOOP, -open("/tmp/loop1", O_RDONLY | O_NOFOLLOW, 0));
        assertEquals(Errno.EEXIST, -f.sys(83, str("/tmp"), 0755));
        assertEquals(0, f.sys(83, str("/tmp/d"), 0755));
        long fd = open("/tmp/d/f", O_WRONLY | O_CREAT, 0644);
        assertEquals(Errno.ENOTEMPTY, -f.sys(84, str("/tmp/d")));
        assertEquals(Errno.ENOTDIR, -f.sys(84, str("/tmp/d/f")));
        assertEquals(Errno.EISDIR, -f.sys(87, str("/tmp/d")));
        assertEquals(Errno.EINVAL, -f.sys(82, str("/tmp/d"), str("/tmp/d/sub")), "into itself");
        assertEquals(Errno.EXDEV, -f.sys(82, str("/tmp/d/f"), str("/dev/shm/f")));
        assertEquals(Errno.EBADF, -f.sys(0, fd, buf, 1), "not open for reading");
        assertEquals(Errno.ESPIPE, -f.sys(8, 0, 0, 0), "lseek on stdin");
        assertEquals(Errno.EINVAL, -f.sys(8, fd, -5, 0));
        assertEquals(Errno.ERANGE, -f.sys(79, buf, 1), "getcwd into one byte");
        // EMFILE at RLIMIT_NOFILE.
        f.write64(buf + 16, 8);
        f.write64(buf + 24, 8);
        assertEquals(0, f.sys(160, 7, buf + 16));
        long last = 0;
        for (int i = 0; i < 10 && last >= 0; i++) {
            last = open("/dev/null", O_RDONLY, 0);
        }
        assertEquals(Errno.EMFILE, -last);
        assertEquals(Errno.EBADF, -f.sys(33, 0, 8), "dup2 beyond RLIMIT_NOFILE");
    }

    @Test
    void fdTableDupFcntlAndCloexec() throws Exception {
        boot(null, List.of());
        long fd = open("/dev/zero", O_RDONLY | O_CLOEXEC, 0);
        assertEquals(1, f.sys(72, fd, 1, 0), "F_GETFD: FD_CLOEXEC");
        long d = f.sys(32, fd);
        assertEquals(0, f.sys(72, d, 1, 0), "dup clears close-on-exec");
        assertEquals(10, f.sys(72, fd, 1030, 10), "F_DUPFD_CLOEXEC at 10");
        assertEquals(1, f.sys(72, 10, 1, 0));
        assertEquals(Errno.EINVAL, -f.sys(292, fd, fd, 0), "dup3 to itself");
        assertEquals(fd, f.sys(33, fd, fd), "dup2 to itself");
        assertEquals(20, f.sys(292, fd, 20, O_CLOEXEC));
        assertEquals(Errno.EINVAL, -f.sys(292, fd, 21, 1));
        assertEquals(0, f.sys(72, fd, 4, O_NONBLOCK));
        assertEquals(O_NONBLOCK, f.sys(72, d, 3, 0) & O_NONBLOCK, "status flags are the shared description's");
        Task t = f.kernel.task();
        long shared = f.sys(56, SysClone.CLONE_FILES | 17, 0, 0, 0, 0);
        long forked = f.sys(57);
        Task s, c;
        synchronized (f.kernel.sched().lock) {
            s = f.kernel.sched().findTaskLocked((int) shared);
            c = f.kernel.sched().findTaskLocked((int) forked);
        }
        assertTrue(s.files == t.files, "CLONE_FILES shares the table");
        assertTrue(c.files != t.files, "fork copies it");
        assertTrue(c.files.peek((int) fd) == t.files.peek((int) fd), "the copy refers to the same open files");
        assertEquals(0, f.sys(3, fd));
        assertTrue(c.files.peek((int) fd) != null, "closing in the parent leaves the child's fd");
    }

    @Test
    void pipesBufferSixtyFourKibAndReportEofAndEpipe() throws Exception {
        boot(null, List.of());
        assertEquals(Errno.EFAULT, -f.sys(22, 0x10));
        assertEquals(Errno.EINVAL, -f.sys(293, buf, 1));
        assertEquals(0, f.sys(293, buf, O_NONBLOCK));
        long r = f.read32(buf), w = f.read32(buf + 4);
        assertEquals(Errno.EAGAIN, -f.sys(0, r, buf + 4096, 10), "empty, writer open");
        byte[] big = new byte[70000];
        java.util.Arrays.fill(big, (byte) 'p');
        long src = buf + 8 * 4096;
        f.writeBytes(src, big);
        assertEquals(65536, f.sys(1, w, src, 70000), "64 KiB capacity");
        assertEquals(Errno.EAGAIN, -f.sys(1, w, src, 1));
        assertEquals(65536, f.sys(0, r, src, 70000));
        assertEquals(0, f.sys(3, w));
        assertEquals(0, f.sys(0, r, buf + 4096, 10), "end of file once every writer is gone");
        assertEquals(0, f.sys(22, buf));
        r = f.read32(buf);
        w = f.read32(buf + 4);
        assertEquals(0, f.sys(3, r));
        assertEquals(Errno.EPIPE, -write(w, "x"), "no reader: EPIPE");
        assertTrue(f.kernel.task().exited(), "and SIGPIPE's default action");
        assertEquals(128 + 13, f.kernel.task().exitStatus());
    }

    @Test
    void execveRefusesWhatLinuxRefusesBeforeThePointOfNoReturn() throws Exception {
        boot(null, List.of());
        long argv = buf + 16 * 4096;
        f.write64(argv, str("prog"));
        f.write64(argv + 8, 0);
        assertEquals(Errno.ENOENT, -f.sys(59, str("/tmp/none"), argv, 0));
        assertEquals(Errno.EACCES, -f.sys(59, str("/proc"), argv, 0), "a directory");
        long fd = open("/tmp/plain", O_WRONLY | O_CREAT, 0644);
        write(fd, "\u007fELF garbage");
        assertEquals(Errno.EACCES, -f.sys(59, str("/tmp/plain"), argv, 0), "no x bit");
        assertEquals(0, f.sys(90, str("/tmp/plain"), 0755));
        assertEquals(Errno.ENOEXEC, -f.sys(59, str("/tmp/plain"), argv, 0), "not an image");
        fd = open("/tmp/script", O_WRONLY | O_CREAT, 0755);
        write(fd, "#!/tmp/no-interpreter -x\necho\n");
        assertEquals(Errno.ENOENT, -f.sys(59, str("/tmp/script"), argv, 0), "the interpreter is missing");
        fd = open("/tmp/loop.sh", O_WRONLY | O_CREAT, 0755);
        write(fd, "#!/tmp/loop.sh\n");
        assertEquals(Errno.ELOOP, -f.sys(59, str("/tmp/loop.sh"), argv, 0), "a script interpreting itself");
        assertEquals(Errno.EFAULT, -f.sys(59, str("/tmp/plain"), 0x10, 0), "argv unmapped");
        f.write64(argv, 0x10);
        assertEquals(Errno.EFAULT, -f.sys(59, str("/tmp/plain"), argv, 0), "argv[0] unmapped");
        assertEquals(Errno.EINVAL, -f.sys(322, AT_FDCWD, str("/tmp/plain"), argv, 0, 0x4000), "execveat flags");
        assertFalse(f.kernel.task().exited(), "every refusal leaves the caller running");
    }
}
