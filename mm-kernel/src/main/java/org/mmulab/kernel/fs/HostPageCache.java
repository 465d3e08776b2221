package org.mmulab.kernel.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.StandardOpenOption;

import org.mmulab.emulator.memory.PhysicalMemory;
import org.mmulab.kernel.Errno;
import org.mmulab.kernel.mm.AddressSpace;
import org.mmulab.kernel.mm.FrameTable;

/**
 * The one page cache of a host regular file, made at its first mmap and kept with the inode
 * (mm/filemap.c {@code filemap_read}, {@code generic_perform_write}, {@code truncate_pagecache};
 * Linux 6.6): pages are read from the host file at fault ({@code read_folio}); read() takes cached pages
 * from the cache and the rest from the host; write() copies into the cached pages (reading a page in
 * first, as write_begin does, so a mapping sees the write) and writes through to the host, so the
 * cache never holds data the host lacks except what mappings dirtied, which {@code PageWriteback}
 * writes back ({@code writepage}: clipped to the host file's current size). Before the first mmap, the
 * file's reads and writes go straight to the host.
 */
final class HostPageCache implements AddressSpace.Backing {
    private final HostFs.HostInode inode;
    private final FrameTable frames;
    final AddressSpace a;

    HostPageCache(HostFs.HostInode inode, FrameTable frames, String name, long size) {
        this.inode = inode;
        this.frames = frames;
        this.a = AddressSpace.file(frames, name, this);
        a.setEof(size);
    }

    @Override
    public int readPage(long off, byte[] dst) {
        try (FileChannel ch = FileChannel.open(inode.path, LinkOption.NOFOLLOW_LINKS, StandardOpenOption.READ)) {
            return readFully(ch, off, dst, 0, dst.length);
        } catch (IOException e) {
            return 0; // the host file went away: its page reads as zeros, as a hole would
        }
    }

    @Override
    public int writePage(long off, byte[] src) {
        if (!inode.writable()) {
            return -Errno.EROFS;
        }
        try (FileChannel ch = FileChannel.open(inode.path, LinkOption.NOFOLLOW_LINKS, StandardOpenOption.WRITE)) {
            long n = Math.min(src.length, ch.size() - off);
            if (n > 0) {
                writeFully(ch, off, src, 0, (int) n);
            }
            return 0;
        } catch (IOException e) {
            return -Errno.EIO;
        }
    }

    static int readFully(FileChannel ch, long at, byte[] b, int off, int len) throws IOException {
        int done = 0;
        while (done < len) {
            int n = ch.read(ByteBuffer.wrap(b, off + done, len - done), at + done);
            if (n <= 0) {
                break;
            }
            done += n;
        }
        return done;
    }

    static void writeFully(FileChannel ch, long at, byte[] b, int off, int len) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(b, off, len);
        while (bb.hasRemaining()) {
            ch.write(bb, at + bb.position() - off);
        }
    }

    /** filemap_read: {@code len} bytes at {@code pos} (no further than the host file's end). */
    int read(FileChannel ch, long pos, byte[] b, int off, int len) throws IOException {
        long size = ch.size();
        if (pos >= size) {
            return 0;
        }
        int n = (int) Math.min(len, size - pos);
        PageCacheRead.copy(a, frames, pos, b, off, n, (p, dst, o, l) -> {
            int got = readFully(ch, p, dst, o, l);
            java.util.Arrays.fill(dst, o + got, o + l, (byte) 0);
        });
        return n;
    }

    /**
     * generic_perform_write's copy into the cache, before the bytes go to the host: every page of the
     * range is brought into the cache (read from the host first) and the bytes copied in, so a mapping
     * of the file sees them. A page the cache cannot get (no free frame) stays out of it: a later fault
     * reads the host, which has the bytes by then.
     */
    void write(long pos, byte[] b, int off, int len, long oldSize) {
        a.setEof(Math.max(oldSize, pos + len));
        PhysicalMemory mem = frames.memory();
        int done = 0;
        while (done < len) {
            long p = pos + done;
            int inPage = (int) (p & 4095);
            int chunk = Math.min(len - done, 4096 - inPage);
            long pfn = a.getPage(p >>> 12);
            if (pfn >= 0) {
                mem.writeBytes((pfn << 12) + inPage, b, off + done, chunk);
                frames.put(pfn);
            }
            done += chunk;
        }
    }

    /**
     * truncate_pagecache after the host file was cut to {@code newSize}: mappings of the pages past it
     * are unmapped through i_mmap ({@code unmapper}), the kept part of the last page is zeroed past the
     * end, the pages past it dropped, and unmapped again (a page faulted in meanwhile).
     */
    void truncate(long newSize, java.util.function.ObjLongConsumer<AddressSpace> unmapper) {
        a.setEof(newSize);
        long keep = (newSize + 4095) >>> 12;
        unmapper.accept(a, keep);
        if ((newSize & 4095) != 0) {
            long pfn = a.findPage(newSize >>> 12);
            if (pfn >= 0) {
                int from = (int) (newSize & 4095);
                frames.memory().writeBytes((pfn << 12) + from, new byte[4096 - from], 0, 4096 - from);
                frames.put(pfn);
            }
        }
        a.truncatePages(keep);
        unmapper.accept(a, keep);
    }
}
