package org.lesson8.course;

/** How much a notebook does: FAST for tests (seconds), DEFAULT for the lecture, FULL to reproduce checkpoints. */
public enum Mode {
    FAST, DEFAULT, FULL;

    public static Mode parse(String s) {
        if (s == null || s.isBlank()) return DEFAULT;
        return switch (s.trim().toLowerCase()) {
            case "fast", "test" -> FAST;
            case "default", "lecture", "" -> DEFAULT;
            case "full" -> FULL;
            default -> throw new IllegalArgumentException("LESSON8_MODE must be fast, default or full, not '" + s + "'");
        };
    }

    /** Picks the value for this mode. */
    public <T> T pick(T fast, T dflt, T full) {
        return switch (this) {
            case FAST -> fast;
            case DEFAULT -> dflt;
            case FULL -> full;
        };
    }

    public int pick(int fast, int dflt, int full) {
        return this == FAST ? fast : this == DEFAULT ? dflt : full;
    }

    public double pick(double fast, double dflt, double full) {
        return this == FAST ? fast : this == DEFAULT ? dflt : full;
    }

    /**
     * The wall-clock limit of a live training run, in seconds: none in FAST mode, where only the step count decides
     * how far training goes (a test must not depend on the machine's speed or on what else runs on it); {@code dflt}
     * in the lecture (a few minutes of live training), {@code full} in FULL mode. Print the steps that actually ran.
     */
    public double timeLimit(double dflt, double full) {
        if (!(dflt > 0) || !(full > 0)) {
            throw new IllegalArgumentException("time limits must be positive seconds, got " + dflt + " and " + full);
        }
        return pick(Double.POSITIVE_INFINITY, dflt, full);
    }
}
