package org.lesson8.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Seeded shuffling and mini-batch index lists. */
public final class Batches {
    private Batches() {}

    /** A random permutation of 0..n-1 (Fisher–Yates with the given RNG). */
    public static int[] permutation(int n, Random rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** Consecutive slices of {@code order} of size {@code batch}; the last partial one is kept if {@code keepLast}. */
    public static List<int[]> split(int[] order, int batch, boolean keepLast) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < order.length; i += batch) {
            int len = Math.min(batch, order.length - i);
            if (len < batch && !keepLast) break;
            int[] b = new int[len];
            System.arraycopy(order, i, b, 0, len);
            out.add(b);
        }
        return out;
    }

    /** 0..n-1 in order, in batches (for evaluation). */
    public static List<int[]> sequential(int n, int batch) {
        int[] o = new int[n];
        for (int i = 0; i < n; i++) o[i] = i;
        return split(o, batch, true);
    }

    /** A stratified subset: the first {@code fraction} of each class in a seeded shuffle. */
    public static int[] stratified(int[] labels, int classes, double fraction, Random rng) {
        int[] perm = permutation(labels.length, rng);
        int[] count = new int[classes];
        int[] total = new int[classes];
        for (int l : labels) total[l]++;
        List<Integer> keep = new ArrayList<>();
        for (int i : perm) {
            int l = labels[i];
            if (count[l] < Math.round(total[l] * fraction)) {
                keep.add(i);
                count[l]++;
            }
        }
        return keep.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Endless shuffled mini-batches of indices in [0, n): a fresh permutation each epoch, the incomplete tail of an
     * epoch dropped (the loop every training routine of the course uses).
     */
    public static final class Shuffled {
        private final int n;
        private final Random rng;
        private int[] order;
        private int pos;

        public Shuffled(int n, Random rng) {
            this.n = n;
            this.rng = rng;
            this.order = permutation(n, rng);
        }

        public int[] next(int batch) {
            if (pos + batch > order.length) {
                order = permutation(n, rng);
                pos = 0;
            }
            int[] idx = java.util.Arrays.copyOfRange(order, pos, pos + batch);
            pos += batch;
            return idx;
        }
    }
}
