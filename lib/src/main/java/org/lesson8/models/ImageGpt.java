package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.lesson8.decoding.CausalDecoder;
import org.lesson8.decoding.DecoderCache;
import org.lesson8.decoding.Sampler;
import org.lesson8.decoding.Sampling;
import org.lesson8.nn.LayerNorm;
import org.lesson8.nn.LearnedPositionEmbedding;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Module;
import org.lesson8.nn.Nd;
import org.lesson8.nn.TokenEmbedding;
import org.lesson8.nn.TransformerBlock;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.lesson8.nn.Init.normal;

/**
 * Image GPT (Chen et al. 2020, "Generative Pretraining from Pixels", Fig. 1): a GPT-2 decoder over
 * the palette indices of a downsampled image in raster order.
 * <pre>
 *   AR:    h0 = [sos ; E x_0 … E x_{n-2}] + P          (B, n, D)   sos learned, P learned
 *          h_l = block_l(h_{l-1}, causal)                          pre-LN GPT-2 blocks, l = 1..L
 *          p(x_t | x_{&lt;t}) = softmax(W LN(h_L))_t                   untied output layer W (V × D)
 *          L_AR   = E[ −log p(x_t | x_{&lt;t}) ]
 *   BERT:  h0 = (1 − m) ⊙ E x + P,   m_t ~ Bernoulli(0.15)       masked positions' embeddings zeroed
 *          no causal mask;  L_BERT = E_{t: m_t = 1}[ −log p(x_t | x_unmasked) ]
 * </pre>
 * Linear-probe features are the average over positions of a middle layer's output h_l (Sec. 3.4).
 * Sampling is autoregressive with temperature and top-k; with a key/value cache every new pixel
 * costs one position instead of the whole prefix.
 */
public class ImageGpt extends Module {
    public enum Objective { AUTOREGRESSIVE, BERT }

    /** BERT objective: fraction of positions masked (Devlin et al. 2019; iGPT Sec. 3.2). */
    public static final double MASK_RATE = 0.15;

    /**
     * @param side   images are side×side palette indices, so sequences have side² positions
     * @param vocab  palette size
     * @param mlp    hidden width of the MLP
     * @param probe  the block whose output is pooled for the linear probe (1-based; depth/2 = a middle layer)
     */
    public record Config(String name, int side, int vocab, int dim, int depth, int heads, int mlp, int probe,
                         Objective objective) {
        public int length() {
            return side * side;
        }

        public Config withObjective(Objective o) {
            return new Config(name, side, vocab, dim, depth, heads, mlp, probe, o);
        }

        /** Parameters from the configuration alone. */
        public long parameterCount() {
            long d = dim;
            long block = 4 * d + (4 * d * d + 4 * d) + (d * mlp + mlp + (long) mlp * d + d);
            return d + (long) vocab * d + (long) length() * d + depth * block + 2 * d + d * vocab;
        }
    }

    /**
     * The course's iGPT for Fashion-MNIST: 14×14 (2×2 block average of 28×28, 196 positions), 8 grey
     * levels, width 128, 4 blocks, 4 heads; the probe reads block 2 of 4.
     */
    public static Config fashion() {
        return new Config("iGPT-course (Fashion-MNIST 14×14, 8 grey levels)", 14, 8, 128, 4, 4, 512, 2, Objective.AUTOREGRESSIVE);
    }

    public final Config config;
    public final NDArray sos;
    public final TokenEmbedding tokenEmbed;
    public final LearnedPositionEmbedding pos;
    public final List<TransformerBlock> blocks = new ArrayList<>();
    public final LayerNorm norm;
    public final Linear head;

    public ImageGpt(NDManager m, Config c, long seed) {
        super(m);
        if (c.probe() < 1 || c.probe() > c.depth()) {
            throw new IllegalArgumentException("probe layer " + c.probe() + " must be between 1 and depth " + c.depth());
        }
        this.config = c;
        Random rng = new Random(seed);
        sos = param("sos", normal(m, rng, new Shape(1, 1, c.dim()), 0.02), false);
        tokenEmbed = child("wte", new TokenEmbedding(m, rng, c.vocab(), c.dim()));
        pos = child("wpe", new LearnedPositionEmbedding(m, rng, c.length(), c.dim()));
        for (int i = 0; i < c.depth(); i++) {
            blocks.add(child("blocks." + i, new TransformerBlock(m, rng, c.dim(), c.heads(), c.mlp())));
        }
        norm = child("ln_f", new LayerNorm(m, c.dim()));
        head = child("head", new Linear(m, rng, c.dim(), c.vocab(), false));   // untied from wte
        head.weight.set(normal(m, rng, head.weight.getShape(), 0.02).toFloatArray());   // GPT-2: N(0, 0.02²)
    }

    public boolean causal() {
        return config.objective() == Objective.AUTOREGRESSIVE;
    }

    /** Positions (rows of the batch × positions) that have passed through the transformer blocks so far. */
    private long positionsComputed;

    /**
     * The work done so far, counted rather than timed: every position of every sequence that has gone through the
     * transformer blocks (training, evaluation and sampling alike). Sampling one sequence of n positions from sos costs
     * n positions with the key/value cache and 1 + 2 + … + n = n(n + 1)/2 without it.
     */
    public long positionsComputed() {
        return positionsComputed;
    }

    // ---------------------------------------------------------------- input checks

    /** Checks a batch of sequences (B, T) of palette indices: T ≤ side², every index in [0, vocab). */
    void checkTokens(NDArray idx, boolean full) {
        Shape s = idx.getShape();
        if (s.dimension() != 2) {
            throw new IllegalArgumentException("expected palette indices of shape (batch, positions) but got " + s);
        }
        long t = s.get(1);
        if (full ? t != config.length() : t > config.length() || t < 1) {
            throw new IllegalArgumentException("a sequence of " + t + " positions does not fit this model: it expects "
                    + (full ? "" : "at most ") + config.length() + " = " + config.side() + "×" + config.side()
                    + " (downsample the image first)");
        }
        long min = idx.min().toType(DataType.INT64, false).getLong();
        long max = idx.max().toType(DataType.INT64, false).getLong();
        if (min < 0 || max >= config.vocab()) {
            throw new IllegalArgumentException("palette index " + (min < 0 ? min : max) + " is out of range: the palette has "
                    + config.vocab() + " colours (0.." + (config.vocab() - 1) + ")");
        }
    }

    /** (B, T) indices → (B, T, D) token embeddings. */
    NDArray embedTokens(NDArray idx) {
        return tokenEmbed.forward(idx);
    }

    /** AR input: [sos ; E x_0 … E x_{T-2}] + P_{0..T-1}. Output t then predicts x_t. */
    NDArray arInput(NDArray idx) {
        long t = idx.getShape().get(1);
        return pos.forward(startThen(idx.get(":, :" + (t - 1))), 0);
    }

    /** [sos ; E x_0 … E x_{k-1}] for indices (B, k), k ≥ 0: the inputs of positions 0 … k. */
    private NDArray startThen(NDArray idx) {
        long b = idx.getShape().get(0);
        NDArray start = idx.getManager().zeros(new Shape(b, 1, config.dim())).add(sos);
        return idx.getShape().get(1) > 0 ? start.concat(embedTokens(idx), 1) : start;
    }

    /** BERT input: (1 − mask) ⊙ E x + P, with mask (B, n) 1 at masked positions (or null for none). */
    NDArray bertInput(NDArray idx, NDArray mask) {
        NDArray e = embedTokens(idx);
        if (mask != null) e = e.mul(mask.toType(DataType.FLOAT32, false).neg().add(1).expandDims(2));
        return pos.forward(e, 0);
    }

    /** Runs the first {@code layers} blocks (causal for AR). */
    NDArray blocks(NDArray h, int layers, DecoderCache cache) {
        // one new position against a cache may look at every cached key: its causal mask is all zeros, so skip it
        boolean causal = causal() && !(cache != null && h.getShape().get(1) == 1 && cache.length() > 0);
        positionsComputed += h.getShape().get(0) * h.getShape().get(1);
        for (int i = 0; i < layers; i++) {
            h = blocks.get(i).forward(h, causal, false, cache == null ? null : cache.layer(i)).out();
        }
        return h;
    }

    /** Final LayerNorm and the untied output layer: (B, T, D) → (B, T, V). */
    NDArray readout(NDArray h) {
        return head.forward(norm.forward(h));
    }

    // ---------------------------------------------------------------- forward, loss

    /**
     * AR: logits (B, T, V) where row t is the prediction of x_t from x_{&lt;t} (T ≤ side²).
     * BERT: logits at every position of the whole sequence with {@code mask} applied (mask may be null).
     */
    public NDArray logits(NDArray idx, NDArray mask) {
        if (causal()) {
            checkTokens(idx, false);
            return readout(blocks(arInput(idx), config.depth(), null));
        }
        checkTokens(idx, true);
        return readout(blocks(bertInput(idx, mask), config.depth(), null));
    }

    /** −log p(x_t | …) in nats at every position: (B, T). */
    public static NDArray tokenNll(NDArray logits, NDArray idx) {
        long v = logits.getShape().get(2);
        return logits.logSoftmax(2).mul(idx.oneHot((int) v).toType(DataType.FLOAT32, false)).sum(new int[] {2}).neg();
    }

    /**
     * Training loss in nats. AR: mean over all positions (mask ignored). BERT: mean over the masked
     * positions only (mask (B, n) of 0/1 from {@link #bertMask}).
     */
    public NDArray loss(NDArray idx, NDArray mask) {
        NDArray nll = tokenNll(logits(idx, mask), idx);
        if (causal()) return nll.mean();
        if (mask == null) throw new IllegalArgumentException("the BERT objective needs a mask (see bertMask)");
        NDArray mk = mask.toType(DataType.FLOAT32, false);
        return nll.mul(mk).sum().div(Nd.maximum(mk.sum(), 1));
    }

    /** Bernoulli(rate) mask (b, n), 1 = masked; every sequence gets at least one masked position. */
    public static float[] bertMask(Random rng, int b, int n, double rate) {
        float[] m = new float[b * n];
        for (int i = 0; i < b; i++) {
            boolean any = false;
            for (int t = 0; t < n; t++) {
                if (rng.nextDouble() < rate) {
                    m[i * n + t] = 1f;
                    any = true;
                }
            }
            if (!any) m[i * n + rng.nextInt(n)] = 1f;
        }
        return m;
    }

    /** Mean NLL per image in nats per position, (B,). For BERT the whole image is scored with no mask. */
    public NDArray nll(NDArray idx) {
        return tokenNll(logits(idx, null), idx).mean(new int[] {1});
    }

    /** nats per position → bits per dimension (one dimension = one palette index here). */
    public static double bitsPerDim(double natsPerPosition) {
        return natsPerPosition / Math.log(2);
    }

    /** Linear-probe features: output of block {@code config.probe}, average-pooled over positions: (B, D). */
    public NDArray features(NDArray idx) {
        return blocks(probeInput(idx), config.probe(), null).mean(new int[] {1});
    }

    /** What the probe's blocks read: the AR input (sos first) or BERT's unmasked input, for a whole image. */
    private NDArray probeInput(NDArray idx) {
        checkTokens(idx, true);
        return causal() ? arInput(idx) : bertInput(idx, null);
    }

    /**
     * Linear-probe features of every block at once: element l − 1 is block l's output average-pooled over
     * positions, (B, D), as {@link #features} gives it for {@code probe = l} (the paper's per-layer curve, Fig. 3).
     */
    public List<NDArray> layerFeatures(NDArray idx) {
        NDArray h = probeInput(idx);
        List<NDArray> out = new ArrayList<>();
        positionsComputed += h.getShape().get(0) * h.getShape().get(1);
        for (int i = 0; i < config.depth(); i++) {
            h = blocks.get(i).forward(h, causal(), false, null).out();
            out.add(h.mean(new int[] {1}));
        }
        return out;
    }

    // ---------------------------------------------------------------- sampling

    /**
     * This model as a {@link CausalDecoder} for the shared {@link Sampler}. With a cache, the first call feeds
     * [sos ; x_0 … x_{p-1}] at positions 0 … p, and each later token x_t enters alone at position t + 1.
     */
    public CausalDecoder decoder() {
        if (!causal()) throw new IllegalStateException("only the autoregressive objective can sample pixel by pixel");
        return new CausalDecoder() {
            @Override
            public int length() {
                return config.length();
            }

            @Override
            public int vocab() {
                return config.vocab();
            }

            @Override
            public NDArray logits(NDArray tokens) {
                return ImageGpt.this.logits(tokens, null);
            }

            @Override
            public DecoderCache newCache() {
                return new DecoderCache(config.depth());
            }

            @Override
            public NDArray next(NDArray tokens, DecoderCache cache) {
                long seen = cache == null ? 0 : cache.length();
                NDArray x = seen == 0 ? pos.forward(startThen(tokens), 0) : pos.forward(embedTokens(tokens), seen);
                return readout(blocks(x, config.depth(), cache)).get(":, -1, :");
            }
        };
    }

    /**
     * Completes each prefix to a full side² sequence, sampling every new index from
     * softmax(logits / temperature) restricted to the {@code topK} most likely colours (topK = 0: all).
     * All prefixes must have the same length (0 for unconditional samples).
     *
     * @param cached use the key/value cache (one new position per step) instead of recomputing the prefix
     */
    public int[][] sample(NDManager parent, int[][] prefixes, double temperature, int topK, long seed, boolean cached) {
        return Sampler.sample(parent, decoder(), prefixes, Sampling.of(temperature, topK).withCache(cached), new Random(seed));
    }
}
