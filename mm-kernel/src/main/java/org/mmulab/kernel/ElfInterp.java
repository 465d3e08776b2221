package org.mmulab.kernel;

import org.mmulab.kernel.fs.Dentry;
import org.mmulab.kernel.fs.File;
import org.mmulab.kernel.fs.FsException;
import org.mmulab.kernel.fs.Inode;
import org.mmulab.kernel.fs.Vfs;
import org.mmulab.kernel.mm.AddressSpace;

/**
 * The ELF interpreter of a dynamically linked program (fs/binfmt_elf.c load_elf_binary's PT_INTERP part,
 * Linux 6.6), opened before the point of no return as open_exec does: looked up in the guest's namespace
 * (ENOENT, ENOTDIR, ELOOP, EACCES as for any path; EACCES for a non-regular file or one without execute
 * permission), read through the VFS, and checked (ELIBBAD, "Accessing a corrupted shared library", when
 * it is not an ELF file for the same architecture or its headers are malformed). The segments are then
 * mapped from the inode's own page cache ({@code Inode.mapping()}), the one the loader's later mmap
 * calls of shared libraries use too.
 */
final class ElfInterp {
    /** An opened interpreter: its guest path, parsed image and page cache (one reference, for the loader). */
    record Opened(String path, ElfImage elf, AddressSpace file) {
    }

    private ElfInterp() {
    }

    /** The interpreter {@code main} names, or null for a static program; {@code root}/{@code cwd} resolve it. */
    static Opened open(Kernel k, Dentry root, Dentry cwd, int uid, ElfImage main) throws FsException {
        if (main.interp == null) {
            return null;
        }
        Dentry d = k.filesystems().vfs().walk(root, cwd, main.interp, true, uid);
        Inode i = d.inode;
        i.refresh();
        if (!i.isReg()) {
            throw new FsException(Errno.EACCES);
        }
        int perm = Vfs.permission(i, Vfs.MAY_EXEC, uid);
        if (perm != 0) {
            throw new FsException(perm == Errno.EROFS ? Errno.EACCES : perm);
        }
        ElfImage elf;
        try {
            elf = ElfImage.parse(readAll(d, SysExec.MAX_IMAGE));
        } catch (ExecFormatException e) {
            throw new FsException(Errno.ELIBBAD);
        }
        if (elf.elf32 != main.elf32) {
            throw new FsException(Errno.ELIBBAD); // elf_check_arch of the interpreter's header
        }
        AddressSpace a = i.mapping();
        k.filesystems().registerMapping(a, i);
        return new Opened(d.path(), elf, a);
    }

    /** For the first process (the CLI's image): a failure is a one-line {@link ExecFormatException}. */
    static Opened openForBoot(Kernel k, ElfImage main) throws ExecFormatException {
        try {
            org.mmulab.kernel.fs.FsContext fs = k.filesystems().initialFs();
            return open(k, fs.root(), fs.cwd(), k.config().uid(), main);
        } catch (FsException e) {
            throw new ExecFormatException("cannot load the ELF interpreter " + main.interp + ": " + describe(e.errno));
        }
    }

    private static String describe(int errno) {
        return switch (errno) {
            case Errno.ENOENT -> "no such file (ENOENT)";
            case Errno.EACCES -> "permission denied (EACCES)";
            case Errno.ENOTDIR -> "a path component is not a directory (ENOTDIR)";
            case Errno.ELOOP -> "too many symbolic links (ELOOP)";
            case Errno.ELIBBAD -> "not an ELF interpreter for this architecture (ELIBBAD)";
            case Errno.ENOMEM -> "too large (ENOMEM)";
            default -> "errno " + errno;
        };
    }

    /** kernel_read of a whole file through the VFS ({@code max}: ENOMEM beyond). */
    static byte[] readAll(Dentry d, long max) throws FsException {
        long size = d.inode.size();
        if (size > max) {
            throw new FsException(Errno.ENOMEM);
        }
        File f = d.inode.open(d, File.O_RDONLY);
        try {
            byte[] b = new byte[(int) size];
            int n = 0;
            while (n < b.length) {
                int r = f.pread(n, b, n, b.length - n);
                if (r <= 0) {
                    break;
                }
                n += r;
            }
            return n == b.length ? b : java.util.Arrays.copyOf(b, n);
        } finally {
            f.put();
        }
    }
}
