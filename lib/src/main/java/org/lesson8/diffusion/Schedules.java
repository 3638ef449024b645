package org.lesson8.diffusion;

import java.util.Arrays;
import java.util.TreeSet;
import java.util.function.DoubleUnaryOperator;

/**
 * Noise schedules β_1..β_T (index 0..T-1 here) and timestep respacing, in double precision.
 * <ul>
 *   <li>linear: Ho et al. 2020 (DDPM), β from 1e-4 to 0.02 for T = 1000 (also DiT's schedule); for other T the
 *       end points are scaled by 1000/T, as improved-diffusion does, so that the total noise stays comparable;</li>
 *   <li>cosine: Nichol &amp; Dhariwal 2021 eq. 17, ᾱ(t) = f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2), s = 0.008,
 *       β_t = 1 − ᾱ(t+1)/ᾱ(t) clipped at 0.999 so that the last steps stay finite.</li>
 * </ul>
 */
public final class Schedules {
    private Schedules() {
    }

    /** The linear schedule; for T = 1000: β_0 = 1e-4, β_999 = 0.02. */
    public static double[] linear(int steps) {
        requirePositive(steps);
        double scale = 1000.0 / steps;
        double start = scale * 1e-4, end = scale * 0.02;
        double[] b = new double[steps];
        for (int i = 0; i < steps; i++) b[i] = steps == 1 ? start : start + (end - start) * i / (steps - 1);
        return b;
    }

    /** The cosine schedule with s = 0.008 and β clipped at 0.999. */
    public static double[] cosine(int steps) {
        double s = 0.008;
        return betasForAlphaBar(steps, u -> Math.pow(Math.cos((u + s) / (1 + s) * Math.PI / 2), 2), 0.999);
    }

    /** β_i = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), maxBeta) for a continuous ᾱ on [0, 1]. */
    public static double[] betasForAlphaBar(int steps, DoubleUnaryOperator alphaBar, double maxBeta) {
        requirePositive(steps);
        double[] b = new double[steps];
        for (int i = 0; i < steps; i++) {
            double t1 = (double) i / steps, t2 = (double) (i + 1) / steps;
            b[i] = Math.min(1 - alphaBar.applyAsDouble(t2) / alphaBar.applyAsDouble(t1), maxBeta);
        }
        return b;
    }

    /**
     * {@code count} timesteps out of {@code steps}, evenly spaced including the first and the last
     * (improved-diffusion's space_timesteps with one section: index round(i · (steps−1)/(count−1))).
     */
    public static int[] evenlySpaced(int steps, int count) {
        requirePositive(steps);
        if (count < 1 || count > steps) {
            throw new IllegalArgumentException("cannot take " + count + " steps out of " + steps);
        }
        if (count == 1) return new int[] {0};
        double stride = (double) (steps - 1) / (count - 1);
        TreeSet<Integer> taken = new TreeSet<>();
        double cur = 0;
        for (int i = 0; i < count; i++) {
            taken.add((int) Math.round(cur));
            cur += stride;
        }
        return taken.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The DDIM spacing (improved-diffusion's "ddimN"): 0, k, 2k, ... with the integer stride k that gives exactly
     * {@code count} steps.
     */
    public static int[] ddimStride(int steps, int count) {
        requirePositive(steps);
        for (int stride = 1; stride <= steps; stride++) {
            int n = (steps + stride - 1) / stride;
            if (n == count) {
                int[] r = new int[n];
                for (int i = 0; i < n; i++) r[i] = i * stride;
                return r;
            }
            if (n < count) break;
        }
        throw new IllegalArgumentException("no integer stride gives exactly " + count + " steps out of " + steps);
    }

    static void requirePositive(int steps) {
        if (steps < 1) throw new IllegalArgumentException("the number of steps must be positive, got " + steps);
    }

    static int[] sortedUnique(int[] timesteps, int steps) {
        int[] s = Arrays.stream(timesteps).distinct().sorted().toArray();
        if (s.length == 0) throw new IllegalArgumentException("no timesteps to keep");
        if (s[0] < 0 || s[s.length - 1] >= steps) {
            throw new IllegalArgumentException("kept timesteps must lie in [0, " + steps + "), got "
                    + Arrays.toString(timesteps));
        }
        return s;
    }
}
