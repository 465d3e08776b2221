package org.mmulab.kernel;

import java.io.IOException;

/** Test access to {@link ExecFile}'s package-private error descriptions. */
public final class ExecFileAccess {
    private ExecFileAccess() {
    }

    public static String describe(IOException e) {
        return ExecFile.describe(e);
    }
}
