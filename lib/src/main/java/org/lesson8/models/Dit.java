package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lesson8.diffusion.Denoiser;
import org.lesson8.nn.AdaLnModulation;
import org.lesson8.nn.Init;
import org.lesson8.nn.LayerNorm;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Mlp;
import org.lesson8.nn.Module;
import org.lesson8.nn.MultiHeadAttention;
import org.lesson8.nn.PatchEmbedding;
import org.lesson8.nn.Patches;
import org.lesson8.nn.PositionEmbeddings;
import org.lesson8.nn.Scoped;
import org.lesson8.nn.TimestepEmbedding;
import org.lesson8.nn.TokenEmbedding;

import static org.lesson8.nn.AdaLnModulation.gatedResidual;
import static org.lesson8.nn.AdaLnModulation.modulate;

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
public class Dit extends Module implements Denoiser<NDArray> {
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
            long tEmbed = TimestepEmbedding.parameterCount(d);
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
            return depth * perBlock + t * d * inChannels * patch * patch + TimestepEmbedding.FREQUENCIES * d + d * d
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

    /** One DiT block with adaLN-Zero: x += gate·Attn(modulate(LN(x))); x += gate·MLP(modulate(LN(x))). */
    public static final class Block extends Module {
        public final LayerNorm norm1;
        public final MultiHeadAttention attn;
        public final LayerNorm norm2;
        public final Mlp mlp;
        public final AdaLnModulation adaLN;

        Block(NDManager m, Random rng, int dim, int heads, int hidden) {
            super(m);
            norm1 = child("norm1", new LayerNorm(m, dim, 1e-6f, false));
            attn = child("attn", new MultiHeadAttention(m, rng, dim, heads));
            norm2 = child("norm2", new LayerNorm(m, dim, 1e-6f, false));
            mlp = child("mlp", new Mlp(m, rng, dim, hidden));
            adaLN = child("adaLN_modulation", new AdaLnModulation(m, rng, dim, 6));
        }

        /** x (B, N, D), c (B, D). */
        public NDArray forward(NDArray x, NDArray c) {
            return Scoped.layer(() -> {
                NDArray[] mod = adaLN.forward(c);
                NDArray y = gatedResidual(x, mod[2], attn.forward(modulate(norm1.forward(x), mod[0], mod[1])).out());
                return new NDArray[] {gatedResidual(y, mod[5], mlp.forward(modulate(norm2.forward(y), mod[3], mod[4])))};
            })[0];
        }
    }

    public final Config config;
    public final PatchEmbedding xEmbedder;
    public final NDArray posEmbed;
    public final TimestepEmbedding tEmbedder;
    public final TokenEmbedding yEmbedder;
    public final List<Block> blocks = new ArrayList<>();
    public final LayerNorm normFinal;
    public final AdaLnModulation adaLNFinal;
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
        tEmbedder = child("t_embedder", new TimestepEmbedding(m, rng, c.dim()));
        // DiT's initialize_weights: label table and timestep MLP ~ N(0, 0.02²), every other Linear Xavier-uniform
        yEmbedder = child("y_embedder.embedding_table.weight", new TokenEmbedding(m, rng, c.classes() + 1, c.dim()));
        Init.fillNormal(tEmbedder.fc1.weight, rng, 0.02);
        Init.fillNormal(tEmbedder.fc2.weight, rng, 0.02);
        for (int i = 0; i < c.depth(); i++) {
            blocks.add(child("blocks." + i, new Block(m, rng, c.dim(), c.heads(), c.mlpRatio() * c.dim())));
        }
        normFinal = child("final_layer.norm_final", new LayerNorm(m, c.dim(), 1e-6f, false));
        adaLNFinal = child("final_layer.adaLN_modulation", new AdaLnModulation(m, rng, c.dim(), 2));
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
        return tEmbedder.forward(t).add(yEmbedder.forward(y));
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
        NDArray[] mod = adaLNFinal.forward(c);
        h = linearFinal.forward(modulate(normFinal.forward(h), mod[0], mod[1]));
        return Patches.unpatchify(h, config.patch(), config.outChannels());
    }

    @Override
    public NDArray apply(NDArray xt, NDArray t, NDArray labels) {
        if (labels == null) {
            throw new IllegalArgumentException("DiT is conditioned on class labels: pass an int64 NDArray of shape (B)");
        }
        return forward(xt, t, labels);
    }
}
