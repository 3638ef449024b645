package org.lesson8.eval;

/**
 * The evaluations' refusal of nothing to measure: an accuracy, a mean or a retrieval share over 0 images is 0/0 = NaN,
 * which would travel on into tables and metrics files as if it were a figure.
 */
final class NonEmpty {
    private NonEmpty() {}

    /** Refuses {@code n < 1}: "{@code what}: 0 images to evaluate ... {@code fix}". */
    static void require(long n, String what, String fix) {
        if (n < 1) {
            throw new IllegalArgumentException(what + ": " + n + " images to evaluate, and a figure over no images is undefined "
                    + "(0/0 = NaN): " + fix);
        }
    }
}
