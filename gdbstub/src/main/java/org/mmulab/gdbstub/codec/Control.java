package org.mmulab.gdbstub.codec;

/** Single-byte messages outside packets: {@code +}, {@code -} and the 0x03 interrupt request. */
public enum Control implements GdbMessage {
    /** {@code +}: the last packet arrived intact. */
    ACK('+'),
    /** {@code -}: the last packet was corrupt; retransmit it. */
    NACK('-'),
    /** 0x03 (Ctrl-C) received between packets: stop the running target. */
    INTERRUPT(0x03);

    private final byte wire;

    Control(int wire) {
        this.wire = (byte) wire;
    }

    /** The byte sent on the wire. */
    public byte wireByte() {
        return wire;
    }
}
