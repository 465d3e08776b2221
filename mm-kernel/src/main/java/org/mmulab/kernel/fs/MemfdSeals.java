package org.mmulab.kernel.fs;

import org.mmulab.kernel.Errno;
import org.mmulab.kernel.mm.AddressSpace;

/**
 * File seals of a tmpfs/memfd inode (mm/memfd.c memfd_add_seals, memfd_check_seals_mmap; mm/shmem.c
 * shmem_write_begin, shmem_setattr, shmem_fallocate; Linux 6.12): the {@code seals} word of
 * shmem_inode_info. Every tmpfs file starts with F_SEAL_SEAL (no seal can be added) except a memfd made
 * with MFD_ALLOW_SEALING. F_SEAL_WRITE is taken only while no VMA maps the object shared and writable
 * ({@link IMmap#denyWritable}: EBUSY otherwise) and from then on mmap cannot make such a VMA;
 * F_SEAL_FUTURE_WRITE forbids new writes (write, shared writable mmap) but leaves existing mappings
 * alone; SHRINK and GROW forbid size changes in that direction (ftruncate, write past the end,
 * fallocate past the end); F_SEAL_EXEC freezes the exec bits and, on an executable file, implies the
 * write seals (W^X).
 */
public final class MemfdSeals {
    public static final int F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8,
            F_SEAL_FUTURE_WRITE = 0x10, F_SEAL_EXEC = 0x20;
    static final int F_ALL_SEALS = F_SEAL_SEAL | F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE
            | F_SEAL_FUTURE_WRITE;
    /** memfd_create flags. */
    public static final int MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, MFD_HUGETLB = 4, MFD_NOEXEC_SEAL = 8, MFD_EXEC = 0x10;

    /** Guarded by the owning inode's monitor (inode_lock in Linux) for changes; read racily as Linux does. */
    private volatile int seals = F_SEAL_SEAL;

    MemfdSeals() {
    }

    /** The seals of a file's inode, or null where there are none (memfd_file_seals_ptr: shmem files only). */
    public static MemfdSeals of(Inode i) {
        return i instanceof Tmpfs.Node n && n.isReg() ? n.seals : null;
    }

    public int get() {
        return seals;
    }

    /**
     * What memfd_create does after making the file: MFD_ALLOW_SEALING lifts F_SEAL_SEAL;
     * MFD_NOEXEC_SEAL (mode already without exec bits) lifts it too and sets F_SEAL_EXEC.
     */
    public static void memfdCreated(Inode i, int mfdFlags) {
        MemfdSeals s = of(i);
        if (s == null) {
            return;
        }
        synchronized (i) {
            if ((mfdFlags & (MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL)) != 0) {
                s.seals &= ~F_SEAL_SEAL;
            }
            if ((mfdFlags & MFD_NOEXEC_SEAL) != 0) {
                s.seals |= F_SEAL_EXEC;
            }
        }
    }

    /** fcntl(F_GET_SEALS): the seals, or -EINVAL for a file that cannot have any. */
    public static long getSeals(File f) {
        MemfdSeals s = of(f.inode);
        return s == null ? -Errno.EINVAL : s.seals;
    }

    /** fcntl(F_ADD_SEALS) (memfd_add_seals, checks in Linux's order); 0 or -errno. */
    public static long addSeals(File f, int add) {
        if (!f.writable()) {
            return -Errno.EPERM;
        }
        if ((add & ~F_ALL_SEALS) != 0) {
            return -Errno.EINVAL;
        }
        MemfdSeals s = of(f.inode);
        if (s == null) {
            return -Errno.EINVAL;
        }
        synchronized (f.inode) {
            if ((s.seals & F_SEAL_SEAL) != 0) {
                return -Errno.EPERM;
            }
            if ((add & F_SEAL_EXEC) != 0 && (f.inode.mode() & 0111) != 0) {
                add |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
            }
            if ((add & F_SEAL_WRITE) != 0 && (s.seals & F_SEAL_WRITE) == 0) {
                AddressSpace a;
                try {
                    a = f.inode.mapping();
                } catch (FsException e) {
                    return e.ret();
                }
                try {
                    if (!a.iMmap.denyWritable()) {
                        return -Errno.EBUSY; // a shared writable mapping exists
                    }
                } finally {
                    a.releaseUser();
                }
                // memfd_wait_for_pins: no long-term GUP pins exist here (GUP references last a syscall)
            }
            s.seals |= add;
            return 0;
        }
    }

    private boolean writeSealed() {
        return (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) != 0;
    }

    /**
     * shmem_write_begin, page by page: how many of {@code len} bytes at {@code pos} a write may store into
     * a file of {@code size} bytes (a write stops before the first page chunk that would grow a
     * GROW-sealed file), or -EPERM when not even the first chunk may be written.
     */
    long writableLength(long pos, long len, long size) {
        if (writeSealed()) {
            return -Errno.EPERM;
        }
        if ((seals & F_SEAL_GROW) == 0 || pos + len <= size) {
            return len;
        }
        long stop = Math.max(pos, (size & 4095) == 0 ? size : size & ~4095L);
        return stop > pos ? stop - pos : -Errno.EPERM;
    }

    /** shmem_setattr's size check: -EPERM for a sealed shrink or grow, else 0. */
    int resizeCheck(long oldSize, long newSize) {
        if (newSize < oldSize && (seals & F_SEAL_SHRINK) != 0 || newSize > oldSize && (seals & F_SEAL_GROW) != 0) {
            return -Errno.EPERM;
        }
        return 0;
    }

    /** shmem_setattr's mode check: F_SEAL_EXEC forbids changing an exec bit. */
    int chmodCheck(int oldMode, int newMode) {
        return (seals & F_SEAL_EXEC) != 0 && ((oldMode ^ newMode) & 0111) != 0 ? -Errno.EPERM : 0;
    }

    /** shmem_fallocate's seal checks: punching needs no write seal; allocating past the end no GROW seal. */
    int fallocateCheck(boolean punch, long end, long size) {
        if (punch) {
            return writeSealed() ? -Errno.EPERM : 0;
        }
        return (seals & F_SEAL_GROW) != 0 && end > size ? -Errno.EPERM : 0;
    }

    /**
     * memfd_check_seals_mmap for a shared mapping of {@code f}: a write-sealed object refuses a writable
     * one (-EPERM) and gives a read-only one no VM_MAYWRITE (1: the caller clears it, so mprotect cannot
     * add PROT_WRITE later); 0 when nothing applies.
     */
    public static int mmapCheck(File f, boolean shared, boolean write) {
        MemfdSeals s = of(f.inode);
        if (s == null || !shared || !s.writeSealed()) {
            return 0;
        }
        return write ? -Errno.EPERM : 1;
    }
}
