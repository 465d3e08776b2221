package org.mmulab.gdbstub.protocol;

import org.mmulab.gdbstub.codec.Hex;
import org.mmulab.gdbstub.codec.Packet;
import org.mmulab.gdbstub.target.BreakpointType;
import org.mmulab.gdbstub.target.GdbTarget;
import org.mmulab.gdbstub.target.RegisterDef;
import org.mmulab.gdbstub.target.ResumePlan;
import org.mmulab.gdbstub.target.StopEvent;
import org.mmulab.gdbstub.target.TargetArch;

import java.nio.charset.StandardCharsets;

/**
 * One gdb client's conversation with a {@link GdbTarget}, all-stop mode. Fed decoded packets on one thread (the
 * channel's I/O thread); answers through {@link Output}. Stop events from the target are re-posted onto that
 * thread with {@link Output#execute}. Every packet gets exactly one reply except resumes (reply = the later stop
 * reply) and {@code k}. Unknown packets get the empty reply, malformed ones {@code E01}; nothing throws.
 *
 * <p>Error numbers: {@code E01} malformed packet, {@code E14} memory not accessible (EFAULT),
 * {@code E16} target running (EBUSY), {@code E22} invalid register, thread or value (EINVAL).
 */
public final class GdbSession {
    /** Where a session's replies go. */
    public interface Output {
        /** Sends one packet (the handler frames it, and keeps it for retransmission). */
        void send(Packet packet);

        /** Stops sending and expecting acks, after the reply already sent ({@code QStartNoAckMode}). */
        void disableAcks();

        /** Closes the connection once what was sent is flushed. */
        void close();

        /** Runs {@code task} on the session's thread (stop events arrive on emulator threads). */
        void execute(Runnable task);
    }

    static final String E_MALFORMED = "E01";
    static final String E_MEMORY = "E14";
    static final String E_BUSY = "E16";
    static final String E_INVALID = "E22";

    private final GdbTarget target;
    private final int packetSize;
    private final Output out;
    private final StubLog log;
    /** g, G, p, P, m, M, X. */
    private final GdbDataPackets data;

    private TargetArch arch;
    private int threads;
    private StopEvent lastStop;
    private boolean running;
    private boolean finished;      // detached, killed or disconnected: ignore everything
    private boolean killed;
    private int generation;        // stop events of an earlier attachment are dropped
    private int gThread;           // Hg: 0 = any, -1 = all, else 1..N
    private int cThread;           // Hc
    private boolean swbreak;
    private boolean hwbreak;
    private long internalErrors;
    private long packets;

    public GdbSession(GdbTarget target, int packetSize, Output out) {
        this(target, packetSize, out, StubLog.SILENT);
    }

    public GdbSession(GdbTarget target, int packetSize, Output out, StubLog log) {
        this.target = target;
        this.packetSize = packetSize;
        this.out = out;
        this.log = log;
        this.data = new GdbDataPackets(target, packetSize);
    }

    /** The client connected: attach to (and thereby stop) the target. */
    public void open() {
        arch = target.arch();
        threads = Math.max(1, target.threadCount());
        int gen = generation;
        StopEvent now = target.attach(ev -> post(gen, ev));
        lastStop = now != null ? now : StopEvent.signal(1, StopEvent.SIGTRAP);
    }

    private void post(int gen, StopEvent ev) {
        try {
            out.execute(() -> onStop(gen, ev));
        } catch (RuntimeException e) {
            // The connection's event loop is gone (server closing); the stop has nobody to go to.
            log.log("stop event dropped: " + ev, e);
        }
    }

    /**
     * The connection closed without {@code D} or {@code k}: the machine stays as it was (QEMU {@code -s -S}). If gdb
     * had resumed it, it runs on, detached; if it is stopped ({@code --wait}, attach, breakpoint, step), it stays
     * stopped, without this client's breakpoints, until a debugger attaches again and resumes it.
     */
    public void close() {
        end(running);
    }

    /** The stub is shutting down: detach so that the machine runs on whatever its state. */
    public void closeAndDetach() {
        end(true);
    }

    /** {@link #open()} failed: forget the session without calling the target again. */
    void abandon() {
        finished = true;
        generation++;
    }

    private void end(boolean resume) {
        if (finished) {
            return;
        }
        finished = true;
        generation++;
        if (!killed) {
            try {
                if (resume) {
                    target.detach();
                } else {
                    target.release();
                }
            } catch (RuntimeException e) {
                internalErrors++;
                log.log("target " + (resume ? "detach" : "release") + " failed on disconnect", e);
            }
        }
    }

    public boolean isRunning() {
        return running;
    }

    public boolean isFinished() {
        return finished;
    }

    /** Exceptions other than malformed input (target failures or stub bugs) turned into {@code E} replies. */
    public long internalErrors() {
        return internalErrors;
    }

    public long packetsHandled() {
        return packets;
    }

    public TargetArch arch() {
        return arch;
    }

    /** 0x03 between packets: stop a running target. Ignored when stopped. */
    public void onInterrupt() {
        if (finished || !running) {
            return;
        }
        try {
            target.interrupt();
        } catch (RuntimeException e) {
            internalErrors++;
            log.log("target.interrupt() failed", e);
        }
    }

    void onStop(int gen, StopEvent ev) {
        if (finished || gen != generation) {
            return;
        }
        lastStop = ev;
        if (ev.thread() >= 1 && ev.thread() <= threads) {
            gThread = ev.thread();
            cThread = ev.thread();
        }
        if (running) {
            running = false;
            reply(stopReply(ev));
        }
    }

    /** Handles one intact packet. */
    public void onPacket(Packet p) {
        if (finished) {
            return;
        }
        packets++;
        String s = p.text();
        try {
            if (running && !s.equals("vCtrlC")) {
                reply(E_BUSY);
                return;
            }
            dispatch(p, s);
        } catch (MalformedPacketException | NumberFormatException e) {
            log.log("malformed packet " + p + ": " + e.getMessage());
            reply(E_MALFORMED);
        } catch (InvalidArgumentException e) {
            reply(E_INVALID);
        } catch (UnsupportedOperationException e) {
            reply("");
        } catch (RuntimeException e) {
            internalErrors++;
            log.log("packet " + p + " failed", e);
            reply(E_INVALID);
        }
    }

    private void dispatch(Packet p, String s) {
        if (s.isEmpty()) {
            reply("");
            return;
        }
        switch (s.charAt(0)) {
            case '?' -> reply(s.length() == 1 ? stopReply(lastStop) : "");
            case 'g' -> reply(s.length() == 1 ? data.readRegisters(arch, generalThread()) : "");
            case 'G' -> reply(data.writeRegisters(arch, generalThread(), s.substring(1)));
            case 'p' -> reply(data.readRegister(arch, generalThread(), s.substring(1)));
            case 'P' -> reply(data.writeRegister(arch, generalThread(), s.substring(1)));
            case 'm' -> reply(data.readMemory(generalThread(), s.substring(1)));
            case 'M' -> reply(data.writeMemory(generalThread(), s.substring(1)));
            case 'X' -> reply(data.writeMemoryBinary(generalThread(), p));
            case 'Z', 'z' -> reply(breakpoint(s.charAt(0) == 'Z', s.substring(1)));
            case 'H' -> reply(setThread(s));
            case 'T' -> reply(threadAlive(s.substring(1)));
            case 'c', 'C', 's', 'S' -> legacyResume(s);
            case 'D' -> detach(s);
            case 'k' -> {
                if (s.length() == 1) {
                    kill(false);
                } else {
                    reply("");
                }
            }
            case 'q' -> query(s);
            case 'Q' -> {
                if (s.equals("QStartNoAckMode")) {
                    reply("OK");
                    out.disableAcks();
                } else {
                    reply("");
                }
            }
            case 'v' -> vPacket(s);
            default -> reply("");
        }
    }

    private void reply(String text) {
        out.send(Packet.of(text));
    }

    // ---------------------------------------------------------------- queries

    private void query(String s) {
        if (s.equals("qSupported") || s.startsWith("qSupported:")) {
            reply(supported(s));
        } else if (s.startsWith("qXfer:features:read:")) {
            out.send(features(s.substring("qXfer:features:read:".length())));
        } else if (s.equals("qfThreadInfo")) {
            StringBuilder sb = new StringBuilder("m");
            for (int t = 1; t <= threads; t++) {
                sb.append(t == 1 ? "" : ",").append(Hex.number(t));
            }
            reply(sb.toString());
        } else if (s.equals("qsThreadInfo")) {
            reply("l");
        } else if (s.equals("qC")) {
            reply("QC" + Hex.number(generalThread()));
        } else if (s.equals("qAttached") || s.startsWith("qAttached:")) {
            reply("1");
        } else if (s.startsWith("qSymbol:")) {
            reply("OK");
        } else if (s.startsWith("qThreadExtraInfo,")) {
            int t = PacketArgs.parseThread(s.substring("qThreadExtraInfo,".length()));
            reply(validThread(t) ? Hex.encode(("vCPU " + (t - 1)).getBytes(StandardCharsets.US_ASCII)) : E_INVALID);
        } else if (s.startsWith("qRcmd,")) {
            monitor(s.substring("qRcmd,".length()));
        } else {
            reply(""); // qOffsets, qTStatus, qL, qP, other qXfer objects...: unsupported
        }
    }

    private String supported(String s) {
        if (s.length() > "qSupported:".length()) {
            for (String f : s.substring("qSupported:".length()).split(";")) {
                if (f.equals("swbreak+")) {
                    swbreak = true;
                } else if (f.equals("hwbreak+")) {
                    hwbreak = true;
                }
            }
        }
        return "PacketSize=" + Hex.number(packetSize)
                + ";qXfer:features:read+;vContSupported+;swbreak+;hwbreak+;QStartNoAckMode+";
    }

    private Packet features(String args) {
        int colon = args.lastIndexOf(':');
        if (colon < 0) {
            throw new MalformedPacketException("qXfer without offset");
        }
        String annex = args.substring(0, colon);
        long[] offLen = PacketArgs.pair(args.substring(colon + 1), ',');
        if (!annex.equals("target.xml")) {
            return Packet.of(E_INVALID);
        }
        byte[] xml = arch.targetXml().getBytes(StandardCharsets.UTF_8);
        if (offLen[0] < 0 || offLen[0] >= xml.length) {
            return Packet.of("l");
        }
        int from = (int) offLen[0];
        int to = from + Math.min(xml.length - from, PacketArgs.clamp(offLen[1], Math.max(1, packetSize - 1)));
        byte[] reply = new byte[1 + to - from];
        reply[0] = (byte) (to == xml.length ? 'l' : 'm');
        System.arraycopy(xml, from, reply, 1, to - from);
        return Packet.of(reply);   // binary: the encoder escapes it
    }

    private void monitor(String hex) {
        byte[] cmd = Hex.decode(hex);
        if (cmd == null) {
            throw new MalformedPacketException("qRcmd: bad hex");
        }
        String output = target.monitor(new String(cmd, StandardCharsets.ISO_8859_1));
        byte[] text = output == null ? new byte[0] : output.getBytes(StandardCharsets.UTF_8);
        int chunk = Math.max(1, (packetSize - 1) / 2);
        for (int i = 0; i < text.length; i += chunk) {
            reply("O" + Hex.encode(text, i, Math.min(text.length, i + chunk)));
        }
        reply("OK");
    }

    // ---------------------------------------------------------------- breakpoints

    private String breakpoint(boolean insert, String args) {
        int semi = args.indexOf(';');   // conditions / commands (not advertised): ignored
        String[] f = (semi < 0 ? args : args.substring(0, semi)).split(",", -1);
        if (f.length != 3 || f[0].length() != 1) {
            throw new MalformedPacketException("Z: want type,addr,kind");
        }
        BreakpointType type = BreakpointType.fromProtocol(Hex.digit(f[0].charAt(0)));
        long addr = Hex.parseUnsigned(f[1]);
        long kind = Hex.parseUnsigned(f[2]);
        if (type == null) {
            return "";
        }
        if (kind < 0 || kind > Integer.MAX_VALUE) {
            return E_INVALID;
        }
        boolean ok = insert ? target.insertBreakpoint(type, addr, (int) kind)
                : target.removeBreakpoint(type, addr, (int) kind);
        return ok ? "OK" : E_INVALID;
    }

    // ---------------------------------------------------------------- threads

    private String setThread(String s) {
        if (s.length() < 3) {
            throw new MalformedPacketException("H: want op and thread");
        }
        char op = s.charAt(1);
        int t = PacketArgs.parseThread(s.substring(2));
        if (t > threads) {
            return E_INVALID;
        }
        if (op == 'g') {
            gThread = t;
        } else if (op == 'c') {
            cThread = t;
        } else {
            return "";
        }
        return "OK";
    }

    private String threadAlive(String args) {
        return validThread(PacketArgs.parseThread(args)) ? "OK" : E_INVALID;
    }

    private boolean validThread(int t) {
        return t >= 1 && t <= threads;
    }

    private int defaultThread() {
        return validThread(lastStop.thread()) ? lastStop.thread() : 1;
    }

    private int generalThread() {
        return validThread(gThread) ? gThread : defaultThread();
    }

    private int continueThread() {
        return validThread(cThread) ? cThread : defaultThread();
    }

    // ---------------------------------------------------------------- resume, stop replies

    private void vPacket(String s) {
        if (s.equals("vCont?")) {
            reply("vCont;c;C;s;S");
        } else if (s.startsWith("vCont;")) {
            resume(PacketArgs.vCont(s.substring("vCont;".length()), threads, continueThread()));
        } else if (s.equals("vCtrlC")) {
            reply("OK");
            onInterrupt();
        } else if (s.equals("vKill") || s.startsWith("vKill;")) {
            kill(true);
        } else {
            reply(""); // vMustReplyEmpty and everything else we do not implement
        }
    }

    private void legacyResume(String s) {
        char op = s.charAt(0);
        String rest = s.substring(1);
        int sig = 0;
        if (op == 'C' || op == 'S') {
            int semi = rest.indexOf(';');
            sig = PacketArgs.signalNumber(semi < 0 ? rest : rest.substring(0, semi));
            rest = semi < 0 ? "" : rest.substring(semi + 1);
        }
        int t = continueThread();
        if (!rest.isEmpty()) {
            long addr = Hex.parseUnsigned(rest);
            RegisterDef pc = arch.pc();
            byte[] v = new byte[pc.bytes()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (byte) (addr >>> (8 * i));
            }
            if (!target.writeRegister(t, pc.regnum(), v)) {
                reply(E_INVALID);
                return;
            }
        }
        ResumePlan plan;
        if (op == 'c' || op == 'C') {
            ResumePlan.Builder b = ResumePlan.builder(threads);
            for (int i = 1; i <= threads; i++) {
                b.set(i, ResumePlan.Action.CONTINUE, i == t ? sig : 0);
            }
            plan = b.build();
        } else {
            plan = ResumePlan.builder(threads).set(t, ResumePlan.Action.STEP, sig).build();
        }
        resume(plan);
    }

    private void resume(ResumePlan plan) {
        if (!plan.resumesAny()) {
            reply(E_INVALID);
            return;
        }
        if (lastStop.isFinal()) {
            reply(stopReply(lastStop));   // nothing left to run
            return;
        }
        running = true;
        try {
            target.resume(plan);
        } catch (RuntimeException e) {
            running = false;
            throw e;
        }
    }

    /** The stop reply for {@code ev} (GDB manual, "Stop Reply Packets"). */
    String stopReply(StopEvent ev) {
        return StopReplies.of(ev, swbreak, hwbreak, validThread(ev.thread()) ? ev.thread() : 1);
    }

    // ---------------------------------------------------------------- detach, kill

    private void detach(String s) {
        if (s.length() > 1) {   // only "D" and "D;pid": junk must not end the session
            if (s.charAt(1) != ';') {
                throw new MalformedPacketException("D: junk after D");
            }
            Hex.parseUnsigned(s.substring(2));
        }
        reply("OK");
        finished = true;
        generation++;
        target.detach();
        out.close();
    }

    private void kill(boolean vKill) {
        killed = true;
        lastStop = StopEvent.terminated(StopEvent.SIGKILL);
        target.kill();
        if (vKill) {
            reply("OK");
        } else {
            finished = true;   // 'k' has no reply; the connection ends
            generation++;
            out.close();
        }
    }
}
