package org.mmulab.kernel.fs;

/** One entry getdents64 returns: name, inode number and d_type (DT_DIR 4, DT_REG 8, DT_LNK 10...). */
public record DirEntry(String name, long ino, int dtype) {
    public static final int DT_UNKNOWN = 0, DT_FIFO = 1, DT_CHR = 2, DT_DIR = 4, DT_BLK = 6, DT_REG = 8, DT_LNK = 10,
            DT_SOCK = 12;

    /** d_type from an S_IFMT type: the file type's top bits (fs_umode_to_dtype). */
    public static int dtypeOf(int mode) {
        return (mode >>> 12) & 15;
    }
}
