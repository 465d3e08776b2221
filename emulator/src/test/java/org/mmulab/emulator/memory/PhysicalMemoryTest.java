package org.mmulab.emulator.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class PhysicalMemoryTest {
    @Test
    void littleEndianAccessAcrossSizes() {
        PhysicalMemory m = new PhysicalMemory(8 << 20);
        m.write64(0x1000, 0x1122334455667788L);
        assertEquals(0x88, m.read8(0x1000));
        assertEquals(0x7788, m.read16(0x1000));
        assertEquals(0x55667788, m.read32(0x1000));
        assertEquals(0x11223344, m.read32(0x1004));
        m.write16(0x1ffe, 0xabcd);
        assertEquals(0xabcd, m.read16(0x1ffe));
    }

    @Test
    void unbackedAddressesReadAllOnesAndIgnoreWrites() {
        PhysicalMemory m = new PhysicalMemory(1 << 20);
        assertEquals(0xff, m.read8(1 << 20));
        assertEquals(0xffff, m.read16(5L << 30));
        assertEquals(-1, m.read32(1 << 20));
        assertEquals(-1L, m.read64(1 << 20));
        m.write64(1 << 20, 0);
        assertEquals(-1L, m.read64(1 << 20));
    }

    @Test
    void mmioRegionAboveRamIsRouted() {
        PhysicalMemory m = new PhysicalMemory(1 << 20);
        List<Long> writes = new ArrayList<>();
        m.addMmio(0xfee0_0000L, 0x1000, new PhysicalMemory.Mmio() {
            @Override
            public long read(long offset, int len) {
                return 0x40 + offset;
            }

            @Override
            public void write(long offset, int len, long value) {
                writes.add(value);
            }
        });
        assertEquals(0x48, m.read32(0xfee0_0008L));
        m.write32(0xfee0_0000L, 7);
        assertEquals(List.of(7L), writes);
        assertThrows(IllegalArgumentException.class, () -> m.addMmio(0, 4096, null));
    }

    @Test
    void compareAndExchangeReturnsWitness() {
        PhysicalMemory m = new PhysicalMemory(1 << 20);
        m.write64(0x2000, 5);
        assertEquals(5, m.compareAndExchange64(0x2000, 5, 6));
        assertEquals(6, m.compareAndExchange64(0x2000, 5, 7));
        assertEquals(6, m.read64(0x2000));
        assertThrows(IllegalArgumentException.class, () -> m.compareAndExchange64(0x2004, 0, 1));
    }

    @Test
    void writesToCodeFramesNotifyOnceUntilMarkedAgain() {
        PhysicalMemory m = new PhysicalMemory(1 << 20);
        List<Long> hits = new ArrayList<>();
        m.setCodeWriteListener(hits::add);
        m.markCodeFrame(3);
        assertTrue(m.isCodeFrame(3));
        m.write8(0x2fff, 1); // frame 2: silent
        m.write8(0x3000, 1);
        m.write8(0x3001, 1);
        assertEquals(List.of(3L), hits);
        assertFalse(m.isCodeFrame(3));
        m.markCodeFrame(3);
        m.writeBytes(0x2ff0, new byte[32], 0, 32); // crosses into frame 3
        m.markCodeFrame(4);
        m.zeroFrame(0x4000);
        assertEquals(List.of(3L, 3L, 4L), hits);
    }

    @Test
    void rejectsBadSizes() {
        assertThrows(IllegalArgumentException.class, () -> new PhysicalMemory(0));
        assertThrows(IllegalArgumentException.class, () -> new PhysicalMemory(4097));
    }
}
