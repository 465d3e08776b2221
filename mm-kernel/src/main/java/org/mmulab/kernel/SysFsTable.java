package org.mmulab.kernel;

import org.mmulab.emulator.machine.Vcpu;

/**
 * The file-system rows of the x86-64 and ia32 syscall tables (syscall_64.tbl, syscall_32.tbl): number
 * to {@link SysFile} (fds), {@link SysPath} (names), {@link SysPoll} and {@link SysExec}, with the
 * compat argument conventions (64-bit offsets in two registers, low half first; struct stat64;
 * compat iovec; old_timespec32 for the non-time64 calls). Numbers not listed return
 * {@link SysProc#NOT_HANDLED}.
 */
final class SysFsTable {
    private final SysFile f;
    private final SysPath p;
    private final SysPoll poll;
    private final SysExec exec;
    private final SysXattr xattr;
    private final Kernel k;
    static final int AT_FDCWD = SysPath.AT_FDCWD;

    SysFsTable(Kernel k) {
        this.k = k;
        this.f = new SysFile(k);
        this.p = new SysPath(k, f);
        this.poll = new SysPoll(k, f);
        this.exec = new SysExec(k, p);
        this.xattr = new SysXattr(f, p);
    }

    SysFile files() {
        return f;
    }

    SysExec exec() {
        return exec;
    }

    static String name64(int nr) {
        return switch (nr) {
            case 2 -> "open";
            case 4 -> "stat";
            case 5 -> "fstat";
            case 6 -> "lstat";
            case 7 -> "poll";
            case 8 -> "lseek";
            case 17 -> "pread64";
            case 18 -> "pwrite64";
            case 19 -> "readv";
            case 21 -> "access";
            case 22 -> "pipe";
            case 23 -> "select";
            case 32 -> "dup";
            case 33 -> "dup2";
            case 26 -> "msync";
            case 34 -> "pause";
            case 130 -> "rt_sigsuspend";
            case 40 -> "sendfile";
            case 59 -> "execve";
            case 72 -> "fcntl";
            case 73 -> "flock";
            case 74 -> "fsync";
            case 75 -> "fdatasync";
            case 76 -> "truncate";
            case 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199 -> SysXattr.NAMES[nr - 188];
            case 77 -> "ftruncate";
            case 285 -> "fallocate";
            case 79 -> "getcwd";
            case 80 -> "chdir";
            case 81 -> "fchdir";
            case 82 -> "rename";
            case 83 -> "mkdir";
            case 84 -> "rmdir";
            case 85 -> "creat";
            case 86 -> "link";
            case 87 -> "unlink";
            case 88 -> "symlink";
            case 89 -> "readlink";
            case 90 -> "chmod";
            case 91 -> "fchmod";
            case 92 -> "chown";
            case 93 -> "fchown";
            case 94 -> "lchown";
            case 109 -> "setpgid";
            case 111 -> "getpgrp";
            case 112 -> "setsid";
            case 121 -> "getpgid";
            case 124 -> "getsid";
            case 137 -> "statfs";
            case 138 -> "fstatfs";
            case 161 -> "chroot";
            case 162 -> "sync";
            case 217 -> "getdents64";
            case 221 -> "fadvise64";
            case 257 -> "openat";
            case 258 -> "mkdirat";
            case 260 -> "fchownat";
            case 262 -> "newfstatat";
            case 263 -> "unlinkat";
            case 264 -> "renameat";
            case 265 -> "linkat";
            case 266 -> "symlinkat";
            case 267 -> "readlinkat";
            case 268 -> "fchmodat";
            case 269 -> "faccessat";
            case 270 -> "pselect6";
            case 271 -> "ppoll";
            case 280 -> "utimensat";
            case 292 -> "dup3";
            case 293 -> "pipe2";
            case 295 -> "preadv";
            case 296 -> "pwritev";
            case 316 -> "renameat2";
            case 319 -> "memfd_create";
            case 322 -> "execveat";
            case 332 -> "statx";
            case 436 -> "close_range";
            case 439 -> "faccessat2";
            default -> null;
        };
    }

    static String name32(int nr) {
        return switch (nr) {
            case 5 -> "open";
            case 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237 -> SysXattr.NAMES[nr - 226];
            case 6 -> "close";
            case 8 -> "creat";
            case 9 -> "link";
            case 10 -> "unlink";
            case 11 -> "execve";
            case 12 -> "chdir";
            case 15 -> "chmod";
            case 19 -> "lseek";
            case 33 -> "access";
            case 36 -> "sync";
            case 38 -> "rename";
            case 39 -> "mkdir";
            case 40 -> "rmdir";
            case 41 -> "dup";
            case 42 -> "pipe";
            case 55 -> "fcntl";
            case 57 -> "setpgid";
            case 61 -> "chroot";
            case 63 -> "dup2";
            case 65 -> "getpgrp";
            case 66 -> "setsid";
            case 83 -> "symlink";
            case 85 -> "readlink";
            case 92 -> "truncate";
            case 93 -> "ftruncate";
            case 94 -> "fchmod";
            case 118 -> "fsync";
            case 132 -> "getpgid";
            case 133 -> "fchdir";
            case 142 -> "_newselect";
            case 143 -> "flock";
            case 145 -> "readv";
            case 147 -> "getsid";
            case 144 -> "msync";
            case 29 -> "pause";
            case 72 -> "sigsuspend";
            case 179 -> "rt_sigsuspend";
            case 148 -> "fdatasync";
            case 168 -> "poll";
            case 180 -> "pread64";
            case 181 -> "pwrite64";
            case 183 -> "getcwd";
            case 187 -> "sendfile";
            case 193 -> "truncate64";
            case 194 -> "ftruncate64";
            case 195 -> "stat64";
            case 196 -> "lstat64";
            case 197 -> "fstat64";
            case 198 -> "lchown32";
            case 207 -> "fchown32";
            case 212 -> "chown32";
            case 220 -> "getdents64";
            case 221 -> "fcntl64";
            case 250 -> "fadvise64";
            case 268 -> "statfs64";
            case 269 -> "fstatfs64";
            case 272 -> "fadvise64_64";
            case 295 -> "openat";
            case 296 -> "mkdirat";
            case 298 -> "fchownat";
            case 300 -> "fstatat64";
            case 301 -> "unlinkat";
            case 302 -> "renameat";
            case 303 -> "linkat";
            case 304 -> "symlinkat";
            case 305 -> "readlinkat";
            case 306 -> "fchmodat";
            case 307 -> "faccessat";
            case 308 -> "pselect6";
            case 309 -> "ppoll";
            case 320 -> "utimensat";
            case 330 -> "dup3";
            case 331 -> "pipe2";
            case 333 -> "preadv";
            case 334 -> "pwritev";
            case 353 -> "renameat2";
            case 356 -> "memfd_create";
            case 324 -> "fallocate";
            case 358 -> "execveat";
            case 383 -> "statx";
            case 412 -> "utimensat_time64";
            case 413 -> "pselect6_time64";
            case 414 -> "ppoll_time64";
            case 436 -> "close_range";
            case 439 -> "faccessat2";
            default -> null;
        };
    }

    long read(int fd, long buf, long count) {
        return f.read(fd, buf, count);
    }

    long write(int fd, long buf, long count) {
        return f.write(fd, buf, count);
    }

    long writev(int fd, long iov, long vlen, int iovSize) {
        return f.rwv(fd, iov, vlen, iovSize, true, -1);
    }

    long ioctl(int fd, int cmd, long arg) {
        return f.ioctl(fd, cmd, arg);
    }

    long close(int fd) {
        return f.close(fd);
    }

    long llseek32(int fd, long hi, long lo, long result, int whence) {
        return f.llseek32(fd, hi, lo, result, whence);
    }

    long dispatch64(Vcpu cpu, int nr, long a0, long a1, long a2, long a3, long a4, long a5) {
        int d0 = (int) a0;
        return switch (nr) {
            case 2 -> p.openat(AT_FDCWD, a0, (int) a1, (int) a2);
            case 4 -> p.stats.stat(a0, a1, true, false);
            case 5 -> p.stats.fstat(d0, a1, false);
            case 6 -> p.stats.stat(a0, a1, false, false);
            case 7 -> poll.poll(cpu, a0, a1, (int) a2);
            case 8 -> f.lseek(d0, a1, (int) a2);
            case 17 -> f.pread(d0, a1, a2, a3, false);
            case 18 -> f.pread(d0, a1, a2, a3, true);
            case 19 -> f.rwv(d0, a1, a2, 16, false, -1);
            case 21 -> p.faccessat(AT_FDCWD, a0, (int) a1, 0);
            case 22 -> f.pipes.pipe2(a0, 0);
            case 23 -> poll.select(cpu, d0, a1, a2, a3, a4, false);
            case 32 -> f.dup(d0);
            case 33 -> f.dup3(d0, (int) a1, 0, true);
            case 26 -> f.maps.msync(a0, a1, (int) a2);
            case 34 -> poll.sigsuspend(null);
            case 130 -> poll.rtSigsuspend(a0, a1);
            case 40 -> f.pipes.sendfile(d0, (int) a1, a2, a3, false);
            case 59 -> exec.execve(cpu, AT_FDCWD, a0, a1, a2, 0);
            case 72 -> f.fcntl(d0, (int) a1, a2, false);
            case 73 -> f.flock(d0, (int) a1);
            case 74, 75 -> f.fsync(d0);
            case 76 -> p.truncate(a0, a1);
            case 188, 189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199 -> xattr.call(nr, 188, a0, a1, a3, (int) a4);
            case 77 -> p.ftruncate(d0, a1);
            case 285 -> fallocate(d0, (int) a1, a2, a3);
            case 79 -> p.getcwd(a0, a1);
            case 80 -> p.chdir(a0);
            case 81 -> p.fchdir(d0);
            case 82 -> p.namei.renameat2(AT_FDCWD, a0, AT_FDCWD, a1, 0);
            case 83 -> p.namei.mkdirat(AT_FDCWD, a0, (int) a1);
            case 84 -> p.namei.unlinkat(AT_FDCWD, a0, SysPath.AT_REMOVEDIR);
            case 85 -> p.openat(AT_FDCWD, a0, 0101 | 01000, (int) a1); // O_CREAT|O_WRONLY|O_TRUNC
            case 86 -> p.namei.linkat(AT_FDCWD, a0, AT_FDCWD, a1, 0);
            case 87 -> p.namei.unlinkat(AT_FDCWD, a0, 0);
            case 88 -> p.namei.symlinkat(a0, AT_FDCWD, a1);
            case 89 -> p.readlinkat(AT_FDCWD, a0, a1, (int) a2);
            case 90 -> p.fchmodat(AT_FDCWD, a0, (int) a1, -1);
            case 91 -> p.fchmodat(AT_FDCWD, 0, (int) a1, d0);
            case 92 -> p.fchownat(AT_FDCWD, a0, -1, true);
            case 93 -> p.fchownat(AT_FDCWD, 0, d0, true);
            case 94 -> p.fchownat(AT_FDCWD, a0, -1, false);
            case 109 -> exec.setpgid(d0, (int) a1);
            case 111 -> exec.getpgid(0);
            case 112 -> exec.setsid();
            case 121 -> exec.getpgid(d0);
            case 124 -> exec.getsid(d0);
            case 137 -> p.stats.statfs(-1, a0, a1, false);
            case 138 -> p.stats.statfs(d0, 0, a1, false);
            case 161 -> p.chroot(a0);
            case 162 -> 0;
            case 217 -> p.getdents64(d0, a1, a2);
            case 221 -> fadvise(d0, (int) a3);
            case 257 -> p.openat(d0, a1, (int) a2, (int) a3);
            case 258 -> p.namei.mkdirat(d0, a1, (int) a2);
            case 260 -> p.fchownat(d0, a1, -1, ((int) a4 & SysPath.AT_SYMLINK_NOFOLLOW) == 0);
            case 262 -> p.stats.fstatat(d0, a1, a2, (int) a3, false);
            case 263 -> p.namei.unlinkat(d0, a1, (int) a2);
            case 264 -> p.namei.renameat2(d0, a1, (int) a2, a3, 0);
            case 265 -> p.namei.linkat(d0, a1, (int) a2, a3, (int) a4);
            case 266 -> p.namei.symlinkat(a0, (int) a1, a2);
            case 267 -> p.readlinkat(d0, a1, a2, (int) a3);
            case 268 -> p.fchmodat(d0, a1, (int) a2, -1);
            case 269 -> p.faccessat(d0, a1, (int) a2, 0);
            case 439 -> p.faccessat(d0, a1, (int) a2, (int) a3);
            case 270 -> poll.pselect6(cpu, d0, a1, a2, a3, a4, a5, false, false);
            case 271 -> poll.ppoll(cpu, a0, a1, a2, a3, a4, false);
            case 280 -> p.utimensat(d0, a1, a2, (int) a3, false);
            case 292 -> f.dup3(d0, (int) a1, (int) a2, false);
            case 293 -> f.pipes.pipe2(a0, (int) a1);
            case 295 -> f.rwv(d0, a1, a2, 16, false, a3);
            case 296 -> f.rwv(d0, a1, a2, 16, true, a3);
            case 316 -> p.namei.renameat2(d0, a1, (int) a2, a3, (int) a4);
            case 319 -> p.memfdCreate(a0, (int) a1);
            case 322 -> exec.execve(cpu, d0, a1, a2, a3, (int) a4);
            case 332 -> p.stats.statx(d0, a1, (int) a2, (int) a3, a4);
            case 436 -> f.closeRange(a0 & 0xffff_ffffL, a1 & 0xffff_ffffL, (int) a2);
            default -> SysProc.NOT_HANDLED;
        };
    }

    /** fadvise64: advice 0-5 on a regular file or directory; a pipe is ESPIPE. */
    private long fadvise(int fd, int advice) {
        try {
            org.mmulab.kernel.fs.File file = f.file(fd);
            if (file instanceof org.mmulab.kernel.fs.Pipe.End) {
                return -Errno.ESPIPE;
            }
            return advice < 0 || advice > 5 ? -Errno.EINVAL : 0;
        } catch (org.mmulab.kernel.fs.FsException e) {
            return e.ret();
        }
    }

    /** ksys_fallocate: EBADF for a bad fd, then {@link org.mmulab.kernel.fs.Fallocate#vfsFallocate}. */
    private long fallocate(int fd, int mode, long off, long len) {
        try {
            return org.mmulab.kernel.fs.Fallocate.vfsFallocate(f.file(fd), mode, off, len, k.memory());
        } catch (org.mmulab.kernel.fs.FsException e) {
            return e.ret();
        }
    }

    private static long off64(long lo, long hi) {
        return (hi << 32) | (lo & 0xffff_ffffL);
    }

    long dispatch32(Vcpu cpu, int nr, long b, long c, long d, long si, long di, long bp) {
        int fd = (int) b;
        return switch (nr) {
            case 5 -> p.openat(AT_FDCWD, b, (int) c, (int) d);
            case 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237 -> xattr.call(nr, 226, b, c, si, (int) di);
            case 6 -> f.close(fd);
            case 8 -> p.openat(AT_FDCWD, b, 0101 | 01000, (int) c);
            case 9 -> p.namei.linkat(AT_FDCWD, b, AT_FDCWD, c, 0);
            case 10 -> p.namei.unlinkat(AT_FDCWD, b, 0);
            case 11 -> exec.execve(cpu, AT_FDCWD, b, c, d, 0);
            case 12 -> p.chdir(b);
            case 15 -> p.fchmodat(AT_FDCWD, b, (int) c, -1);
            case 19 -> f.lseek32(fd, c, (int) d);
            case 33 -> p.faccessat(AT_FDCWD, b, (int) c, 0);
            case 36 -> 0;
            case 38 -> p.namei.renameat2(AT_FDCWD, b, AT_FDCWD, c, 0);
            case 39 -> p.namei.mkdirat(AT_FDCWD, b, (int) c);
            case 40 -> p.namei.unlinkat(AT_FDCWD, b, SysPath.AT_REMOVEDIR);
            case 41 -> f.dup(fd);
            case 42 -> f.pipes.pipe2(b, 0);
            case 55, 221 -> f.fcntl(fd, (int) c, d, true);
            case 57 -> exec.setpgid(fd, (int) c);
            case 61 -> p.chroot(b);
            case 63 -> f.dup3(fd, (int) c, 0, true);
            case 65 -> exec.getpgid(0);
            case 66 -> exec.setsid();
            case 83 -> p.namei.symlinkat(b, AT_FDCWD, c);
            case 85 -> p.readlinkat(AT_FDCWD, b, c, (int) d);
            case 92 -> p.truncate(b, (int) c);
            case 93 -> p.ftruncate(fd, (int) c);
            case 94 -> p.fchmodat(AT_FDCWD, 0, (int) c, fd);
            case 118, 148 -> f.fsync(fd);
            case 132 -> exec.getpgid(fd);
            case 133 -> p.fchdir(fd);
            case 142 -> poll.select(cpu, fd, c, d, si, di, true);
            case 143 -> f.flock(fd, (int) c);
            case 144 -> f.maps.msync(b, c, (int) d);
            case 29 -> poll.sigsuspend(null);
            case 72 -> poll.sigsuspend((k.current().sigmask & ~0xffff_ffffL) | (d & 0xffff_ffffL)); // old_sigset_t in EDX
            case 179 -> poll.rtSigsuspend(b, c);
            case 145 -> f.rwv(fd, c, d, 8, false, -1);
            case 147 -> exec.getsid(fd);
            case 168 -> poll.poll(cpu, b, c, (int) d);
            case 180 -> f.pread(fd, c, d, off64(si, di), false);
            case 181 -> f.pread(fd, c, d, off64(si, di), true);
            case 183 -> p.getcwd(b, c);
            case 187 -> f.pipes.sendfile(fd, (int) c, d, si, true);
            case 193 -> p.truncate(b, off64(c, d));
            case 194 -> p.ftruncate(fd, off64(c, d));
            case 195 -> p.stats.stat(b, c, true, true);
            case 196 -> p.stats.stat(b, c, false, true);
            case 197 -> p.stats.fstat(fd, c, true);
            case 198 -> p.fchownat(AT_FDCWD, b, -1, false);
            case 207 -> p.fchownat(AT_FDCWD, 0, fd, true);
            case 212 -> p.fchownat(AT_FDCWD, b, -1, true);
            case 220 -> p.getdents64(fd, c, d);
            case 250 -> fadvise(fd, (int) di);
            case 272 -> fadvise(fd, (int) bp);
            case 268 -> c != 84 ? -Errno.EINVAL : p.stats.statfs(-1, b, d, true);
            case 269 -> c != 84 ? -Errno.EINVAL : p.stats.statfs(fd, 0, d, true);
            case 295 -> p.openat(fd, c, (int) d, (int) si);
            case 296 -> p.namei.mkdirat(fd, c, (int) d);
            case 298 -> p.fchownat(fd, c, -1, ((int) bp & SysPath.AT_SYMLINK_NOFOLLOW) == 0);
            case 300 -> p.stats.fstatat(fd, c, d, (int) si, true);
            case 301 -> p.namei.unlinkat(fd, c, (int) d);
            case 302 -> p.namei.renameat2(fd, c, (int) d, si, 0);
            case 303 -> p.namei.linkat(fd, c, (int) d, si, (int) di);
            case 304 -> p.namei.symlinkat(b, (int) c, d);
            case 305 -> p.readlinkat(fd, c, d, (int) si);
            case 306 -> p.fchmodat(fd, c, (int) d, -1);
            case 307 -> p.faccessat(fd, c, (int) d, 0);
            case 439 -> p.faccessat(fd, c, (int) d, (int) si);
            case 308 -> poll.pselect6(cpu, fd, c, d, si, di, bp, true, true);
            case 413 -> poll.pselect6(cpu, fd, c, d, si, di, bp, true, false);
            case 309 -> poll.ppoll(cpu, b, c, d, si, di, true);
            case 414 -> poll.ppoll(cpu, b, c, d, si, di, false);
            case 320 -> p.utimensat(fd, c, d, (int) si, true);
            case 412 -> p.utimensat(fd, c, d, (int) si, false);
            case 330 -> f.dup3(fd, (int) c, (int) d, false);
            case 331 -> f.pipes.pipe2(b, (int) c);
            case 333 -> f.rwv(fd, c, d, 8, false, off64(si, di));
            case 334 -> f.rwv(fd, c, d, 8, true, off64(si, di));
            case 353 -> p.namei.renameat2(fd, c, (int) d, si, (int) di);
            case 356 -> p.memfdCreate(b, (int) c);
            case 324 -> fallocate(fd, (int) c, off64(d, si), off64(di, bp));
            case 358 -> exec.execve(cpu, fd, c, d, si, (int) di);
            case 383 -> p.stats.statx(fd, c, (int) d, (int) si, di);
            case 436 -> f.closeRange(b, c, (int) d);
            default -> SysProc.NOT_HANDLED;
        };
    }
}
