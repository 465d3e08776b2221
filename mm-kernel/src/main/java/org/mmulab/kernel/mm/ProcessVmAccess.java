package org.mmulab.kernel.mm;

/**
 * process_vm_readv(2) / process_vm_writev(2) after mm/process_vm_access.c (Linux 6.6): copies between
 * the caller's iovecs and another process's through GUP on the remote mm ({@link Gup}: no FOLL_FORCE,
 * so the remote protections hold; PFN maps are never followed) and ordinary user copies on the local
 * side. Checks as Linux: flags must be 0 (EINVAL), at most UIO_MAXIOV iovecs on either side (EINVAL),
 * the iovec arrays must be readable (EFAULT), a missing process (or one whose mm is gone: a zombie)
 * is ESRCH. The target is any thread of any process ({@link Target}); every guest process runs with
 * the same credentials, so mm_access's ptrace check (EPERM) always passes. The result is the bytes
 * copied; if none could be copied, the error of the first remote page (EFAULT).
 */
public final class ProcessVmAccess {
    public static final int UIO_MAXIOV = 1024;
    private static final long EINVAL = -22, EFAULT = -14, ESRCH = -3;

    private ProcessVmAccess() {
    }

    /** One iovec array: base/len pairs read from the caller's memory. */
    private static long[] readIovecs(Gup gup, MmStruct mm, long vec, long cnt, boolean compat) {
        int sz = compat ? 8 : 16;
        byte[] raw = new byte[(int) (cnt * sz)];
        if (raw.length > 0 && gup.accessRemoteVm(mm, vec, raw, 0, raw.length, false, false) != raw.length) {
            return null;
        }
        long[] out = new long[(int) (2 * cnt)];
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < cnt; i++) {
            out[2 * i] = compat ? b.getInt() & 0xffff_ffffL : b.getLong();
            out[2 * i + 1] = compat ? b.getInt() & 0xffff_ffffL : b.getLong();
        }
        return out;
    }

    /**
     * How process_vm_rw_core finds the target: find_get_task_by_vpid + mm_access (an mmget that keeps
     * the mm alive while it is copied), and the mmput after.
     */
    public interface Target {
        /** The mm of thread {@code pid} with a user reference, or null (no such task, or it has no mm). */
        MmStruct mmget(int pid);

        void mmput(MmStruct mm);
    }

    /** A target that is only the caller itself (tests, and a kernel with one process). */
    public static Target self(int selfPid, MmStruct mm) {
        return new Target() {
            @Override
            public MmStruct mmget(int pid) {
                return pid == selfPid ? mm : null;
            }

            @Override
            public void mmput(MmStruct m) {
            }
        };
    }

    /**
     * process_vm_rw: {@code pid} names the target thread, found through {@code target} only after the
     * iovecs were checked (ESRCH comes after EINVAL/EFAULT as in Linux). {@code write} copies local to
     * remote (process_vm_writev). {@code compat}: the ia32 struct compat_iovec layout.
     */
    public static long processVmRw(Gup gup, MmStruct local, long lvec, long liovcnt, Target target, long pid,
            long rvec, long riovcnt, long flags, boolean write, boolean compat) {
        if (flags != 0) {
            return EINVAL;
        }
        // import_iovec of the local side: count, readable array, lengths
        if (Long.compareUnsigned(liovcnt, UIO_MAXIOV) > 0) {
            return EINVAL;
        }
        long[] liov = readIovecs(gup, local, lvec, liovcnt, compat);
        if (liov == null) {
            return EFAULT;
        }
        long ltotal = 0;
        for (int i = 0; i < liovcnt; i++) {
            ltotal += liov[2 * i + 1];
            if (liov[2 * i + 1] < 0 || ltotal < 0) {
                return EINVAL; // the total must fit in ssize_t
            }
        }
        if (ltotal == 0) {
            return 0; // nothing to copy: the remote side is not even looked at
        }
        // iovec_from_user of the remote side
        if (Long.compareUnsigned(riovcnt, UIO_MAXIOV) > 0) {
            return EINVAL;
        }
        long[] riov = readIovecs(gup, local, rvec, riovcnt, compat);
        if (riov == null) {
            return EFAULT;
        }
        long rtotal = 0;
        for (int i = 0; i < riovcnt; i++) {
            rtotal |= riov[2 * i + 1];
        }
        if (rtotal == 0) {
            return 0; // process_vm_rw_core: no remote pages
        }
        MmStruct remote = pid == (int) pid ? target.mmget((int) pid) : null; // pid_t
        if (remote == null) {
            return ESRCH;
        }
        try {
            return copy(gup, local, liov, liovcnt, remote, riov, riovcnt, write);
        } finally {
            target.mmput(remote);
        }
    }

    private static long copy(Gup gup, MmStruct local, long[] liov, long liovcnt, MmStruct remote, long[] riov,
            long riovcnt, boolean write) {
        // Remote iovecs in order, each copied page by page against the local iterator.
        int li = 0;
        long loff = 0;
        long copied = 0;
        byte[] buf = new byte[4096];
        for (int ri = 0; ri < riovcnt && li < liovcnt; ri++) {
            long raddr = riov[2 * ri], rlen = riov[2 * ri + 1];
            while (rlen > 0 && li < liovcnt) {
                if (loff == liov[2 * li + 1]) {
                    li++;
                    loff = 0;
                    continue;
                }
                int n = (int) Math.min(Math.min(rlen, liov[2 * li + 1] - loff), 4096 - (raddr & 4095));
                long laddr = liov[2 * li] + loff;
                int got = write ? gup.accessRemoteVm(local, laddr, buf, 0, n, false, false)
                        : gup.accessRemoteVm(remote, raddr, buf, 0, n, false, false);
                int done = write ? gup.accessRemoteVm(remote, raddr, buf, 0, got, true, false)
                        : gup.accessRemoteVm(local, laddr, buf, 0, got, true, false);
                copied += done;
                if (done < n) {
                    return copied > 0 ? copied : EFAULT; // a page could not be pinned or copied
                }
                raddr += n;
                rlen -= n;
                loff += n;
            }
        }
        return copied;
    }
}
