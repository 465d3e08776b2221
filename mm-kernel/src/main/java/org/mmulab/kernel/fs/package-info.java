/**
 * The VFS after Linux 6.x fs/: {@link org.mmulab.kernel.fs.Inode} (inode + inode_operations + the data
 * half of file_operations), {@link org.mmulab.kernel.fs.Dentry} and the path walk of
 * {@link org.mmulab.kernel.fs.Vfs} (fs/namei.c, confined to the namespace root), the open file
 * description {@link org.mmulab.kernel.fs.File}, {@link org.mmulab.kernel.fs.FdTable} (files_struct),
 * {@link org.mmulab.kernel.fs.FsContext} (fs_struct), {@link org.mmulab.kernel.fs.Pipe} (fs/pipe.c) and
 * the file systems: {@link org.mmulab.kernel.fs.HostFs} (the host tree, read-only except below
 * {@code --rw} directories), {@link org.mmulab.kernel.fs.Tmpfs} (mm/shmem.c: file data in shmem pages of
 * guest RAM, the page cache mmap maps), {@link org.mmulab.kernel.fs.Synth} (procfs/devfs inodes whose
 * content the kernel makes) and {@link org.mmulab.kernel.fs.Device} (drivers/char/mem.c).
 *
 * <p>Errors are {@link org.mmulab.kernel.fs.FsException} carrying Linux's errno. Blocking is not done
 * here: a pipe read or write that would block throws EAGAIN and names its
 * {@link org.mmulab.kernel.fs.WaitQueue}; the syscall layer (org.mmulab.kernel.SysFile, SysPoll) blocks
 * the task through the scheduler. May call org.mmulab.kernel.mm (AddressSpace, FrameTable) and
 * org.mmulab.kernel.Errno; knows nothing of tasks or syscalls.
 */
package org.mmulab.kernel.fs;
