package org.mmulab.emulator.debug;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Monitor commands ({@code monitor walk $pc} in gdb). The emulator registers its own; the kernel adds
 * more (vmas, ptdump). Output is text; a failing command reports its error as text, never throws.
 */
public final class MonitorRegistry {
    /** A monitor command: receives the words after its name. */
    @FunctionalInterface
    public interface Command {
        void run(String[] args, PrintWriter out) throws Exception;
    }

    private record Entry(String help, Command command) {
    }

    private final Map<String, Entry> commands = new ConcurrentSkipListMap<>();

    public MonitorRegistry() {
        register("help", "list monitor commands", (args, out) -> commands.forEach(
                (name, e) -> out.printf("%-8s %s%n", name, e.help())));
    }

    public void register(String name, String help, Command command) {
        commands.put(name, new Entry(help, command));
    }

    public boolean has(String name) {
        return commands.containsKey(name);
    }

    /** Runs a command line and returns its output (ending with a newline when non-empty). */
    public String execute(String line) {
        String[] words = line.trim().split("\\s+");
        StringWriter buf = new StringWriter();
        PrintWriter out = new PrintWriter(buf);
        Entry e = words[0].isEmpty() ? commands.get("help") : commands.get(words[0]);
        if (e == null) {
            out.println("unknown monitor command '" + words[0] + "' (try: monitor help)");
        } else {
            String[] args = new String[Math.max(0, words.length - 1)];
            System.arraycopy(words, 1, args, 0, args.length);
            try {
                e.command().run(args, out);
            } catch (Exception ex) {
                out.println(words[0] + ": " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            }
        }
        out.flush();
        return buf.toString();
    }
}
