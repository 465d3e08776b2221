package org.mmulab.kernel;

import org.mmulab.kernel.fs.File;
import org.mmulab.kernel.fs.FsException;

/**
 * mmap of a file descriptor and msync (mm/mmap.c do_mmap's file checks, mm/msync.c, Linux 6.x): the VMA
 * maps the inode's page cache ({@code Inode.mapping()}); see {@link #mmapFile}.
 */
final class SysFileMap {
    private final Kernel k;
    private final SysFile f;

    SysFileMap(Kernel k, SysFile f) {
        this.k = k;
        this.f = f;
    }

    /**
     * ksys_mmap_pgoff of a file (mm/mmap.c do_mmap's file checks): EBADF for a bad or O_PATH fd, EACCES
     * for a file not open for reading, or a shared writable mapping of a file not open for writing
     * (EPERM for O_APPEND); ENODEV for a file without a page cache (pipes, directories). /dev/zero maps
     * anonymous memory. The VMA maps the inode's page cache: tmpfs files share their shmem pages with
     * read/write; host files map a cache filled from the file's bytes when it was first mapped.
     */
    long mmapFile(org.mmulab.kernel.mm.MmStruct mm, long addr, long len, int prot, int flags, int fd, long pgoff) {
        File file;
        try {
            file = f.file(fd);
        } catch (FsException e) {
            return e.ret();
        }
        if (file.isPath()) {
            return -Errno.EBADF;
        }
        int type = flags & org.mmulab.kernel.mm.Mmap.MAP_TYPE;
        boolean shared = type == org.mmulab.kernel.mm.Mmap.MAP_SHARED || type == org.mmulab.kernel.mm.Mmap.MAP_SHARED_VALIDATE;
        if (!file.readable()) {
            return -Errno.EACCES;
        }
        if (shared && (prot & org.mmulab.kernel.mm.Mmap.PROT_WRITE) != 0) {
            if (!file.writable()) {
                return -Errno.EACCES;
            }
            if ((file.flags() & File.O_APPEND) != 0) {
                return -Errno.EACCES;
            }
        }
        if (file.inode instanceof org.mmulab.kernel.fs.DriverDevice drv) {
            return drv.driver().mmap(addr, len, prot, flags, pgoff); // f_op->mmap: remap_pfn_range, vm_insert_page
        }
        if (file.inode instanceof org.mmulab.kernel.fs.Device dev
                && (dev.kind == org.mmulab.kernel.fs.Device.Kind.ZERO || dev.kind == org.mmulab.kernel.fs.Device.Kind.NULL)) {
            if (dev.kind == org.mmulab.kernel.fs.Device.Kind.NULL) {
                return -Errno.ENODEV;
            }
            return k.mmap().doMmap(mm, null, addr, len, prot, flags | org.mmulab.kernel.mm.Mmap.MAP_ANONYMOUS, pgoff, null);
        }
        org.mmulab.kernel.mm.AddressSpace a;
        try {
            a = file.inode.mapping();
        } catch (FsException e) {
            return e.ret();
        }
        if (shared && (prot & org.mmulab.kernel.mm.Mmap.PROT_WRITE) != 0 && !a.isShmem()) {
            a.releaseUser();
            return -Errno.ENODEV; // no writeback of shared host-file mappings
        }
        k.filesystems().registerMapping(a, file.inode);
        try {
            // memfd_check_seals_mmap, then mmap_region's mapping_map_writable for a shared VMA that may write
            int seal = org.mmulab.kernel.fs.MemfdSeals.mmapCheck(file, shared, (prot & org.mmulab.kernel.mm.Mmap.PROT_WRITE) != 0);
            if (seal < 0) {
                return seal;
            }
            // do_mmap: a shared mapping of a file not open for writing can never become writable either
            int clear = seal > 0 || shared && !file.writable() ? org.mmulab.kernel.mm.VmArea.VM_MAYWRITE : 0;
            boolean maywrite = shared && clear == 0;
            if (maywrite && !a.mapWritable()) {
                return -Errno.EPERM;
            }
            try {
                return k.mmap().doMmap(mm, a, addr, len, prot, flags, pgoff, null, clear);
            } finally {
                if (maywrite) {
                    a.unmapWritable();
                }
            }
        } finally {
            a.releaseUser();
        }
    }

    /**
     * msync (mm/msync.c): flags MS_ASYNC 1, MS_INVALIDATE 2, MS_SYNC 4 (not ASYNC with SYNC: EINVAL), a
     * page-aligned start (EINVAL), and the whole range mapped (ENOMEM otherwise). Shared mappings write
     * into the page cache itself (tmpfs files' shmem pages, which read() reads), so there is nothing to
     * write back; MS_INVALIDATE on a locked range would be EBUSY (no mlock here).
     */
    long msync(long start, long len, int flags) {
        if ((flags & ~7) != 0 || (flags & 5) == 5 || (start & 4095) != 0) {
            return -Errno.EINVAL;
        }
        long end = start + ((len + 4095) & ~4095L);
        if (Long.compareUnsigned(end, start) < 0) {
            return -Errno.ENOMEM;
        }
        if (end == start) {
            return 0;
        }
        org.mmulab.kernel.mm.MmStruct mm = k.current().mm;
        mm.mmapLock.downRead();
        try {
            long at = start;
            for (org.mmulab.kernel.mm.VmArea v : mm.vmasIn(start, end)) {
                if (v.start() > at) {
                    return -Errno.ENOMEM;
                }
                at = v.end();
            }
            return at < end ? -Errno.ENOMEM : 0;
        } finally {
            mm.mmapLock.upRead();
        }
    }
}
