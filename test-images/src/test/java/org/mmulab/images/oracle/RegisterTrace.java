package org.mmulab.images.oracle;

import static org.mmulab.emulator.debug.RegisterTraceWriter.NREGS;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.mmulab.emulator.debug.RegisterTraceWriter;

/**
 * Streaming reader of the MMRT register-trace format (specified in {@link RegisterTraceWriter}), as
 * written by the native tracer {@code bin/host/regtrace} and by the emulator. Reads version 2 and
 * version 1; a version-1 trace has no x87/MXCSR slots ({@link #nregs()} is 51), which read as zero.
 */
public final class RegisterTrace implements Closeable {
    public final Path path;
    /** Format version of the file: 1 or 2. */
    public final int version;
    public final int producer;
    public final int bits;
    public final int flags;
    public final long rsp0;
    public final long rip0;
    public final int argc;
    public final int envc;
    /** argv[0..argc-1] then envp[0..envc-1]: address and length (without the NUL) of each string. */
    public final long[] stringAddr;
    public final int[] stringLen;

    private final InputStream in;
    private final long[] regs = new long[NREGS];
    private long records;
    private boolean ended;
    private boolean cutShort;
    private long endStatus = RegisterTraceWriter.STATUS_UNKNOWN;
    private final int nregs;
    private final int endSlot;
    private long maskLo, maskHi;

    private RegisterTrace(Path path) throws IOException {
        this.path = path;
        this.in = new BufferedInputStream(Files.newInputStream(path), 1 << 20);
        byte[] magic = in.readNBytes(8);
        if (!Arrays.equals(magic, RegisterTraceWriter.MAGIC)) {
            in.close();
            throw new IOException(path + ": not an MMRT register trace");
        }
        version = u8();
        if (version == 1) {
            nregs = RegisterTraceWriter.NREGS_V1;
            endSlot = RegisterTraceWriter.END_SLOT_V1;
        } else if (version == RegisterTraceWriter.VERSION) {
            nregs = NREGS;
            endSlot = RegisterTraceWriter.END_SLOT;
        } else {
            in.close();
            throw new IOException(path + ": trace format version " + version + ", expected 1 or " + RegisterTraceWriter.VERSION);
        }
        producer = u8();
        bits = u8();
        flags = u8();
        rsp0 = le(8);
        rip0 = le(8);
        argc = (int) le(4);
        envc = (int) le(4);
        if (argc < 0 || envc < 0 || argc + envc > (1 << 20)) {
            in.close();
            throw new IOException(path + ": corrupt header (argc " + argc + ", envc " + envc + ")");
        }
        stringAddr = new long[argc + envc];
        stringLen = new int[argc + envc];
        for (int i = 0; i < argc + envc; i++) {
            stringAddr[i] = le(8);
            stringLen[i] = (int) le(4);
        }
    }

    public static RegisterTrace open(Path path) throws IOException {
        return new RegisterTrace(path);
    }

    public String producerName() {
        return switch (producer) {
            case RegisterTraceWriter.PRODUCER_PTRACE -> "native";
            case RegisterTraceWriter.PRODUCER_MMULAB -> "mmulab";
            default -> "producer " + producer;
        };
    }

    /** Reads the next record; false at the end record or at the end of a file cut short. */
    public boolean next() throws IOException {
        if (ended) {
            return false;
        }
        int first = in.read();
        if (first < 0) {
            ended = true;
            cutShort = true;
            return false;
        }
        uleb128(first);
        if (maskLo == (endSlot < 64 ? 1L << endSlot : 0) && maskHi == (endSlot >= 64 ? 1L << (endSlot - 64) : 0)) {
            endStatus = zigzag(uleb(in.read()));
            ended = true;
            return false;
        }
        if ((nregs >= 64 ? maskHi >>> (nregs - 64) : maskHi | maskLo >>> nregs) != 0) {
            throw new IOException(path + ": corrupt record " + records + " (mask 0x" + Long.toHexString(maskHi)
                    + String.format("%016x", maskLo) + ")");
        }
        for (int i = 0; i < nregs; i++) {
            if (((i < 64 ? maskLo >>> i : maskHi >>> (i - 64)) & 1) != 0) {
                regs[i] += zigzag(uleb(in.read()));
            }
        }
        records++;
        return true;
    }

    /** Register slots this trace records: 71 (version 2) or 51 (version 1: no x87 or MXCSR). */
    public int nregs() {
        return nregs;
    }

    /** Register slot {@code i} (see RegisterTraceWriter.REG_*) of the current record. */
    public long reg(int i) {
        return regs[i];
    }

    public long[] snapshot() {
        return regs.clone();
    }

    /** Records read so far. */
    public long records() {
        return records;
    }

    public boolean ended() {
        return ended;
    }

    /** Exit status from the end record: a shell status, STATUS_UNKNOWN or STATUS_TRUNCATED. */
    public long endStatus() {
        return endStatus;
    }

    /** True when the file ended without an end record (the producer died or was never closed). */
    public boolean cutShort() {
        return cutShort;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private int u8() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException(path + ": truncated header");
        }
        return b;
    }

    private long le(int n) throws IOException {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v |= (long) u8() << (8 * i);
        }
        return v;
    }

    private long uleb(int first) throws IOException {
        long v = 0;
        int shift = 0;
        int b = first;
        while (true) {
            if (b < 0) {
                throw new EOFException(path + ": truncated record " + records);
            }
            if (shift > 63) {
                throw new IOException(path + ": overlong varint in record " + records);
            }
            v |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
            shift += 7;
            b = in.read();
        }
    }

    /** Reads a uleb128 of up to 128 bits into maskLo/maskHi. */
    private void uleb128(int first) throws IOException {
        long lo = 0, hi = 0;
        int shift = 0;
        int b = first;
        while (true) {
            if (b < 0) {
                throw new EOFException(path + ": truncated record " + records);
            }
            if (shift > 126) {
                throw new IOException(path + ": overlong mask in record " + records);
            }
            long g = b & 0x7f;
            if (shift < 64) {
                lo |= g << shift;
                if (shift > 57) {
                    hi |= g >>> (64 - shift);
                }
            } else {
                hi |= g << (shift - 64);
            }
            if ((b & 0x80) == 0) {
                maskLo = lo;
                maskHi = hi;
                return;
            }
            shift += 7;
            b = in.read();
        }
    }

    private static long zigzag(long z) {
        return (z >>> 1) ^ -(z & 1);
    }
}
