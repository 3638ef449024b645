package org.lesson8.decoding;

/**
 * The token ids a position may take: from (inclusive) to (exclusive). DALL·E keeps text positions in the text ids
 * and image positions in the image ids of its one shared vocabulary.
 */
public record TokenRange(int from, int to) {
    public TokenRange {
        if (from < 0 || to <= from) {
            throw new IllegalArgumentException("a token range needs 0 ≤ from < to, got [" + from + ", " + to + ")");
        }
    }

    /** Every id of a vocabulary of {@code vocab} tokens. */
    public static TokenRange all(int vocab) {
        return new TokenRange(0, vocab);
    }

    public int size() {
        return to - from;
    }

    public boolean contains(int id) {
        return id >= from && id < to;
    }

    @Override
    public String toString() {
        return "ids " + from + "…" + (to - 1);
    }
}
