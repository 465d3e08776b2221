package org.mmulab.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code mmulab} command: composition root that wires the emulator, the Java kernel and (later)
 * the gdb stub. Subcommands parse with picocli, so {@code --help}, unknown options and missing
 * parameters are usage errors: one line on stderr (the problem and where help is) and exit status 2.
 */
@Command(name = "mmulab", mixinStandardHelpOptions = true, version = "mmulab 0.1.0",
        description = "Cycle-level x86-64 / PAE MMU emulator running a Java port of Linux mm.")
public final class Mmulab implements Runnable {
    /** Exit status for usage errors and unusable images, as picocli and most Unix tools use. */
    public static final int EXIT_USAGE = 2;
    /** Exit status when mmulab itself fails (sysexits.h EX_SOFTWARE). */
    public static final int EXIT_INTERNAL = 70;
    /** The subcommands, in the order {@code mmulab --help} lists them. */
    static final List<Class<?>> SUBCOMMANDS = List.of(BootCommand.class, BenchCommand.class, ExploreCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (try: mmulab boot IMAGE)");
    }

    public static void main(String[] args) {
        System.exit(execute(args, System.in, System.out, System.err));
    }

    /**
     * Runs the command line with the given streams; the guest's stdin/stdout/stderr are these streams.
     * Returns the exit status (the guest's, for {@code boot}).
     */
    public static int execute(String[] args, InputStream stdin, PrintStream stdout, PrintStream stderr) {
        // picocli's Groovy-closure support looks for a class this program never has, at every start.
        System.setProperty("picocli.disable.closures", "true");
        Factory factory = new Factory(stdin, stdout, stderr);
        CommandLine cl = new CommandLine(new Mmulab(), factory);
        addSubcommands(cl, factory, args);
        CommandLine boot = cl.getSubcommands().get("boot");
        if (boot != null) {
            boot.setStopAtPositional(true); // everything after IMAGE belongs to the guest, even "-t 2" or "--help"
        }
        cl.setOut(new PrintWriter(stdout, true));
        cl.setErr(new PrintWriter(stderr, true));
        // Usage errors (bad option values, unknown options, missing IMAGE): one line, status 2.
        cl.setParameterExceptionHandler((ex, args2) -> {
            String help = ex.getCommandLine() == cl ? "mmulab --help" : "mmulab " + ex.getCommandLine().getCommandName() + " --help";
            stderr.println("mmulab: " + ex.getMessage() + " (see '" + help + "')");
            stderr.flush();
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            stderr.println("mmulab: internal error: " + ex);
            ex.printStackTrace(stderr);
            return EXIT_INTERNAL;
        });
        int status = cl.execute(args);
        stdout.flush();
        stderr.flush();
        return status;
    }

    /**
     * Registers the subcommand the first argument names, or all of them when it names none ({@code --help}, a typo,
     * nothing): picocli reflects over every registered command's options as it builds the command line, and doing
     * that for bench and explore was about a third of a {@code boot hello}'s main thread before the guest ran.
     * A command line holding one subcommand parses, helps and reports errors for it exactly as the full one does.
     */
    static void addSubcommands(CommandLine cl, CommandLine.IFactory factory, String[] args) {
        String first = args.length > 0 ? args[0] : "";
        boolean named = SUBCOMMANDS.stream().anyMatch(c -> nameOf(c).equals(first));
        for (Class<?> c : SUBCOMMANDS) {
            if (!named || nameOf(c).equals(first)) {
                try {
                    cl.addSubcommand(nameOf(c), factory.create(c));
                } catch (Exception e) {
                    throw new IllegalStateException("cannot create the " + nameOf(c) + " command", e);
                }
            }
        }
    }

    private static String nameOf(Class<?> command) {
        return command.getAnnotation(Command.class).name();
    }

    /** Gives subcommands the process streams without globals. */
    record Factory(InputStream in, PrintStream out, PrintStream err) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> cls) throws Exception {
            if (cls == BootCommand.class) {
                return cls.cast(new BootCommand(in, out, err));
            }
            if (cls == BenchCommand.class) {
                return cls.cast(new BenchCommand(out, err));
            }
            if (cls == ExploreCommand.class) {
                return cls.cast(new ExploreCommand(out, err));
            }
            return CommandLine.defaultFactory().create(cls);
        }
    }
}
