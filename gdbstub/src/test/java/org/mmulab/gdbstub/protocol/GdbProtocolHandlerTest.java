package org.mmulab.gdbstub.protocol;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mmulab.gdbstub.FakeTarget;
import org.mmulab.gdbstub.codec.GdbPacketDecoder;
import org.mmulab.gdbstub.codec.GdbPacketEncoder;
import org.mmulab.gdbstub.codec.Hex;
import org.mmulab.gdbstub.target.ResumePlan;
import org.mmulab.gdbstub.target.TargetArch;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mmulab.gdbstub.codec.CodecTestUtil.buf;
import static org.mmulab.gdbstub.codec.CodecTestUtil.bytes;
import static org.mmulab.gdbstub.codec.CodecTestUtil.drainOutbound;
import static org.mmulab.gdbstub.codec.CodecTestUtil.frame;

/** The packet set of DESIGN §4 against {@link FakeTarget}, through the real decoder/encoder pipeline. */
class GdbProtocolHandlerTest {
    private FakeTarget target;
    private EmbeddedChannel ch;
    private GdbProtocolHandler handler;

    @BeforeEach
    void setUp() {
        connect(new FakeTarget(TargetArch.AMD64, 2, false), GdbPacketDecoder.DEFAULT_MAX_PAYLOAD);
    }

    private void connect(FakeTarget t, int packetSize) {
        target = t;
        handler = new GdbProtocolHandler(target, packetSize);
        ch = new EmbeddedChannel(new GdbPacketDecoder(packetSize), new GdbPacketEncoder(), handler);
    }

    /** Sends raw bytes, runs queued tasks (stop events), returns everything written back. */
    private String raw(String in) {
        ch.writeInbound(buf(bytes(in)));
        ch.runPendingTasks();
        return drainOutbound(ch);
    }

    /** Sends one packet (acks on) and returns the reply payload, checking the '+' and the framing. */
    private String ask(String payload) {
        String out = raw(frame(payload));
        assertTrue(out.startsWith("+"), () -> "no ack for " + payload + ": " + out);
        List<String> replies = payloads(out.substring(1));
        assertEquals(1, replies.size(), () -> "want one reply to " + payload + ", got " + out);
        return replies.get(0);
    }

    private static final Pattern FRAME = Pattern.compile("\\$([^#$]*)#([0-9a-f]{2})");

    /** Payloads of every frame in {@code wire}, checksums verified, escapes undone. */
    static List<String> payloads(String wire) {
        List<String> out = new ArrayList<>();
        Matcher m = FRAME.matcher(wire);
        while (m.find()) {
            String body = m.group(1);
            int sum = 0;
            for (char c : body.toCharArray()) {
                sum += c;
            }
            assertEquals(Integer.parseInt(m.group(2), 16), sum & 0xff, "checksum of " + body);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < body.length(); i++) {
                char c = body.charAt(i);
                sb.append(c == '}' ? (char) (body.charAt(++i) ^ 0x20) : c);
            }
            out.add(sb.toString());
        }
        return out;
    }

    private static String le(long v, int bytes) {
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return Hex.encode(b);
    }

    @Test
    void handshakeAdvertisesFeatures() {
        String r = ask("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;xmlRegisters=i386");
        assertEquals("PacketSize=4000;qXfer:features:read+;vContSupported+;swbreak+;hwbreak+;QStartNoAckMode+", r);
        assertEquals("", ask("vMustReplyEmpty"));
        assertEquals("T05thread:1;", ask("?"));
        assertEquals("1", ask("qAttached"));
        assertEquals("", ask("qOffsets"));
        assertEquals("", ask("qTStatus"));
        assertEquals("OK", ask("qSymbol::"));
        assertEquals(1, target.attaches());
    }

    @Test
    void noAckModeStopsAcks() {
        assertEquals("+$OK#9a", raw(frame("QStartNoAckMode")));
        raw("+");   // gdb acks the OK
        assertFalse(handler.ackMode());
        assertEquals("$QC1#c5", raw(frame("qC")));
        assertEquals("", raw("$qC#00"));   // bad checksum: no nack without acks
    }

    @Test
    void badChecksumIsNackedAndNackRetransmits() {
        assertEquals("-", raw("$qC#00"));
        assertEquals("+$QC1#c5", raw(frame("qC")));
        assertEquals("$QC1#c5", raw("-"));
        assertEquals("", raw("+"));
    }

    @Test
    void oversizedPacketIsAckedAndRefused() {
        connect(new FakeTarget(), 256);
        assertEquals("+$E01#a6", raw(frame("M1000,100:" + "00".repeat(256))));
        assertEquals("+$OK#9a", raw(frame("M1000,1:00")));
    }

    @Test
    void targetXmlInChunksIsWellFormedAndComplete() throws Exception {
        for (TargetArch arch : TargetArch.values()) {
            connect(new FakeTarget(arch, 1, false), GdbPacketDecoder.DEFAULT_MAX_PAYLOAD);
            StringBuilder xml = new StringBuilder();
            String r;
            do {
                r = ask("qXfer:features:read:target.xml:" + Integer.toHexString(xml.length()) + ",100");
                assertTrue(r.startsWith("m") || r.startsWith("l"), r);
                assertTrue(r.length() <= 0x101, "chunk too long");
                xml.append(r.substring(1));
            } while (r.startsWith("m"));
            assertEquals(arch.targetXml(), xml.toString());
            assertEquals("l", ask("qXfer:features:read:target.xml:ffff,100"));
            assertEquals("E22", ask("qXfer:features:read:other.xml:0,100"));
            assertEquals("", ask("qXfer:auxv:read::0,100"));

            DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
            dbf.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            Document doc = dbf.newDocumentBuilder()
                    .parse(new ByteArrayInputStream(xml.toString().getBytes(StandardCharsets.UTF_8)));
            assertEquals("none", doc.getElementsByTagName("osabi").item(0).getTextContent());
            assertEquals(arch.gdbArchitecture(), doc.getElementsByTagName("architecture").item(0).getTextContent());
            NodeList regs = doc.getElementsByTagName("reg");
            assertEquals(arch == TargetArch.AMD64 ? 66 : 49, regs.getLength());
            int bits = 0;
            for (int i = 0; i < regs.getLength(); i++) {
                Element e = (Element) regs.item(i);
                assertEquals(Integer.toString(i), e.getAttribute("regnum"));
                bits += Integer.parseInt(e.getAttribute("bitsize"));
            }
            assertEquals(arch.gPacketBytes() * 8, bits);
            Set<String> features = new java.util.HashSet<>();
            NodeList fs = doc.getElementsByTagName("feature");
            for (int i = 0; i < fs.getLength(); i++) {
                features.add(((Element) fs.item(i)).getAttribute("name"));
            }
            assertTrue(features.contains("org.gnu.gdb.i386.core") && features.contains("org.gnu.gdb.i386.sse"));
            assertTrue(features.contains("org.gnu.gdb.i386.segments") && features.contains("org.gnu.gdb.i386.sys"));
            // QEMU's system registers, in both layouts, at the word size of the layout.
            java.util.Map<String, Element> byName = new java.util.HashMap<>();
            for (int i = 0; i < regs.getLength(); i++) {
                byName.put(((Element) regs.item(i)).getAttribute("name"), (Element) regs.item(i));
            }
            for (String n : new String[] {"cr0", "cr2", "cr3", "cr4", "cr8", "efer", "fs_base", "gs_base"}) {
                assertTrue(byName.containsKey(n), n);
                assertEquals(Integer.toString(arch.wordBits()), byName.get(n).getAttribute("bitsize"), n);
            }
            assertEquals(arch == TargetArch.AMD64, byName.containsKey("k_gs_base"));
            String p = arch == TargetArch.AMD64 ? "x64_" : "i386_";
            assertEquals(p + "cr3", byName.get("cr3").getAttribute("type"));
            assertEquals(p + "efer", byName.get("efer").getAttribute("type"));
        }
    }

    @Test
    void registersInGdbOrder() {
        String g = ask("g");
        assertEquals(TargetArch.AMD64.gPacketBytes() * 2, g.length());
        assertEquals(552 + 7 * 8, TargetArch.AMD64.gPacketBytes());
        assertEquals(le(0x1111, 8), g.substring(0, 16));                // rax
        assertEquals(le(0x8000, 8), g.substring(7 * 16, 8 * 16));       // rsp = regnum 7
        assertEquals(le(0x1000, 8), g.substring(16 * 16, 17 * 16));     // rip = regnum 16
        assertEquals(le(0x1000, 8), ask("p10"));
        assertEquals(le(0, 8), ask("p3a"));                              // gs_base
        assertEquals(TargetArch.AMD64.register("cr3").regnum(), 0x3e);
        target.setRegister(1, 0x3e, 0x1234_5000L);
        assertEquals(le(0x1234_5000L, 8), ask("p3e"));                   // cr3
        int end = TargetArch.AMD64.gPacketBytes() * 2;
        assertEquals(le(0x1234_5000L, 8), ask("g").substring(end - 4 * 16, end - 3 * 16));   // cr3 cr4 cr8 efer last
        assertEquals("OK", ask("P3e=" + le(0x2000, 8)));
        assertEquals(0x2000, target.register(1, 0x3e));
        assertEquals("E22", ask("p42"));
        assertEquals("E01", ask("pzz"));
        assertEquals("OK", ask("P10=" + le(0x2000, 8)));
        assertEquals(0x2000, target.pc(1));
        assertEquals("E22", ask("P10=00"));
        assertEquals("E01", ask("P10"));
        // G writes everything back
        String g2 = le(0xabcdef, 8) + ask("g").substring(16);
        assertEquals("OK", ask("G" + g2));
        assertEquals(0xabcdef, target.register(1, 0));
        assertEquals("E22", ask("G00"));
        assertEquals("E01", ask("Gxyz0"));
    }

    @Test
    void i386LayoutUses32BitRegisters() {
        connect(new FakeTarget(TargetArch.I386, 1, false), GdbPacketDecoder.DEFAULT_MAX_PAYLOAD);
        String g = ask("g");
        assertEquals(TargetArch.I386.gPacketBytes() * 2, g.length());
        assertEquals(le(0x1000, 4), g.substring(8 * 8, 9 * 8));          // eip = regnum 8
        assertEquals(le(0x8000, 4), ask("p4"));                          // esp
        assertEquals(TargetArch.I386.register("cr3").regnum(), 0x2d);
        target.setRegister(1, 0x2d, 0x7000);
        assertEquals(le(0x7000, 4), ask("p2d"));                         // cr3, 32-bit
        assertEquals(le(0x7000, 4), ask("g").substring(TargetArch.I386.gPacketBytes() * 2 - 4 * 8,
                TargetArch.I386.gPacketBytes() * 2 - 3 * 8));           // cr3 cr4 cr8 efer end the g packet
        assertEquals("E22", ask("p31"));
    }

    @Test
    void threadsAndThreadSelection() {
        assertEquals("m1,2", ask("qfThreadInfo"));
        assertEquals("l", ask("qsThreadInfo"));
        assertEquals("QC1", ask("qC"));
        assertEquals("OK", ask("Hg2"));
        assertEquals(le(0x2222, 8), ask("p0"));
        assertEquals("QC2", ask("qC"));
        assertEquals("OK", ask("Hgp1.1"));
        assertEquals(le(0x1111, 8), ask("p0"));
        assertEquals("OK", ask("Hg0"));
        assertEquals("OK", ask("Hc-1"));
        assertEquals("E22", ask("Hg3"));
        assertEquals("OK", ask("T2"));
        assertEquals("E22", ask("T3"));
        assertEquals(Hex.encode(bytes("vCPU 1")), ask("qThreadExtraInfo,2"));
    }

    @Test
    void memoryReadsStopAtTheHole() {
        assertEquals("00010203", ask("m1000,4"));
        // 0x2ffe..0x2fff readable, 0x3000 is the hole: partial read
        assertEquals("0000", ask("m2ffe,8"));
        assertEquals("E14", ask("m3000,4"));
        assertEquals("E14", ask("mffffffffffffff00,10"));
        assertEquals("", ask("m1000,0"));
        assertEquals("E01", ask("m1000"));
        assertEquals("E01", ask("mzz,4"));
        // huge lengths are clamped to what fits in a packet, not an error
        assertEquals(0x4000, ask("m0,ffffffffffffffff").length());
    }

    @Test
    void memoryWrites() {
        assertEquals("OK", ask("M2000,3:aabbcc"));
        assertEquals("aabbcc", ask("m2000,3"));
        assertEquals("E14", ask("M2fff,2:0102"));    // second byte in the hole
        assertEquals("01", ask("m2fff,1"));
        assertEquals("E01", ask("M2000,3:aabb"));
        assertEquals("OK", ask("X2000,0:"));           // gdb's probe
        // binary write: payload bytes '#', '$', '}', '*' escaped by gdb; 0x03 and 0x00 raw
        String esc = "}\u0003}\u0004}]}\n\u0003\u0000";
        assertEquals("OK", ask("X2010,6:" + esc));
        assertEquals("23247d2a0300", ask("m2010,6"));
        assertEquals("E01", ask("X2010,7:" + esc));
        assertEquals("E01", ask("X2010,1:}"));
        assertEquals("E14", ask("X3000,1:a"));
    }

    @Test
    void breakpointsAndWatchpoints() {
        assertEquals("OK", ask("Z0,1234,1"));
        assertEquals("OK", ask("Z1,1238,1"));
        assertEquals("E22", ask("Z1,1238,2"));
        assertEquals("OK", ask("Z2,2000,4"));
        assertEquals("OK", ask("Z3,2000,8;X1,0"));
        assertEquals("OK", ask("Z4,2008,1"));
        assertEquals(List.of("SOFTWARE@1234/1", "HARDWARE@1238/1", "WRITE_WATCHPOINT@2000/4",
                "READ_WATCHPOINT@2000/8", "ACCESS_WATCHPOINT@2008/1"), new ArrayList<>(target.breakpoints()));
        assertEquals("OK", ask("z3,2000,8"));
        assertEquals("E22", ask("z3,2000,8"));
        assertEquals("", ask("Z5,1000,1"));
        assertEquals("E01", ask("Z0,1000"));
        assertEquals("E01", ask("Z0,xyz,1"));
        assertEquals("E22", ask("Z0,1000,ffffffffffffffff"));
    }

    @Test
    void vContStepAndContinueWithStopReplies() {
        ask("qSupported:swbreak+;hwbreak+");
        assertEquals("vCont;c;C;s;S", ask("vCont?"));
        // step thread 2 only, thread 1 stays stopped (all-stop vCont with one action)
        assertEquals("+" + frame("T05thread:2;"), raw(frame("vCont;s:2")));
        assertEquals(ResumePlan.builder(2).set(2, ResumePlan.Action.STEP, 0).build(), last());
        assertEquals(0x1001, target.pc(2));
        assertEquals("QC2", ask("qC"));   // the stopped thread becomes current
        // leftmost matching action wins: thread 1 steps, the default continues the rest
        raw(frame("vCont;s:1;c"));
        assertEquals(ResumePlan.builder(2).set(1, ResumePlan.Action.STEP, 0)
                .set(2, ResumePlan.Action.CONTINUE, 0).build(), last());
        // continue into a software breakpoint: swbreak reported because gdb said swbreak+
        ask("Z0,1234,1");
        assertEquals("+" + frame("T05swbreak:;thread:1;"), raw(frame("vCont;c")));
        assertEquals(0x1234, target.pc(1));
        ask("z0,1234,1");
        ask("Z1,1240,1");
        assertEquals("+" + frame("T05hwbreak:;thread:2;"), raw(frame("vCont;c:2")));
        ask("z1,1240,1");
        // signals in C/S actions reach the plan
        ask("Z2,2000,4");
        assertEquals("+" + frame("T05watch:2000;thread:1;"), raw(frame("vCont;C0b:1")));
        assertEquals(11, last().signal(1));
        assertEquals(ResumePlan.Action.STAY, last().action(2));
        ask("z2,2000,4");
        ask("Z3,2004,4");
        assertEquals("+" + frame("T05rwatch:2004;thread:1;"), raw(frame("vCont;c")));
        ask("z3,2004,4");
        ask("Z4,2008,4");
        assertEquals("+" + frame("T05awatch:2008;thread:1;"), raw(frame("vCont;c")));
        ask("z4,2008,4");
        assertEquals("E22", ask("vCont;c:3"));
        assertEquals("E22", ask("vCont;t"));
        assertEquals("E01", ask("vCont;x"));
        assertEquals("E01", ask("vCont;"));
        assertEquals("E01", ask("vCont;C1"));
        assertFalse(target.running());
    }

    @Test
    void swbreakNotReportedUnlessGdbSupportsIt() {
        ask("Z0,1234,1");
        assertEquals("+" + frame("T05thread:1;"), raw(frame("vCont;c")));
    }

    private ResumePlan last() {
        List<ResumePlan> r = target.resumes();
        return r.get(r.size() - 1);
    }

    @Test
    void interruptStopsARunningTargetAndPacketsWhileRunningAreRefused() {
        assertEquals("+", raw(frame("vCont;c")));   // no breakpoints: runs until interrupted
        assertTrue(target.running());
        assertEquals("+" + frame("E16"), raw(frame("g")));
        assertEquals(frame("T02thread:1;"), raw("\u0003"));   // 0x03 is not a packet: no ack
        assertFalse(target.running());
        assertEquals(1, target.interrupts());
        raw("\u0003");   // interrupt while stopped: ignored
        assertEquals(1, target.interrupts());
        assertEquals("T02thread:1;", ask("?"));
    }

    @Test
    void guestExitWhileRunningIsAWReply() {
        assertEquals("+", raw(frame("vCont;c")));
        target.fireStop(org.mmulab.gdbstub.target.StopEvent.exited(3));
        assertEquals(frame("W03"), raw(""));
        assertEquals("W03", ask("?"));
        assertEquals("W03", ask("vCont;c"));   // nothing left to run: answered at once
        assertEquals(1, target.resumes().size());
    }

    @Test
    void signalStopAndTermination() {
        raw(frame("vCont;c"));
        target.fireStop(org.mmulab.gdbstub.target.StopEvent.signal(2, org.mmulab.gdbstub.target.StopEvent.SIGSEGV));
        assertEquals(frame("T0bthread:2;"), raw(""));
        assertEquals("QC2", ask("qC"));
        raw(frame("vCont;c"));
        target.fireStop(org.mmulab.gdbstub.target.StopEvent.terminated(9));
        assertEquals(frame("X09"), raw(""));
    }

    @Test
    void stopEventsOfAnEarlierAttachmentAreDropped() {
        List<String> sent = new ArrayList<>();
        org.mmulab.gdbstub.target.StopListener[] stale = new org.mmulab.gdbstub.target.StopListener[1];
        FakeTarget spy = new FakeTarget();
        GdbSession.Output out = new GdbSession.Output() {
            @Override
            public void send(org.mmulab.gdbstub.codec.Packet packet) {
                sent.add(packet.text());
            }

            @Override
            public void disableAcks() {
            }

            @Override
            public void close() {
                sent.add("<close>");
            }

            @Override
            public void execute(Runnable task) {
                task.run();
            }
        };
        GdbSession session = new GdbSession(new DelegatingTarget(spy) {
            @Override
            public org.mmulab.gdbstub.target.StopEvent attach(org.mmulab.gdbstub.target.StopListener l) {
                stale[0] = l;
                return super.attach(l);
            }
        }, 0x4000, out);
        session.open();
        session.onPacket(org.mmulab.gdbstub.codec.Packet.of("vCont;c"));
        session.onPacket(org.mmulab.gdbstub.codec.Packet.of("vCtrlC"));
        assertEquals(List.of("OK", "T02thread:1;"), sent);
        sent.clear();
        session.onPacket(org.mmulab.gdbstub.codec.Packet.of("D"));
        assertEquals(List.of("OK", "<close>"), sent);
        stale[0].onStop(org.mmulab.gdbstub.target.StopEvent.stepped(1));
        session.onPacket(org.mmulab.gdbstub.codec.Packet.of("?"));
        assertEquals(List.of("OK", "<close>"), sent, "nothing after detach");
    }

    @Test
    void legacyContinueAndStep() {
        assertEquals("+" + frame("T05thread:1;"), raw(frame("s")));
        assertEquals(0x1001, target.pc(1));
        assertEquals("+" + frame("T05thread:1;"), raw(frame("s2000")));
        assertEquals(0x2001, target.pc(1));
        ask("Hc2");
        ask("Z0,1500,1");
        assertEquals("+" + frame("T05thread:1;"), raw(frame("C05")));   // the fake reports the first runner
        assertEquals(ResumePlan.Action.CONTINUE, last().action(1));
        assertEquals(5, last().signal(2));
        assertEquals(0, last().signal(1));
    }

    @Test
    void monitorOutputComesAsOPacketsThenOk() {
        String out = raw(frame("qRcmd," + Hex.encode(bytes("echo hello"))));
        assertEquals(List.of("O" + Hex.encode(bytes("hello\n")), "OK"), payloads(out));
        connect(new FakeTarget(), 256);
        out = raw(frame("qRcmd," + Hex.encode(bytes("big 300"))));
        List<String> p = payloads(out);
        assertEquals(4, p.size());   // 301 bytes in chunks of 127
        StringBuilder text = new StringBuilder();
        for (String s : p.subList(0, 3)) {
            assertTrue(s.startsWith("O") && s.length() <= 256, s);
            text.append(new String(Hex.decode(s.substring(1)), StandardCharsets.UTF_8));
        }
        assertEquals("OK", p.get(3));
        assertEquals(300 + 1, text.length());
        assertEquals("E01", ask("qRcmd,zz"));
        assertEquals("E22", ask("qRcmd," + Hex.encode(bytes("fail"))));   // target threw: E reply, session lives
        assertEquals(1, handler.session().internalErrors());
        assertEquals("QC1", ask("qC"));
    }

    @Test
    void unknownAndMalformedPackets() {
        assertEquals("", ask("qFooBar"));
        assertEquals("", ask("vFile:open:"));
        assertEquals("", ask("!"));
        assertEquals("", ask(""));
        assertEquals("", ask("QNonStop:1"));
        assertEquals("", ask("gx"));
        assertEquals("E01", ask("H"));
        assertEquals("E01", ask("Cx"));
        assertEquals(0, handler.session().internalErrors());
    }

    @Test
    void detachRepliesOkResumesTheTargetAndCloses() {
        ask("Z0,1234,1");
        assertEquals("+$OK#9a", raw(frame("D")));
        assertEquals(1, target.detaches());
        assertTrue(target.running());
        assertTrue(target.breakpoints().isEmpty());
        assertFalse(ch.isOpen());
        ch.finish();
        assertEquals(1, target.detaches());   // closing afterwards does not detach twice
    }

    @Test
    void detachWithPidAndJunk() {
        assertEquals("E01", ask("Dx"));
        assertEquals("E01", ask("D;"));
        assertEquals("", ask("kill"));
        assertEquals(0, target.detaches());
        assertEquals(0, target.kills());
        assertEquals("+$OK#9a", raw(frame("D;a410")));
        assertEquals(1, target.detaches());
    }

    @Test
    void disconnectWhileStoppedLeavesTheMachineStoppedWithoutTheClientsBreakpoints() {
        ask("?");
        assertEquals("OK", ask("Z0,1234,1"));
        ch.close();
        assertEquals(0, target.detaches());
        assertEquals(1, target.releases());
        assertFalse(target.running(), "stopped stays stopped");
        assertTrue(target.breakpoints().isEmpty());
        assertTrue(target.resumes().isEmpty());
    }

    @Test
    void disconnectWhileRunningDetachesAndTheMachineRunsOn() {
        ask("?");
        assertEquals("+", raw(frame("vCont;c")));
        assertTrue(target.running());
        ch.close();
        assertEquals(1, target.detaches());
        assertEquals(0, target.releases());
        assertTrue(target.running());
    }

    @Test
    void aConnectionThatSendsNoPacketNeverTouchesTheMachine() {
        ch.close();   // a port probe: connect, close
        assertEquals(0, target.attaches());
        assertEquals(0, target.detaches());
        assertEquals(0, target.releases());
        connect(new FakeTarget(TargetArch.AMD64, 2, false), GdbPacketDecoder.DEFAULT_MAX_PAYLOAD);
        assertEquals("", raw("+-"));   // acks alone do not attach either
        assertEquals(0, target.attaches());
        assertEquals("T05thread:1;", ask("?"));
        assertEquals(1, target.attaches());
    }

    @Test
    void killHasNoReplyAndCloses() {
        assertEquals("+", raw(frame("k")));
        assertEquals(1, target.kills());
        assertFalse(ch.isOpen());
        assertEquals(0, target.detaches());
    }

    @Test
    void vKillRepliesOk() {
        assertEquals("OK", ask("vKill;a410"));
        assertEquals(1, target.kills());
        assertEquals("X09", ask("?"));
    }
}
