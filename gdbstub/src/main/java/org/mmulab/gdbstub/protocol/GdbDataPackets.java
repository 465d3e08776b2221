package org.mmulab.gdbstub.protocol;

import static org.mmulab.gdbstub.protocol.GdbSession.E_INVALID;
import static org.mmulab.gdbstub.protocol.GdbSession.E_MEMORY;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.mmulab.gdbstub.codec.Binary;
import org.mmulab.gdbstub.codec.Hex;
import org.mmulab.gdbstub.codec.Packet;
import org.mmulab.gdbstub.target.GdbTarget;
import org.mmulab.gdbstub.target.RegisterDef;
import org.mmulab.gdbstub.target.TargetArch;

/**
 * The register and memory packets of the GDB remote protocol (GDB manual, "Packets": {@code g}, {@code G},
 * {@code p}, {@code P}, {@code m}, {@code M}, {@code X}) for {@link GdbSession}, which picks the thread
 * ({@code Hg}) and the target description. A register the target cannot read is sent as {@code xx} bytes;
 * a write of the wrong size or to an unknown register is {@code E22}; memory not accessible is {@code E14};
 * a malformed packet throws {@link MalformedPacketException}, which the session answers with {@code E01}.
 */
final class GdbDataPackets {
    private final GdbTarget target;
    private final int packetSize;

    GdbDataPackets(GdbTarget target, int packetSize) {
        this.target = target;
        this.packetSize = packetSize;
    }

    // ---- registers: g, G, p, P

    String readRegisters(TargetArch arch, int t) {
        StringBuilder sb = new StringBuilder(arch.gPacketBytes() * 2);
        for (RegisterDef r : arch.registers()) {
            appendRegister(sb, r, target.readRegister(t, r.regnum()));
        }
        return sb.toString();
    }

    private static void appendRegister(StringBuilder sb, RegisterDef r, byte[] v) {
        if (v == null || v.length != r.bytes()) {
            sb.append("xx".repeat(r.bytes()));
        } else {
            for (byte b : v) {
                Hex.appendByte(sb, b);
            }
        }
    }

    String writeRegisters(TargetArch arch, int t, String hex) {
        byte[] data = Hex.decode(hex);
        if (data == null) {
            throw new MalformedPacketException("G: bad hex");
        }
        if (data.length != arch.gPacketBytes()) {
            return E_INVALID;
        }
        int off = 0;
        boolean ok = true;
        for (RegisterDef r : arch.registers()) {
            ok &= target.writeRegister(t, r.regnum(), Arrays.copyOfRange(data, off, off + r.bytes()));
            off += r.bytes();
        }
        return ok ? "OK" : E_INVALID;
    }

    String readRegister(TargetArch arch, int t, String args) {
        RegisterDef r = arch.register(PacketArgs.parseRegnum(args));
        if (r == null) {
            return E_INVALID;
        }
        StringBuilder sb = new StringBuilder(r.bytes() * 2);
        appendRegister(sb, r, target.readRegister(t, r.regnum()));
        return sb.toString();
    }

    String writeRegister(TargetArch arch, int t, String args) {
        int eq = args.indexOf('=');
        if (eq < 0) {
            throw new MalformedPacketException("P without '='");
        }
        RegisterDef r = arch.register(PacketArgs.parseRegnum(args.substring(0, eq)));
        byte[] value = Hex.decode(args.substring(eq + 1));
        if (value == null) {
            throw new MalformedPacketException("P: bad hex");
        }
        if (r == null || value.length != r.bytes()) {
            return E_INVALID;
        }
        return target.writeRegister(t, r.regnum(), value) ? "OK" : E_INVALID;
    }

    // ---- memory: m, M, X

    String readMemory(int t, String args) {
        long[] al = PacketArgs.pair(args, ',');
        if (al[1] == 0) {
            return "";
        }
        int len = PacketArgs.clamp(al[1], Math.max(1, packetSize / 2));
        byte[] data = target.readMemory(t, al[0], len);
        if (data == null || data.length == 0) {
            return E_MEMORY;
        }
        return Hex.encode(data, 0, Math.min(len, data.length));
    }

    String writeMemory(int t, String args) {
        int colon = args.indexOf(':');
        if (colon < 0) {
            throw new MalformedPacketException("M without ':'");
        }
        long[] al = PacketArgs.pair(args.substring(0, colon), ',');
        byte[] data = Hex.decode(args.substring(colon + 1));
        if (data == null || data.length != al[1]) {
            throw new MalformedPacketException("M: data does not match length");
        }
        return store(t, al[0], data);
    }

    String writeMemoryBinary(int t, Packet p) {
        byte[] raw = p.payload();
        int colon = -1;
        for (int i = 1; i < raw.length; i++) {
            if (raw[i] == ':') {
                colon = i;
                break;
            }
        }
        if (colon < 0) {
            throw new MalformedPacketException("X without ':'");
        }
        long[] al = PacketArgs.pair(new String(raw, 1, colon - 1, StandardCharsets.ISO_8859_1), ',');
        byte[] data = Binary.unescape(raw, colon + 1, raw.length);
        if (data == null || data.length != al[1]) {
            throw new MalformedPacketException("X: data does not match length");
        }
        return store(t, al[0], data);
    }

    private String store(int t, long address, byte[] data) {
        if (data.length == 0) {
            return "OK";   // gdb probes X support with a zero-length write
        }
        int written = target.writeMemory(t, address, data);
        return written == data.length ? "OK" : E_MEMORY;
    }
}
