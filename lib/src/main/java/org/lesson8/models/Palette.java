package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * A colour palette made by k-means on pixel values, as in Image GPT (Chen et al. 2020, Sec. 3.1:
 * "we create our own 9-bit color palette by clustering (R, G, B) pixel values using k-means with
 * k = 512"). Together with downsampling it turns an image into a short sequence of small integers,
 * the "reduce resolution, then reduce colours like old computers" step of the lecture (slide 8).
 *
 * <p>Colours are sorted by brightness, so index 0 is the darkest. Images are CHW float arrays in
 * [0, 1]; sequences are palette indices in raster order (row by row, left to right).
 */
public final class Palette {
    /** k × C colours in [0, 1] (C = 1 for grey levels, 3 for RGB). */
    private final float[][] colours;
    public final int channels;

    public Palette(float[][] colours) {
        if (colours.length == 0) throw new IllegalArgumentException("a palette needs at least one colour");
        this.channels = colours[0].length;
        this.colours = new float[colours.length][];
        for (int i = 0; i < colours.length; i++) {
            if (colours[i].length != channels) {
                throw new IllegalArgumentException("colour " + i + " has " + colours[i].length + " channels, expected " + channels);
            }
            this.colours[i] = colours[i].clone();
        }
    }

    public int size() {
        return colours.length;
    }

    public float[] colour(int i) {
        checkIndex(i, -1);
        return colours[i].clone();
    }

    // ---------------------------------------------------------------- k-means

    /**
     * k-means (Lloyd's algorithm, k-means++ initialisation) on pixel values {@code samples} (n × C).
     * Deterministic for a given seed. The result is sorted by brightness (mean over channels).
     */
    public static Palette kmeans(float[][] samples, int k, int iterations, long seed) {
        int n = samples.length;
        if (n < k) throw new IllegalArgumentException("k-means with k = " + k + " needs at least k samples, got " + n);
        int c = samples[0].length;
        Random rng = new Random(seed);
        float[][] centres = new float[k][];
        centres[0] = samples[rng.nextInt(n)].clone();
        double[] d2 = new double[n];
        Arrays.fill(d2, Double.MAX_VALUE);
        for (int j = 1; j < k; j++) {                      // k-means++: next centre ∝ squared distance
            double total = 0;
            for (int i = 0; i < n; i++) {
                d2[i] = Math.min(d2[i], dist2(samples[i], centres[j - 1]));
                total += d2[i];
            }
            double r = rng.nextDouble() * total;
            int pick = n - 1;
            for (int i = 0; i < n; i++) {
                r -= d2[i];
                if (r <= 0) {
                    pick = i;
                    break;
                }
            }
            centres[j] = samples[pick].clone();
        }
        int[] assign = new int[n];
        for (int it = 0; it < iterations; it++) {
            double[][] sum = new double[k][c];
            int[] count = new int[k];
            boolean changed = false;
            for (int i = 0; i < n; i++) {
                int a = nearest(centres, samples[i]);
                if (a != assign[i]) changed = true;
                assign[i] = a;
                count[a]++;
                for (int ch = 0; ch < c; ch++) sum[a][ch] += samples[i][ch];
            }
            for (int j = 0; j < k; j++) {
                if (count[j] == 0) continue;                // an empty cluster keeps its centre
                for (int ch = 0; ch < c; ch++) centres[j][ch] = (float) (sum[j][ch] / count[j]);
            }
            if (!changed && it > 0) break;
        }
        Arrays.sort(centres, (a, b) -> Double.compare(brightness(a), brightness(b)));
        return new Palette(centres);
    }

    private static double brightness(float[] c) {
        double s = 0;
        for (float v : c) s += v;
        return s / c.length;
    }

    private static double dist2(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            s += d * d;
        }
        return s;
    }

    private static int nearest(float[][] centres, float[] px) {
        int best = 0;
        double bd = Double.MAX_VALUE;
        for (int j = 0; j < centres.length; j++) {
            double d = dist2(px, centres[j]);
            if (d < bd) {
                bd = d;
                best = j;
            }
        }
        return best;
    }

    /** The palette index of the colour closest to one pixel (C values). */
    public int nearest(float[] pixel) {
        if (pixel.length != channels) {
            throw new IllegalArgumentException("a pixel of this palette has " + channels + " channel(s), got " + pixel.length);
        }
        return nearest(colours, pixel);
    }

    // ---------------------------------------------------------------- encode / decode

    /** Image (C×h×w, values in [0, 1]) → h·w palette indices in raster order. */
    public int[] encode(float[] chw, int h, int w) {
        if (chw.length != channels * h * w) {
            throw new IllegalArgumentException("image has " + chw.length + " values but a " + channels + "×" + h + "×" + w
                    + " image needs " + channels * h * w + ": downsample it to the model's size first");
        }
        int[] out = new int[h * w];
        float[] px = new float[channels];
        for (int p = 0; p < h * w; p++) {
            for (int c = 0; c < channels; c++) px[c] = chw[c * h * w + p];
            out[p] = nearest(colours, px);
        }
        return out;
    }

    /** Palette indices in raster order → image C×h×w. */
    public float[] decode(int[] indices, int h, int w) {
        if (indices.length != h * w) {
            throw new IllegalArgumentException("sequence has " + indices.length + " indices but a " + h + "×" + w
                    + " image needs " + h * w);
        }
        float[] out = new float[channels * h * w];
        for (int p = 0; p < h * w; p++) {
            checkIndex(indices[p], p);
            for (int c = 0; c < channels; c++) out[c * h * w + p] = colours[indices[p]][c];
        }
        return out;
    }

    /** Sequences (n × side²) → images (n, C, side, side) for display. */
    public NDArray decode(NDManager m, int[][] sequences, int side) {
        int per = channels * side * side;
        float[] all = new float[sequences.length * per];
        for (int i = 0; i < sequences.length; i++) System.arraycopy(decode(sequences[i], side, side), 0, all, i * per, per);
        return m.create(all, new Shape(sequences.length, channels, side, side));
    }

    private void checkIndex(int i, int position) {
        if (i < 0 || i >= colours.length) {
            throw new IllegalArgumentException("palette index " + i + (position >= 0 ? " at position " + position : "")
                    + " is out of range: this palette has " + colours.length + " colours (0.." + (colours.length - 1) + ")");
        }
    }

    // ---------------------------------------------------------------- resolution

    /** Block-average downsampling of a C×h×w image to C×side×side (h and w must be multiples of side). */
    public static float[] downsample(float[] chw, int c, int h, int w, int side) {
        if (chw.length != c * h * w) {
            throw new IllegalArgumentException("image has " + chw.length + " values, expected " + c + "×" + h + "×" + w);
        }
        if (h % side != 0 || w % side != 0) {
            throw new IllegalArgumentException(h + "×" + w + " cannot be block-averaged to " + side + "×" + side
                    + ": choose a side that divides the image size (e.g. 14 or 7 for 28×28)");
        }
        int fy = h / side, fx = w / side;
        float[] out = new float[c * side * side];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < side; y++) {
                for (int x = 0; x < side; x++) {
                    float s = 0;
                    for (int dy = 0; dy < fy; dy++) {
                        for (int dx = 0; dx < fx; dx++) s += chw[ch * h * w + (y * fy + dy) * w + x * fx + dx];
                    }
                    out[ch * side * side + y * side + x] = s / (fy * fx);
                }
            }
        }
        return out;
    }

    /** Nearest-neighbour upsampling of a C×h×w image by an integer factor (e.g. 14×14 → 28×28 for the ViT). */
    public static float[] upsample(float[] chw, int c, int h, int w, int factor) {
        if (chw.length != c * h * w) {
            throw new IllegalArgumentException("image has " + chw.length + " values, expected " + c + "×" + h + "×" + w);
        }
        int H = h * factor, W = w * factor;
        float[] out = new float[c * H * W];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) out[ch * H * W + y * W + x] = chw[ch * h * w + (y / factor) * w + x / factor];
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- persistence (a line in the checkpoint's JSON)

    /** JSON array of colours, e.g. {@code [[0.0], [0.25], ...]}. */
    public String toJson() {
        List<String> rows = new ArrayList<>();
        for (float[] c : colours) {
            List<String> v = new ArrayList<>();
            for (float f : c) v.add(String.format(Locale.ROOT, "%.6f", f));
            rows.add("[" + String.join(", ", v) + "]");
        }
        return "[" + String.join(", ", rows) + "]";
    }

    @Override
    public String toString() {
        return "Palette(" + colours.length + " colours × " + channels + " channel(s)): " + toJson();
    }
}
