package org.mmulab.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The xattr calls (SysXattr) on file systems without extended attributes: get/set/remove EOPNOTSUPP and
 * list empty, after Linux's checks in Linux's order (ERANGE for an empty or 256-byte name, EINVAL for
 * bad set flags, E2BIG for a value over 64 KiB, ENOENT/EBADF for the target, EROFS for a change outside
 * --rw), for both ABIs. (The old code answered ENOSYS, which GNU ls -l reports as an error.)
 */
class XattrTest {
    @TempDir
    Path root;

    @Test
    void noExtendedAttributesAndLinuxsErrnos() throws Exception {
        Files.writeString(root.resolve("ro.txt"), "x");
        Path rw = Files.createDirectory(root.resolve("rw"));
        Files.writeString(rw.resolve("f"), "y");
        Fixture f = new Fixture(64L << 20);
        f.kernel.filesystems().configure(root, List.of(rw));
        f.exec(TestElf.standard(Fixture.CODE, new byte[8], 0).build());
        long buf = f.mmap(0, 8192, 3, 0x22);
        long ro = buf, wr = buf + 64, name = buf + 128, empty = buf + 256, longName = buf + 512, gone = buf + 1024;
        f.writeBytes(ro, "/ro.txt\0".getBytes(StandardCharsets.US_ASCII));
        f.writeBytes(wr, "/rw/f\0".getBytes(StandardCharsets.US_ASCII));
        f.writeBytes(name, "system.posix_acl_access\0".getBytes(StandardCharsets.US_ASCII));
        f.writeBytes(empty, new byte[1]);
        f.writeBytes(longName, ("user." + "a".repeat(251) + "\0").getBytes(StandardCharsets.US_ASCII));
        f.writeBytes(gone, "/nope\0".getBytes(StandardCharsets.US_ASCII));
        long val = buf + 4096;
        assertEquals(-Errno.EOPNOTSUPP, f.sys(192, ro, name, val, 100), "lgetxattr: what ls -l asks");
        assertEquals(-Errno.EOPNOTSUPP, f.sys(191, wr, name, val, 100), "getxattr");
        assertEquals(0, f.sys(194, ro, val, 100), "listxattr: nothing");
        assertEquals(0, f.sys(195, ro, 0, 0), "llistxattr size query");
        assertEquals(-Errno.ERANGE, f.sys(191, ro, empty, val, 100), "empty name");
        assertEquals(-Errno.ERANGE, f.sys(191, ro, longName, val, 100), "256-byte name");
        assertEquals(-Errno.EFAULT, f.sys(191, ro, 16, val, 100), "name at a bad address");
        assertEquals(-Errno.ENOENT, f.sys(191, gone, name, val, 100));
        assertEquals(-Errno.EBADF, f.sys(193, 77, name, val, 100), "fgetxattr of a closed fd");
        assertEquals(-Errno.EOPNOTSUPP, f.sys(193, 1, name, val, 100), "fgetxattr of stdout");
        assertEquals(0, f.sys(196, 1, val, 100), "flistxattr");
        assertEquals(-Errno.EINVAL, f.sys(188, wr, name, val, 1, 4), "setxattr flags");
        assertEquals(-Errno.E2BIG, f.sys(188, wr, name, val, 65537, 0), "value over 64 KiB");
        assertEquals(-Errno.EROFS, f.sys(188, ro, name, val, 1, 0), "setxattr outside --rw");
        assertEquals(-Errno.EOPNOTSUPP, f.sys(188, wr, name, val, 1, 0), "setxattr below --rw");
        assertEquals(-Errno.EROFS, f.sys(197, ro, name), "removexattr outside --rw");
        assertEquals(-Errno.EOPNOTSUPP, f.sys(199, 1, name), "fremovexattr");
    }

    @Test
    void ia32RowsReachTheSameCalls() throws Exception {
        Fixture f = Fixture.booted32(KernelConfig.PagingMode.FOUR_LEVEL);
        long buf = f.sys32(Syscalls.NR32_MMAP2, 0, 4096, 3, 0x22, -1, 0) & 0xffff_ffffL;
        f.writeBytes(buf, "/\0user.x\0".getBytes(StandardCharsets.US_ASCII));
        assertEquals(-Errno.EOPNOTSUPP, f.sys32(230, buf, buf + 2, buf + 512, 100), "lgetxattr");
        assertEquals(0, f.sys32(232, buf, buf + 512, 100), "listxattr");
        assertEquals(-Errno.EROFS, f.sys32(226, buf, buf + 2, buf + 512, 1, 0), "setxattr on the read-only root");
        assertEquals(-Errno.EBADF, f.sys32(237, 99, buf + 2), "fremovexattr of a closed fd");
    }
}
