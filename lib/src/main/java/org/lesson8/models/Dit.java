package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import static org.lesson8.nn.Nd.silu;
import org.lesson8.diffusion.Denoiser;
import org.lesson8.nn.LayerNorm;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Mlp;
import org.lesson8.nn.Module;
import org.lesson8.nn.MultiHeadAttention;
import org.lesson8.nn.PatchEmbedding;
import org.lesson8.nn.PositionEmbeddings;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Diffusion Transformer (Peebles &amp; Xie 2022, Fig. 3): a class-conditional ε- and Σ-prediction network on VAE latents.
 * <pre>
 *   latent (B, C, I, I) ─ patchify (p×p, Linear) ─ + fixed 2-D sin-cos position ─┐
 *   t ─ sinusoid(256) → Linear → SiLU → Linear ─┐                                 │
 *   y ─ embedding table (classes + 1: the null class) ─ + ─→ c ─────────────────┐ │
 *                                                                               ↓ ↓
 *                                              N × DiT block with adaLN-Zero (c → shift, scale, gate)
 *                                              final layer: adaLN(c) → Linear → p·p·2C per token
 *                                              unpatchify → (B, 2C, I, I) = [ε ; v]
 * </pre>
 * Every adaLN modulation and the final Linear start at zero: each block is the identity at initialisation and the
 * network's first output is 0. During training, labels are replaced by the null class with probability
 * {@code classDropout} (0.1), which makes classifier-free guidance possible.
 * <p>Known differences from facebookresearch/DiT: the MLP uses the exact (erf) GELU where DiT uses the tanh
 * approximation; attention has separate q and kv projections instead of one fused qkv (same parameters, but each is
 * Xavier-initialised with its own fan-out); the EMA decay is 0.999 with warm-up instead of 0.9999 (our runs are short).
 */
public class Dit extends Module implements Denoiser {
    /** A DiT configuration: latent size/channels, patch, width, depth, heads, MLP ratio, classes. */
    public record Config(String name, int inputSize, int inChannels, int patch, int dim, int depth, int heads,
                         int mlpRatio, int classes, boolean learnSigma, double classDropout) {
        public int grid() {
            return inputSize / patch;
        }

        public int tokens() {
            return grid() * grid();
        }

        public int outChannels() {
            return learnSigma ? 2 * inChannels : inChannels;
        }

        /**
         * Trainable parameters computed from the configuration alone (nothing allocated). The fixed position table
         * (tokens × D) is not trainable and not counted; DiT's training script also prints it, see {@link #fixedPositionCount}.
         */
        public long parameterCount() {
            long d = dim, h = (long) mlpRatio * dim, p2 = (long) patch * patch;
            long xEmbed = d * inChannels * p2 + d;
            long tEmbed = (long) TimestepEmbedder.FREQUENCIES * d + d + d * d + d;
            long yEmbed = (classes + 1L) * d;
            long attn = 3 * d * d + 3 * d + d * d + d;
            long mlp = d * h + h + h * d + d;
            long ada = d * 6 * d + 6 * d;
            long fin = d * 2 * d + 2 * d + d * p2 * outChannels() + p2 * outChannels();
            return xEmbed + tEmbed + yEmbed + depth * (attn + mlp + ada) + fin;
        }

        public long fixedPositionCount() {
            return (long) tokens() * dim;
        }

        /** Multiply-adds of one forward pass of one latent (matrix products only). */
        public double forwardMacs() {
            double t = tokens(), d = dim, h = (double) mlpRatio * dim;
            double perBlock = t * (4 * d * d + 2 * d * h) + 2 * t * t * d + 6 * d * d;
            return depth * perBlock + t * d * inChannels * patch * patch + TimestepEmbedder.FREQUENCIES * d + d * d
                    + 2 * d * d + t * d * patch * patch * outChannels();
        }
    }

    /** The paper's configurations (Table 1) on 256×256 images = 32×32×4 SD-VAE latents, ImageNet's 1000 classes. */
    public static Config paper(String size, int patch) {
        return switch (size) {
            case "S" -> new Config("DiT-S/" + patch, 32, 4, patch, 384, 12, 6, 4, 1000, true, 0.1);
            case "B" -> new Config("DiT-B/" + patch, 32, 4, patch, 768, 12, 12, 4, 1000, true, 0.1);
            case "L" -> new Config("DiT-L/" + patch, 32, 4, patch, 1024, 24, 16, 4, 1000, true, 0.1);
            case "XL" -> new Config("DiT-XL/" + patch, 32, 4, patch, 1152, 28, 16, 4, 1000, true, 0.1);
            default -> throw new IllegalArgumentException("DiT size must be S, B, L or XL, got " + size);
        };
    }

    /** A DiT for Fashion-MNIST latents (7×7×4 from {@link Vae#fashion()}): patch 1 → 49 tokens, D 96, 6 blocks, 4 heads. */
    public static Config fashion() {
        return new Config("DiT-Ti/1 (Fashion-MNIST latents)", 7, 4, 1, 96, 6, 4, 4, 10, true, 0.1);
    }

    /** Sinusoidal timestep features (256 frequencies, [cos ; sin] as in DiT) → Linear → SiLU → Linear. */
    public static final class TimestepEmbedder extends Module {
        public static final int FREQUENCIES = 256;
        public final Linear fc1;
        public final Linear fc2;

        TimestepEmbedder(NDManager m, Random rng, int dim) {
            super(m);
            fc1 = child("mlp.0", new Linear(m, rng, FREQUENCIES, dim));
            fc2 = child("mlp.2", new Linear(m, rng, dim, dim));
        }

        /** (B,) timesteps → (B, 256): cos(t·ω_k), sin(t·ω_k) with ω_k = 10000^(−k/128). */
        public static NDArray sinusoid(NDArray t, int dim) {
            int half = dim / 2;
            float[] freqs = new float[half];
            for (int k = 0; k < half; k++) freqs[k] = (float) Math.exp(-Math.log(10000.0) * k / half);
            NDArray f = t.getManager().create(freqs, new Shape(1, half));
            NDArray args = t.toType(DataType.FLOAT32, false).reshape(-1, 1).mul(f);
            return args.cos().concat(args.sin(), 1);
        }

        public NDArray forward(NDArray t) {
            return fc2.forward(silu(fc1.forward(sinusoid(t, FREQUENCIES))));
        }
    }

    /** One DiT block with adaLN-Zero: x += gate·Attn(modulate(LN(x))); x += gate·MLP(modulate(LN(x))). */
    public static final class Block extends Module {
        public final LayerNorm norm1;
        public final MultiHeadAttention attn;
        public final LayerNorm norm2;
        public final Mlp mlp;
        public final Linear adaLN;

        Block(NDManager m, Random rng, int dim, int heads, int hidden) {
            super(m);
            norm1 = child("norm1", new LayerNorm(m, dim, 1e-6f, false));
            attn = child("attn", new MultiHeadAttention(m, rng, dim, heads));
            norm2 = child("norm2", new LayerNorm(m, dim, 1e-6f, false));
            mlp = child("mlp", new Mlp(m, rng, dim, hidden));
            adaLN = child("adaLN_modulation.1", new Linear(m, rng, dim, 6L * dim).zeroInit());
        }

        /** x (B, N, D), c (B, D). */
        public NDArray forward(NDArray x, NDArray c) {
            return org.lesson8.nn.Scoped.layer(() -> {
                NDArray[] mod = chunks(adaLN.forward(silu(c)), 6);
                NDArray h = attn.forward(modulate(norm1.forward(x), mod[0], mod[1])).out();
                NDArray y = x.add(mod[2].expandDims(1).mul(h));
                h = mlp.forward(modulate(norm2.forward(y), mod[3], mod[4]));
                return new NDArray[] {y.add(mod[5].expandDims(1).mul(h))};
            })[0];
        }
    }

    /** x·(1 + scale) + shift, with one (shift, scale) per example broadcast over the tokens. */
    public static NDArray modulate(NDArray x, NDArray shift, NDArray scale) {
        return x.mul(scale.expandDims(1).add(1)).add(shift.expandDims(1));
    }

    static NDArray[] chunks(NDArray a, int n) {
        long d = a.getShape().get(1) / n;
        NDArray[] out = new NDArray[n];
        for (int i = 0; i < n; i++) out[i] = a.get(":, {}:{}", i * d, (i + 1) * d);
        return out;
    }

    public final Config config;
    public final PatchEmbedding xEmbedder;
    public final NDArray posEmbed;
    public final TimestepEmbedder tEmbedder;
    public final NDArray yTable;
    public final List<Block> blocks = new ArrayList<>();
    public final LayerNorm normFinal;
    public final Linear adaLNFinal;
    public final Linear linearFinal;

    public Dit(NDManager m, Config c, long seed) {
        super(m);
        if (c.inputSize() % c.patch() != 0) {
            throw new IllegalArgumentException("latent size " + c.inputSize() + " is not divisible by patch " + c.patch());
        }
        this.config = c;
        Random rng = new Random(seed);
        xEmbedder = child("x_embedder", new PatchEmbedding(m, rng, c.inputSize(), c.patch(), c.inChannels(), c.dim()));
        posEmbed = PositionEmbeddings.sinCos2d(m, c.dim(), c.grid());   // fixed, not a parameter
        tEmbedder = child("t_embedder", new TimestepEmbedder(m, rng, c.dim()));
        // DiT's initialize_weights: label table and timestep MLP ~ N(0, 0.02²), every other Linear Xavier-uniform
        yTable = param("y_embedder.embedding_table.weight", normal(m, rng, new Shape(c.classes() + 1, c.dim()), 0.02), false);
        for (Linear fc : new Linear[] {tEmbedder.fc1, tEmbedder.fc2}) {
            try (NDArray w = normal(m, rng, fc.weight.getShape(), 0.02)) {
                fc.weight.set(w.toFloatArray());
            }
        }
        for (int i = 0; i < c.depth(); i++) {
            blocks.add(child("blocks." + i, new Block(m, rng, c.dim(), c.heads(), c.mlpRatio() * c.dim())));
        }
        normFinal = child("final_layer.norm_final", new LayerNorm(m, c.dim(), 1e-6f, false));
        adaLNFinal = child("final_layer.adaLN_modulation.1", new Linear(m, rng, c.dim(), 2L * c.dim()).zeroInit());
        linearFinal = child("final_layer.linear",
                new Linear(m, rng, c.dim(), (long) c.patch() * c.patch() * c.outChannels()).zeroInit());
    }

    /** The null class (the extra row of the label table): index {@code classes}. */
    public int nullClass() {
        return config.classes();
    }

    /** Classifier-free-guidance dropout: each label is replaced by the null class with probability classDropout. */
    public NDArray dropLabels(NDArray labels, Random rng) {
        long[] y = labels.toLongArray();
        for (int i = 0; i < y.length; i++) if (rng.nextDouble() < config.classDropout()) y[i] = nullClass();
        return labels.getManager().create(y);
    }

    /** c = t-embedding + label embedding, (B, D). */
    public NDArray condition(NDArray t, NDArray y) {
        long[] ys = y.toLongArray();
        for (long v : ys) {
            if (v < 0 || v > nullClass()) {
                throw new IllegalArgumentException("class label " + v + " out of range: use 0.." + (config.classes() - 1)
                        + ", or " + nullClass() + " for the null class");
            }
        }
        // one-hot · table (as the other models' embeddings): advanced indexing with gradients is avoided, two DiT
        // training runs that used yTable.get(indices) died in native code after 400–1300 steps
        return tEmbedder.forward(t).add(y.oneHot(nullClass() + 1).toType(DataType.FLOAT32, false).matMul(yTable));
    }

    /** x_t (B, C, I, I), t (B,) original timesteps, y (B,) labels → (B, 2C, I, I) = [ε ; v]. */
    public NDArray forward(NDArray x, NDArray t, NDArray y) {
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(1) != config.inChannels() || s.get(2) != config.inputSize() || s.get(3) != config.inputSize()) {
            throw new IllegalArgumentException("DiT: expected latents of shape (batch, " + config.inChannels() + ", "
                    + config.inputSize() + ", " + config.inputSize() + ") but got " + s
                    + ": encode the images with the VAE this DiT was trained with (" + config.name() + ")");
        }
        if (t.getShape().dimension() != 1 || t.getShape().get(0) != s.get(0) || y.getShape().dimension() != 1 || y.getShape().get(0) != s.get(0)) {
            throw new IllegalArgumentException("DiT: t and y must have shape (" + s.get(0) + "), got " + t.getShape() + " and " + y.getShape());
        }
        NDArray h = xEmbedder.forward(x).add(posEmbed);
        NDArray c = condition(t, y);
        for (Block b : blocks) h = b.forward(h, c);
        NDArray[] mod = chunks(adaLNFinal.forward(silu(c)), 2);
        h = linearFinal.forward(modulate(normFinal.forward(h), mod[0], mod[1]));
        return unpatchify(h, config.patch(), config.outChannels());
    }

    @Override
    public NDArray apply(NDArray xt, NDArray t, Object cond) {
        if (!(cond instanceof NDArray y)) {
            throw new IllegalArgumentException("DiT is conditioned on class labels: pass an int64 NDArray of shape (B)");
        }
        return forward(xt, t, y);
    }

    /** (B, N, p·p·C) with each token's values ordered (row, column, channel) → (B, C, H, W); inverse of {@link #patchify}. */
    public static NDArray unpatchify(NDArray tokens, int p, int channels) {
        Shape s = tokens.getShape();
        long b = s.get(0), n = s.get(1);
        long g = Math.round(Math.sqrt(n));
        if (g * g != n || s.get(2) != (long) p * p * channels) {
            throw new IllegalArgumentException("unpatchify: expected (batch, grid², " + p * p * channels + "), got " + s);
        }
        return tokens.reshape(b, g, g, p, p, channels).transpose(0, 5, 1, 3, 2, 4).reshape(b, channels, g * p, g * p);
    }

    /** (B, C, H, W) → (B, N, p·p·C), values ordered (row, column, channel): the layout the final layer predicts. */
    public static NDArray patchify(NDArray x, int p) {
        Shape s = x.getShape();
        long b = s.get(0), c = s.get(1), g = s.get(2) / p;
        return x.reshape(b, c, g, p, g, p).transpose(0, 2, 4, 3, 5, 1).reshape(b, g * g, (long) p * p * c);
    }
}
