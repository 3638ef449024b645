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
}
