package org.mmulab.kernel.fs;

import java.util.concurrent.atomic.AtomicLong;

/**
 * struct super_block (include/linux/fs.h), reduced: the file-system type (its statfs magic and the
 * name /proc/mounts shows), the device number st_dev reports, whether it is mounted read-only, and
 * the inode-number counter of the in-memory file systems.
 */
public final class SuperBlock {
    public static final long TMPFS_MAGIC = 0x01021994L, PROC_SUPER_MAGIC = 0x9fa0L, EXT4_SUPER_MAGIC = 0xEF53L,
            PIPEFS_MAGIC = 0x50495045L;

    public final String type;
    public final long magic;
    public final long dev;
    public final boolean readOnly;
    private final AtomicLong nextIno = new AtomicLong(2);

    public SuperBlock(String type, long magic, long dev, boolean readOnly) {
        this.type = type;
        this.magic = magic;
        this.dev = dev;
        this.readOnly = readOnly;
    }

    /** get_next_ino: a fresh inode number. */
    public long nextIno() {
        return nextIno.getAndIncrement();
    }
}
