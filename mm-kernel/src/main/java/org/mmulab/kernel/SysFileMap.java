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
     * anonymous memory. The VMA maps the inode's page cache, the same pages read() and write() use:
     * tmpfs files' shmem pages, host files' {@code HostPageCache} (written back by msync, fsync, munmap
     * and exit; a host file is writable only below {@code --rw}, so its open for writing is EROFS elsewhere).
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
        k.filesystems().registerMapping(a, file.inode);
        try {
            // memfd_check_seals_mmap, then mmap_region's mapping_map_writable for a shared VMA that may write
            int seal = org.mmulab.kernel.fs.MemfdSeals.mmapCheck(file, shared, (prot & org.mmulab.kernel.mm.Mmap.PROT_WRITE) != 0);
            if (seal < 0) {
                return seal;
            }
            // do_mmap: a shared mapping of a file not open for writing can never become writable either
            int clear = shared && !file.writable() ? org.mmulab.kernel.mm.VmArea.VM_MAYWRITE | org.mmulab.kernel.mm.VmArea.VM_SHARED
                    : seal > 0 ? org.mmulab.kernel.mm.VmArea.VM_MAYWRITE : 0;
            boolean maywrite = shared && clear == 0;
            if (maywrite && !a.iMmap.mapWritable()) {
                return -Errno.EPERM;
            }
            try {
                return k.mmap().doMmap(mm, a, addr, len, prot, flags, pgoff, null, clear);
            } finally {
                if (maywrite) {
                    a.iMmap.unmapWritable();
                }
            }
        } finally {
            a.releaseUser();
        }
    }

    /**
     * msync (mm/msync.c): flags MS_ASYNC 1, MS_INVALIDATE 2, MS_SYNC 4 (not ASYNC with SYNC: EINVAL), a
     * page-aligned start (EINVAL), and the whole range mapped (ENOMEM otherwise). For each shared file
     * VMA in the range, MS_SYNC runs vfs_fsync_range over the pages it maps ({@link
     * org.mmulab.kernel.mm.PageWriteback}: dirty PTEs cleaned, pages written to the host file; EIO if
     * that fails). MS_ASYNC does the same writeback (Linux 6.x leaves it to the flusher threads, which
     * mmulab has not). tmpfs pages are the file itself: nothing to write.
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
        java.util.List<long[]> ranges = new java.util.ArrayList<>();
        java.util.List<org.mmulab.kernel.mm.AddressSpace> files = new java.util.ArrayList<>();
        mm.mmapLock.downRead();
        try {
            long at = start;
            for (org.mmulab.kernel.mm.VmArea v : mm.vmasIn(start, end)) {
                if (v.start() > at) {
                    break; // a hole: ENOMEM below
                }
                org.mmulab.kernel.mm.AddressSpace a = v.file();
                if ((flags & (MS_SYNC | MS_ASYNC)) != 0 && a != null && a.hasBacking()
                        && (v.flags() & org.mmulab.kernel.mm.VmArea.VM_SHARED) != 0) {
                    long s = Math.max(start, v.start()), e = Math.min(end, v.end());
                    a.acquire(); // get_file: the writeback runs after mmap_lock is dropped, as msync does
                    files.add(a);
                    ranges.add(new long[] {v.pageIndex(s), v.pageIndex(e)});
                }
                at = v.end();
            }
            if (at < end) {
                files.forEach(org.mmulab.kernel.mm.AddressSpace::releaseUser);
                return -Errno.ENOMEM;
            }
        } finally {
            mm.mmapLock.upRead();
        }
        int err = 0;
        for (int i = 0; i < files.size(); i++) {
            int r = org.mmulab.kernel.mm.PageWriteback.writeAndWait(k.memory(), files.get(i), ranges.get(i)[0],
                    ranges.get(i)[1]);
            files.get(i).releaseUser();
            if (r < 0 && err == 0) {
                err = r;
            }
        }
        return err;
    }

    private static final int MS_ASYNC = 1, MS_SYNC = 4;
}
