package org.lesson8.lessons;

import org.lesson8.course.Interruption;
import org.lesson8.eval.LinearProbe;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lesson8.data.Batches;
import org.lesson8.data.FashionMnist;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.eval.LinearProbe;
import org.lesson8.models.Classifier;
import org.lesson8.models.ImageGpt;
import org.lesson8.models.Palette;
import org.lesson8.train.TrainLoop;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * The Image GPT experiments shared by the checkpoint command and notebook 02: training on encoded
 * Fashion-MNIST, test NLL, linear probes, completions judged by a classifier, and the timing of cached
 * against uncached sampling.
 */
public final class ImageGptLesson {
    private ImageGptLesson() {}

    /** The training recipe of the checkpoint and of the live runs: batches of 32 images, AdamW 2e-3, decay 0.01. */
    public static Recipe recipe() {
        return new Recipe(32, 2e-3f, 0.01f, 100, 1f);
    }

    /**
     * A grey palette for Fashion-MNIST: k-means on the pixels of {@code images} training images,
     * each downsampled to {@code side}×{@code side} first (the model sees downsampled images).
     */
    public static Palette fashionPalette(FashionMnist.Split train, int k, int side, int images, long seed) {
        Random rng = new Random(seed);
        int per = side * side;
        float[][] samples = new float[images * per][];
        for (int j = 0; j < images; j++) {
            float[] small = Palette.downsample(train.image(rng.nextInt(train.size)), 1, FashionMnist.SIZE, FashionMnist.SIZE, side);
            for (int p = 0; p < per; p++) samples[j * per + p] = new float[] {small[p]};
        }
        return Palette.kmeans(samples, k, 50, seed);
    }

    /** Every image of a Fashion-MNIST split, downsampled to side×side and encoded: n·side² bytes. */
    public static byte[] encodeFashion(Palette palette, FashionMnist.Split split, int side) {
        if (palette.channels != 1) throw new IllegalArgumentException("Fashion-MNIST is grey: it needs a 1-channel palette");
        int per = side * side;
        byte[] out = new byte[split.size * per];
        for (int i = 0; i < split.size; i++) {
            int[] code = palette.encode(Palette.downsample(split.image(i), 1, FashionMnist.SIZE, FashionMnist.SIZE, side), side, side);
            for (int p = 0; p < per; p++) out[i * per + p] = (byte) code[p];
        }
        return out;
    }

    /** Trains on the code table (count × side² bytes) with the model's objective; stops at steps or seconds. */
    public static TrainLoop train(ImageGpt model, byte[] codes, Recipe r, int steps, double seconds, long seed,
                                  MetricsLog log, IntConsumer onStep) {
        int n = model.config.length();
        int count = codes.length / n;
        Random rng = new Random(seed);
        TrainLoop loop = r.loop(model, steps, log);
        Batches.Shuffled batches = new Batches.Shuffled(count, rng);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            int[] idx = batches.next(r.batch());
            NDArray x = ImageGptLesson.batch(sub, codes, n, idx);
            NDArray mask = null;
            if (!model.causal()) {
                mask = sub.create(ImageGpt.bertMask(rng, idx.length, n, ImageGpt.MASK_RATE), new Shape(idx.length, n));
            }
            NDArray loss = model.loss(x, mask);
            metrics.put("bits_per_dim", ImageGpt.bitsPerDim(loss.getFloat()));
            return loss;
        }, onStep);
        return loop;
    }

    /** Mean test NLL in nats per position of the first {@code limit} sequences (AR models). */
    public static double nll(ImageGpt model, NDManager parent, byte[] codes, int limit) {
        int n = model.config.length();
        int count = Math.min(limit, codes.length / n);
        double sum = 0;
        for (int[] idx : Batches.sequential(count, 16)) {
            Interruption.check("evaluation", idx[0], count, () -> "no result was returned");
            sum += TrainLoop.noGrad(m -> (double) model.nll(ImageGptLesson.batch(m, codes, n, idx)).sum().getFloat(), parent);
        }
        return sum / count;
    }

    /** A linear probe on frozen features of the model (or on raw palette pixels when {@code model} is null). */
    public static LinearProbe.Result probe(ImageGpt model, Palette palette, NDManager parent, byte[] trainCodes, int[] trainLabels,
                                           byte[] testCodes, int[] testLabels, int nTrain, int nTest, int steps, long seed) {
        int n = trainCodes.length / trainLabels.length;
        int[] tr = first(Math.min(nTrain, trainLabels.length));
        int[] te = first(Math.min(nTest, testLabels.length));
        float[][] xTr, xTe;
        if (model != null) {
            xTr = features(model, parent, trainCodes, tr, 16);
            xTe = features(model, parent, testCodes, te, 16);
        } else {
            xTr = pixels(palette, trainCodes, n, tr);
            xTe = pixels(palette, testCodes, n, te);
        }
        return LinearProbe.fit(parent, xTr, Arrays.copyOf(trainLabels, tr.length), xTe, Arrays.copyOf(testLabels, te.length),
                10, steps, seed);
    }

    /**
     * The probe at every block: element l − 1 is the test result of a linear probe on block l's average-pooled
     * output (one forward pass per chunk gives all layers), trained as {@link #probe} is.
     */
    public static LinearProbe.Result[] probeLayers(ImageGpt model, NDManager parent, byte[] trainCodes, int[] trainLabels,
                                                   byte[] testCodes, int[] testLabels, int nTrain, int nTest, int steps, long seed) {
        int[] tr = first(Math.min(nTrain, trainLabels.length));
        int[] te = first(Math.min(nTest, testLabels.length));
        float[][][] fTr = layerFeatures(model, parent, trainCodes, tr, 16);
        float[][][] fTe = layerFeatures(model, parent, testCodes, te, 16);
        LinearProbe.Result[] out = new LinearProbe.Result[fTr.length];
        for (int l = 0; l < fTr.length; l++) {
            out[l] = LinearProbe.fit(parent, fTr[l], Arrays.copyOf(trainLabels, tr.length), fTe[l], Arrays.copyOf(testLabels, te.length),
                    10, steps, seed);
        }
        return out;
    }

    /** Features of every block for many sequences in chunks, without gradients: depth × n × D. */
    public static float[][][] layerFeatures(ImageGpt model, NDManager parent, byte[] codes, int[] idx, int chunk) {
        return chunked(model, parent, codes, idx, chunk, model.config.depth(), model::layerFeatures);
    }

    /**
     * Runs {@code perBatch} (k arrays of (B, D) per batch of sequences) over {@code idx} in chunks without gradients and
     * gathers the rows: k × n × D.
     */
    private static float[][][] chunked(ImageGpt model, NDManager parent, byte[] codes, int[] idx, int chunk, int k,
                                       java.util.function.Function<NDArray, List<NDArray>> perBatch) {
        int n = model.config.length();
        float[][][] out = new float[k][idx.length][];
        for (int start = 0; start < idx.length; start += chunk) {
            Interruption.check("feature extraction", start, idx.length, () -> "no result was returned");
            int[] part = Arrays.copyOfRange(idx, start, Math.min(idx.length, start + chunk));
            int s0 = start;
            TrainLoop.noGrad(m -> {
                List<NDArray> outputs = perBatch.apply(ImageGptLesson.batch(m, codes, n, part));
                for (int l = 0; l < k; l++) {
                    float[] f = outputs.get(l).toFloatArray();
                    int d = f.length / part.length;
                    for (int j = 0; j < part.length; j++) out[l][s0 + j] = Arrays.copyOfRange(f, j * d, (j + 1) * d);
                }
                return null;
            }, parent);
        }
        return out;
    }

    private static int[] first(int k) {
        int[] a = new int[k];
        for (int i = 0; i < k; i++) a[i] = i;
        return a;
    }

    /**
     * Completions of the top half: for each of the first {@code count} test images, {@code perImage}
     * samples of the bottom half. Returns the sequences (count·perImage × side²), image-major.
     */
    public static int[][] completeTopHalf(ImageGpt model, NDManager parent, byte[] codes, int[] images, int perImage,
                                          double temperature, int topK, long seed) {
        int n = model.config.length();
        int half = model.config.side() / 2 * model.config.side();
        int[][] prefixes = new int[images.length * perImage][];
        for (int i = 0; i < images.length; i++) {
            int[] seq = ImageGptLesson.sequences(codes, n, new int[] {images[i]})[0];
            for (int j = 0; j < perImage; j++) prefixes[i * perImage + j] = Arrays.copyOf(seq, half);
        }
        return model.sample(parent, prefixes, temperature, topK, seed, true);
    }

    /** Sequences → (k, 1, 28, 28) images for the 28×28 ViT: decode with the palette, upsample nearest. */
    public static NDArray toVitImages(NDManager m, Palette palette, int[][] seqs, int side) {
        int factor = FashionMnist.SIZE / side;
        int per = FashionMnist.PIXELS;
        float[] all = new float[seqs.length * per];
        for (int i = 0; i < seqs.length; i++) {
            float[] up = Palette.upsample(palette.decode(seqs[i], side, side), 1, side, side, factor);
            System.arraycopy(up, 0, all, i * per, per);
        }
        return m.create(all, new Shape(seqs.length, 1, FashionMnist.SIZE, FashionMnist.SIZE));
    }

    /** Predicted classes of sequences by a classifier of 28×28 images. */
    public static int[] classify(Classifier clf, NDManager parent, Palette palette, int[][] seqs, int side) {
        int[] out = new int[seqs.length];
        for (int[] idx : Batches.sequential(seqs.length, 250)) {
            Interruption.check("judging", idx[0], seqs.length, () -> "no result was returned");
            int[][] part = new int[idx.length][];
            for (int j = 0; j < idx.length; j++) part[j] = seqs[idx[j]];
            long[] p = TrainLoop.noGrad(m -> clf.logits(toVitImages(m, palette, part, side)).argMax(1).toLongArray(), parent);
            for (int j = 0; j < idx.length; j++) out[idx[j]] = (int) p[j];
        }
        return out;
    }

    /**
     * Sampling {@code batch} full images without a prefix, with and without the key/value cache (same seed): the
     * seconds each took (a benchmark figure: it depends on the machine and on what else runs on it), the positions the
     * transformer computed each way (the work the cache saves, counted: it does not depend on the machine) and
     * whether the samples are the same.
     */
    public record Timing(double cachedSeconds, double uncachedSeconds, long cachedPositions, long uncachedPositions, boolean identical) {
        public double speedup() {
            return uncachedSeconds / cachedSeconds;
        }

        /** Positions computed without the cache per position computed with it: (n + 1)/2 for sequences of n from sos. */
        public double workRatio() {
            return uncachedPositions / (double) cachedPositions;
        }
    }

    public static Timing benchmark(ImageGpt model, NDManager parent, int batch, long seed) {
        int n = model.config.length();
        model.sample(parent, new int[batch][n - 16], 1.0, 0, seed, true);    // warm-up of both paths
        model.sample(parent, new int[batch][n - 4], 1.0, 0, seed, false);
        long p0 = model.positionsComputed();
        long t0 = System.nanoTime();
        int[][] a = model.sample(parent, new int[batch][0], 1.0, 0, seed, true);
        long t1 = System.nanoTime();
        long p1 = model.positionsComputed();
        int[][] b = model.sample(parent, new int[batch][0], 1.0, 0, seed, false);
        long t2 = System.nanoTime();
        long p2 = model.positionsComputed();
        return new Timing((t1 - t0) / 1e9, (t2 - t1) / 1e9, p1 - p0, p2 - p1, Arrays.deepEquals(a, b));
    }

    /** Features of many sequences in chunks, without gradients: n × D. */
    public static float[][] features(ImageGpt model, NDManager parent, byte[] codes, int[] idx, int chunk) {
        return chunked(model, parent, codes, idx, chunk, 1, x -> List.of(model.features(x)))[0];
    }
    /** Raw-pixel features: the palette colours of each position (what the model sees), n × side². */
    public static float[][] pixels(Palette palette, byte[] codes, int n, int[] idx) {
        float[][] out = new float[idx.length][n * palette.channels];
        for (int j = 0; j < idx.length; j++) {
            for (int t = 0; t < n; t++) {
                float[] c = palette.colour(codes[idx[j] * n + t]);
                for (int ch = 0; ch < c.length; ch++) out[j][ch * n + t] = c[ch];
            }
        }
        return out;
    }

    /**
     * The independent-position baseline: a palette histogram per position from the training sequences
     * (Laplace smoothing +1), i.e. p(x) = Π_t p_t(x_t). Returns probabilities n × V.
     */
    public static double[][] positionHistogram(byte[] codes, int n, int vocab) {
        int count = codes.length / n;
        double[][] h = new double[n][vocab];
        for (double[] row : h) Arrays.fill(row, 1.0);
        for (int i = 0; i < count; i++) for (int t = 0; t < n; t++) h[t][codes[i * n + t]] += 1;
        for (double[] row : h) {
            double s = 0;
            for (double d : row) s += d;
            for (int j = 0; j < vocab; j++) row[j] /= s;
        }
        return h;
    }

    /** Mean NLL (nats per position) of sequences under the independent-position baseline. */
    public static double independentNll(double[][] hist, byte[] codes, int n) {
        int count = codes.length / n;
        double s = 0;
        for (int i = 0; i < count; i++) for (int t = 0; t < n; t++) s -= Math.log(hist[t][codes[i * n + t]]);
        return s / ((double) count * n);
    }

    /** Sequences idx of a code table (count × n bytes) as an int NDArray (B, n). */
    public static NDArray batch(NDManager m, byte[] codes, int n, int[] idx) {
        int[] v = new int[idx.length * n];
        for (int j = 0; j < idx.length; j++) for (int t = 0; t < n; t++) v[j * n + t] = codes[idx[j] * n + t];
        return m.create(v, new Shape(idx.length, n));
    }

    /** Sequences idx of a code table as int[][] (for sampling and display). */
    public static int[][] sequences(byte[] codes, int n, int[] idx) {
        int[][] out = new int[idx.length][n];
        for (int j = 0; j < idx.length; j++) for (int t = 0; t < n; t++) out[j][t] = codes[idx[j] * n + t];
        return out;
    }
}
