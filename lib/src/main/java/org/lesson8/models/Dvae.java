package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import org.lesson8.nn.Conv2d;
import org.lesson8.nn.GumbelSoftmax;
import org.lesson8.nn.Module;
import org.lesson8.nn.Nd;

import java.util.Random;

/**
 * DALL·E's discrete VAE (Ramesh et al. 2021, Sec. 2.1, stage 1): an image becomes a grid of tokens from a codebook
 * of K entries, and a decoder turns the tokens back into an image.
 * <pre>
 *   encoder   x (B, 3, S, S) ─ conv3×3 ─ [conv4×4/2 → ReLU] × log2(S/G) ─ res block ─ ReLU → conv1×1 ─ logits (B, K, G, G)
 *   train     z = softmax((logits + Gumbel noise) / τ)                relaxed one-hot per cell (Gumbel-softmax)
 *   infer     z = one-hot(argmax logits)                              tokens (B, G·G) in raster order
 *   decoder   z ─ codebook (conv1×1: K → 2w) ─ res block ─ [ReLU → up×2 → conv3×3] × log2(S/G) ─ ReLU → conv1×1 ─ x̂ logits
 *   loss      Σ_pixels BCE(x, sigmoid x̂)  +  β · Σ_cells KL(q(z|x) ‖ uniform over K)      per image, batch mean
 * </pre>
 * The codebook is the decoder's first layer, as in DALL·E: a 1×1 convolution of the (relaxed) one-hot codes, so a hard
 * token simply selects one column of it. τ is annealed from 1 towards 1/16 and β raised from 0 to 6.6 ({@link Anneal}).
 *
 * <p><b>The course's dVAE</b>: 28×28 images (grey Fashion-MNIST replicated to 3 channels, and the coloured scenes) with
 * values in [0, 1], a 7×7 grid (each token covers 4×4 pixels) and K = 256 codes. 49 image tokens keep the
 * transformer's sequence short enough to train and sample on a CPU (DALL·E has 1024); a coarser grid (4×4 or less)
 * cannot place a small object. K = 256 is enough to describe a 4×4 patch of these simple images, and the dataset fills
 * it: 60 000 images × 49 cells give about 11 000 observations per code, whereas 8192 codes would leave most of them
 * rare or dead and make the transformer's image softmax 32 times wider.
 *
 * <p>Known differences from the paper: the paper's encoder and decoder have four groups of two residual blocks (widths
 * 256 to 2048) and max-pool/nearest-upsample between groups; ours have strided 4×4 convolutions down (as DALLE-pytorch)
 * and one residual block on each side. The paper's likelihood is a logit-Laplace distribution, built so that a
 * likelihood over the bounded interval (0, 1) can be sharp; ours is a Bernoulli (binary cross-entropy on a sigmoid
 * output), the usual bounded-interval likelihood for [0, 1] images such as Fashion-MNIST, with nothing to tune. The
 * paper maps pixels into [ε, 1 − ε] before the encoder; ours sees them as they are.
 */
public class Dvae extends Module {
    /**
     * @param imageSize side S of the square input images
     * @param channels  input channels (3: grey images are replicated)
     * @param grid      side G of the token grid; S/G must be a power of two
     * @param codes     codebook size K
     * @param width     base width w (the grid-level layers use 2w)
     */
    public record Config(String name, int imageSize, int channels, int grid, int codes, int width) {
        public Config {
            int f = grid > 0 ? imageSize / grid : 0;
            if (f < 2 || imageSize % grid != 0 || Integer.bitCount(f) != 1) {
                throw new IllegalArgumentException("the image side " + imageSize + " must be the grid side " + grid
                        + " times a power of two ≥ 2");
            }
            if (codes < 2) throw new IllegalArgumentException("a codebook needs at least 2 codes, got " + codes);
        }

        /** Token positions per image, G·G. */
        public int tokens() {
            return grid * grid;
        }

        /** Stride-2 stages between the image and the grid: log2(S/G). */
        public int stages() {
            return Integer.numberOfTrailingZeros(imageSize / grid);
        }

        /** Parameters from the configuration alone. */
        public long parameterCount() {
            long c = channels, w = width, h = 2L * width;
            long res = conv(h, h, 3) + conv(h, h, 1);
            long encoder = conv(c, w, 3) + conv(w, h, 4) + (stages() - 1) * conv(h, h, 4) + res + conv(h, codes, 1);
            long decoder = conv(codes, h, 1) + res + (stages() - 1) * conv(h, h, 3) + conv(h, w, 3) + conv(w, c, 1);
            return encoder + decoder;
        }

        private static long conv(long in, long out, long k) {
            return in * out * k * k + out;
        }
    }

    /** The course's dVAE: 28×28×3 in [0, 1] → 7×7 tokens of K = 256 codes, base width 32 (0.27 M parameters). */
    public static Config course() {
        return new Config("dVAE-course (28×28 → 7×7, K = 256)", 28, 3, 7, 256, 32);
    }

    /**
     * The paper's input and token sizes (256×256 → 32×32, K = 8192) built with this file's smaller architecture
     * (width 128): the parameter count is that of our design at DALL·E's scale, not the paper's dVAE.
     */
    public static Config paperScale() {
        return new Config("dVAE at DALL·E's scale (256×256 → 32×32, K = 8192)", 256, 3, 32, 8192, 128);
    }

    /**
     * DALL·E's annealing (App. A.2, cosine schedules): the Gumbel-softmax temperature τ goes from {@code tauStart} to
     * {@code tauEnd} over {@code tauSteps} updates, and the KL weight β from 0 to {@code betaEnd} over
     * {@code betaSteps} updates; both then stay at their final values.
     */
    public record Anneal(double tauStart, double tauEnd, int tauSteps, double betaEnd, int betaSteps) {
        public Anneal {
            if (!(tauStart > 0 && tauEnd > 0)) throw new IllegalArgumentException("temperatures must be positive");
            if (tauSteps < 1 || betaSteps < 1) throw new IllegalArgumentException("annealing needs at least one step");
        }

        /** The paper's values: τ 1 → 1/16 over 150 000 updates, β 0 → 6.6 over 5000. */
        public static Anneal paper() {
            return new Anneal(1, 1.0 / 16, 150_000, 6.6, 5_000);
        }

        /** The paper's schedule compressed to a run of {@code steps}: τ over the whole run, β over its first 1/30. */
        public static Anneal scaled(int steps) {
            return new Anneal(1, 1.0 / 16, Math.max(1, steps), 6.6, Math.max(1, steps / 30));
        }

        public double tau(int step) {
            return cosine(tauStart, tauEnd, step, tauSteps);
        }

        public double beta(int step) {
            return cosine(0, betaEnd, step, betaSteps);
        }

        private static double cosine(double from, double to, int step, int steps) {
            double f = Math.min(1, Math.max(0, (double) step / steps));
            return from + (to - from) * (1 - Math.cos(Math.PI * f)) / 2;
        }
    }

    /** Codebook usage over a batch of tokens: counts per code, perplexity exp(H(usage)) (K = all used evenly), dead codes. */
    public record Usage(long[] counts, double perplexity, int deadCodes) {
        public static Usage of(NDArray codes, int k) {
            long[] counts = new long[k];
            long[] v = codes.toType(DataType.INT64, false).toLongArray();
            for (long c : v) {
                if (c < 0 || c >= k) throw new IllegalArgumentException("code " + c + " is outside the codebook 0.." + (k - 1));
                counts[(int) c]++;
            }
            double h = 0;
            int dead = 0;
            for (long n : counts) {
                if (n == 0) dead++;
                else h -= (double) n / v.length * Math.log((double) n / v.length);
            }
            return new Usage(counts, Math.exp(h), dead);
        }
    }

    /**
     * Per-image reconstruction NLL (nats, summed over pixels), KL to the uniform prior (summed over cells), batch loss,
     * and the encoder's logits (B, K, G, G) they came from (e.g. for the codebook usage of a training batch).
     */
    public record Losses(NDArray reconstruction, NDArray kl, NDArray loss, NDArray logits) {}

    /** x + conv1×1(ReLU(conv3×3(ReLU(x)))). */
    static final class ResBlock extends Module {
        private final Conv2d conv1;
        private final Conv2d conv2;

        ResBlock(NDManager m, Random rng, int c) {
            super(m);
            conv1 = child("conv1", new Conv2d(m, rng, c, c, 3, 1, 1));
            conv2 = child("conv2", new Conv2d(m, rng, c, c, 1, 1, 0));
        }

        NDArray forward(NDArray x) {
            return x.add(conv2.forward(Activation.relu(conv1.forward(Activation.relu(x)))));
        }
    }

    public final Config config;
    private final Conv2d encIn;
    private final Conv2d[] down;
    private final ResBlock encRes;
    private final Conv2d encOut;
    public final Conv2d codebook;
    private final ResBlock decRes;
    private final Conv2d[] up;
    private final Conv2d decOut;

    public Dvae(NDManager m, Config c, long seed) {
        super(m);
        this.config = c;
        Random rng = new Random(seed);
        int w = c.width(), h = 2 * c.width(), n = c.stages();
        encIn = child("encoder.conv_in", new Conv2d(m, rng, c.channels(), w, 3, 1, 1));
        down = new Conv2d[n];
        for (int i = 0; i < n; i++) down[i] = child("encoder.down" + i, new Conv2d(m, rng, i == 0 ? w : h, h, 4, 2, 1));
        encRes = child("encoder.res", new ResBlock(m, rng, h));
        encOut = child("encoder.conv_out", new Conv2d(m, rng, h, c.codes(), 1, 1, 0));
        codebook = child("decoder.codebook", new Conv2d(m, rng, c.codes(), h, 1, 1, 0));
        decRes = child("decoder.res", new ResBlock(m, rng, h));
        up = new Conv2d[n];
        for (int i = 0; i < n; i++) up[i] = child("decoder.up" + i, new Conv2d(m, rng, h, i == n - 1 ? w : h, 3, 1, 1));
        decOut = child("decoder.conv_out", new Conv2d(m, rng, w, c.channels(), 1, 1, 0));
    }

    // ---------------------------------------------------------------- encoder and decoder

    /** q(z | x) as logits over the K codes of every cell: (B, K, G, G). */
    public NDArray logits(NDArray images) {
        checkImages(images);
        return encoderLogits(images);
    }

    private NDArray encoderLogits(NDArray x) {
        NDArray h = encIn.forward(x);
        for (Conv2d d : down) h = Activation.relu(d.forward(h));
        return encOut.forward(Activation.relu(encRes.forward(h)));
    }

    /** Pixel logits (B, C, S, S) of (relaxed) one-hot codes z (B, K, G, G). */
    private NDArray decoderLogits(NDArray z) {
        NDArray h = decRes.forward(codebook.forward(z));
        for (Conv2d u : up) h = u.forward(Conv2d.upsample2(Activation.relu(h)));
        return decOut.forward(Activation.relu(h));
    }

    /** Hard tokens: argmax of q(z | x) per cell, int64 (B, G·G) in raster order (row by row). */
    public NDArray encode(NDArray images) {
        checkImages(images);
        return Vae.chunked(images, x -> encoderLogits(x).argMax(1).toType(DataType.INT64, false)
                .reshape(x.getShape().get(0), config.tokens()));
    }

    /** Images (B, C, S, S) in [0, 1] decoded from tokens (B, G·G). */
    public NDArray decode(NDArray codes) {
        checkCodes(codes);
        int k = config.codes(), g = config.grid();
        return Vae.chunked(codes, c -> Activation.sigmoid(decoderLogits(c.oneHot(k).toType(DataType.FLOAT32, false)
                .transpose(0, 2, 1).reshape(c.getShape().get(0), k, g, g))));
    }

    /** decode(encode(images)): what the transformer's tokens can show of an image. */
    public NDArray reconstruct(NDArray images) {
        return decode(encode(images));
    }

    // ---------------------------------------------------------------- training

    /**
     * The training loss with the Gumbel-softmax relaxation at temperature {@code tau} and KL weight {@code beta}
     * (see {@link Anneal}); the noise is drawn from {@code rng}.
     */
    public Losses losses(NDArray images, double tau, double beta, Random rng) {
        NDArray logits = logits(images);
        NDArray z = GumbelSoftmax.sample(logits, 1, tau, false, rng);
        NDArray rec = bernoulliNll(decoderLogits(z), images);
        NDArray kl = klToUniform(logits);
        return new Losses(rec, kl, rec.add(Nd.mul(kl, beta)).mean(), logits);
    }

    /** −log p(x | x̂) of a Bernoulli with logits x̂, summed over pixels: (B,). Stable form max(l, 0) − l·x + log(1 + e^{−|l|}). */
    static NDArray bernoulliNll(NDArray pixelLogits, NDArray images) {
        NDArray l = pixelLogits;
        NDArray nll = Activation.relu(l).sub(l.mul(images)).add(l.abs().neg().exp().add(1).log());
        return nll.sum(new int[] {1, 2, 3});
    }

    /** Σ_cells KL(softmax(logits) ‖ uniform over K) = Σ_cells (Σ_k q_k log q_k + log K), per image: (B,). */
    public static NDArray klToUniform(NDArray logits) {
        Shape s = logits.getShape();
        NDArray logq = logits.logSoftmax(1);
        long cells = s.get(2) * s.get(3);
        return logq.exp().mul(logq).sum(new int[] {1, 2, 3}).add(cells * Math.log(s.get(1)));
    }

    // ---------------------------------------------------------------- input checks

    private void checkImages(NDArray images) {
        Shape s = images.getShape();
        int c = config.channels(), size = config.imageSize();
        if (s.dimension() != 4 || s.get(1) != c || s.get(2) != size || s.get(3) != size) {
            String hint = s.dimension() == 4 && s.get(1) == 1 && c == 3
                    ? ": replicate grey images to 3 channels first (Channels.greyToRgb)"
                    : ": resize the images to " + size + "×" + size;
            throw new IllegalArgumentException("dVAE: expected images of shape (batch, " + c + ", " + size + ", " + size
                    + ") with values in [0, 1] but got " + s + hint);
        }
        float min = images.min().getFloat(), max = images.max().getFloat();
        if (min < -1e-4f || max > 1 + 1e-4f) {
            throw new IllegalArgumentException("dVAE: pixel values must lie in [0, 1] but range over [" + min + ", " + max
                    + "]: map images in [-1, 1] with (x + 1) / 2");
        }
    }

    private void checkCodes(NDArray codes) {
        Shape s = codes.getShape();
        if (s.dimension() != 2 || s.get(1) != config.tokens()) {
            throw new IllegalArgumentException("dVAE: expected tokens of shape (batch, " + config.tokens() + ") = "
                    + config.grid() + "×" + config.grid() + " in raster order but got " + s);
        }
        if (codes.getDataType() != DataType.INT64 && codes.getDataType() != DataType.INT32) {
            throw new IllegalArgumentException("dVAE: tokens must be integers (int64), got " + codes.getDataType());
        }
        long min = codes.min().toType(DataType.INT64, false).getLong();
        long max = codes.max().toType(DataType.INT64, false).getLong();
        if (min < 0 || max >= config.codes()) {
            throw new IllegalArgumentException("dVAE: token " + (min < 0 ? min : max) + " is outside the codebook 0.."
                    + (config.codes() - 1) + " (image ids of the transformer must first lose their offset)");
        }
    }
}
