package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.lesson8.diffusion.ClassifierFreeGuidance;
import org.lesson8.diffusion.Denoiser;
import org.lesson8.diffusion.GaussianDiffusion;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.diffusion.Samplers;
import org.lesson8.nn.Init;
import org.lesson8.nn.LayerNorm;
import org.lesson8.nn.LearnedPositionEmbedding;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Module;
import org.lesson8.nn.Nd;
import org.lesson8.nn.TimestepEmbedding;
import org.lesson8.nn.TransformerBlock;
import org.lesson8.nn.UnitVectors;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The unCLIP diffusion prior (Ramesh et al. 2022, §2.2): from a caption y and its CLIP text embedding z_t to a CLIP
 * <em>image</em> embedding z_i.
 * "We train a decoder-only Transformer with a causal attention mask on a sequence consisting of, in order: the encoded
 * text, the CLIP text embedding, an embedding for the diffusion timestep, the noised CLIP image embedding, and a final
 * embedding whose output from the Transformer is used to predict the unnoised CLIP image embedding."
 * <pre>
 *   caption y ─ frozen CLIP text encoder ─ hidden states (B, S, W_clip), pads zeroed ──── Linear ─┐ S tokens
 *             └ CLIP text embedding z_t (B, E), unit norm ─────────────────────────────── Linear ─┤ 1
 *   t ─ sinusoid(256) → Linear → SiLU → Linear ───────────────────────────────────────────────────┤ 1
 *   x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, the noised image embedding (B, E), x_0 = √E · z_i ──── Linear ─┤ 1
 *   learned query ────────────────────────────────────────────────────────────────────────────────┤ 1
 *                                                                        + learned positions ─ (B, S + 4, D)
 *          N × pre-LN block with a causal mask (each position sees itself and the positions before it)
 *          LN → the query's output → Linear(D, E) → x̂_0 (the clean embedding, not ε)
 *   loss = ‖ x̂_0 − x_0 ‖² (mean over the E coordinates)
 * </pre>
 * <b>Choices.</b> The caption tokens are the hidden states of the <em>frozen</em> CLIP text encoder ({@link Caption#encode}),
 * as the paper's "encoded text"; pad positions are zeroed. The diffusion runs on x_0 = √E · z_i (lucidrains'
 * {@code image_embed_scale}), so that each coordinate has about unit variance like the noise; samples are divided back
 * and renormalised to unit length. The prior is an x_0-predictor; the shared samplers read ε, so {@link #epsilon}
 * converts, ε = (x_t/√ᾱ_t − x̂_0) / √(1/ᾱ_t − 1), which {@link GaussianDiffusion#predict} inverts (up to rounding);
 * {@link #sample} runs DDIM (η = 0) on a respaced process. Guidance drops the text: with probability
 * {@code textDropout} (10%) the caption tokens and the text embedding are set to zero ({@link #dropText}); a Linear
 * maps zeros to its bias, so the null caption is a learned token in effect. {@link #sampleBestOfTwo} draws two
 * embeddings per caption and keeps the one with the higher dot product with the text embedding (§2.2).
 * <p>Known differences from lucidrains/DALLE2-pytorch: learned absolute positions instead of a relative position
 * bias; zeros instead of separate learned null tokens (a learned null in effect, see above), and pads are zero tokens
 * the attention still sees (our causal block has no padding mask) where lucidrains swaps in learned pad tokens; no
 * self-conditioning; DDIM with η = 0 on a few strided steps (the paper uses 64 strided steps).
 */
public class UnClipPrior extends Module {
    /** A prior configuration: CLIP's embedding width, text width and context; the transformer; the text dropout. */
    public record Config(String name, int embedDim, int clipTextWidth, int context, int dim, int depth, int heads,
                         int mlpRatio, double textDropout) {
        /** Sequence length: S caption tokens, text embedding, timestep, z_t, query. */
        public int tokens() {
            return context + 4;
        }

        /** Trainable parameters, from the configuration alone. */
        public long parameterCount() {
            long d = dim, e = embedDim, h = (long) mlpRatio * dim;
            long inputs = (clipTextWidth * d + d) + 2 * (e * d + d) + TimestepEmbedding.parameterCount(d) + d + tokens() * d;
            long block = 2 * d + (4 * d * d + 4 * d) + 2 * d + (d * h + h + h * d + d);
            return inputs + depth * block + 2 * d + (d * e + e);
        }
    }

    /**
     * The paper's sizes (Appendix C): a transformer of width 2048 and 24 blocks on 1024-d ViT-H/16 CLIP embeddings
     * with 77 text tokens of width 1024, about 1.2B parameters counted from the configuration (the paper's table rounds
     * its prior to 1B). Text dropped 10% of the time.
     */
    public static Config paper() {
        return new Config("unCLIP diffusion prior (1024-d CLIP, 24×2048)", 1024, 1024, 77, 2048, 24, 32, 4, 0.1);
    }

    /** The course prior over {@link Clip#textToImage()}'s 64-d embeddings: 20 caption tokens of width 64, 4 blocks of 128. */
    public static Config course() {
        return new Config("unCLIP prior-course (64-d CLIP, 4×128)", 64, 64, 20, 128, 4, 4, 4, 0.1);
    }

    /** The prior's condition: CLIP text-encoder hidden states (B, S, W_clip), pads zero, and CLIP text embeddings z_t (B, E). */
    public record Caption(NDArray tokens, NDArray textEmbed) {
        public Caption {
            if (tokens == null || textEmbed == null || tokens.getShape().dimension() != 3 || textEmbed.getShape().dimension() != 2
                    || tokens.getShape().get(0) != textEmbed.getShape().get(0)) {
                throw new IllegalArgumentException("unCLIP prior: a caption is CLIP's hidden states (batch, context, width) and "
                        + "text embeddings (batch, width): build it with UnClipPrior.Caption.encode(clip, manager, captions)");
            }
        }

        /** Encodes captions with a frozen CLIP: its text encoder's hidden states (pads zeroed) and unit text embeddings. */
        public static Caption encode(Clip clip, NDManager m, List<String> captions) {
            Clip.Tokens tk = clip.tokenize(m, captions, false);
            NDArray hidden = clip.text.hidden(tk.ids()).stopGradient();
            NDArray embed = Clip.normalize(Clip.TextEncoder.pool(hidden, tk.ends()).matMul(clip.text.proj)).stopGradient();
            long b = captions.size(), s = clip.config.context();
            float[] real = new float[(int) (b * s)];
            for (int i = 0; i < b; i++) java.util.Arrays.fill(real, (int) (i * s), (int) (i * s + tk.ends()[i] + 1), 1f);
            return new Caption(hidden.mul(m.create(real, new Shape(b, s, 1))), embed);
        }

        public long batch() {
            return textEmbed.getShape().get(0);
        }

        /** The null condition of guidance: zero tokens and a zero text embedding. */
        public Caption dropped() {
            return new Caption(tokens.zerosLike(), textEmbed.zerosLike());
        }

        /** This batch followed by {@code other} along the batch axis. */
        public Caption concat(Caption other) {
            return new Caption(tokens.concat(other.tokens, 0), textEmbed.concat(other.textEmbed, 0));
        }
    }

    public final Config config;
    public final Linear textTokens;
    public final Linear textEmbedding;
    public final TimestepEmbedding timeEmbedding;
    public final Linear imageEmbedding;
    public final NDArray query;
    public final LearnedPositionEmbedding positions;
    public final List<TransformerBlock> blocks = new ArrayList<>();
    public final LayerNorm finalLn;
    public final Linear out;

    public UnClipPrior(NDManager m, Config c, long seed) {
        super(m);
        this.config = c;
        Random rng = new Random(seed);
        textTokens = child("text_tokens", new Linear(m, rng, c.clipTextWidth(), c.dim()));
        textEmbedding = child("text_embed", new Linear(m, rng, c.embedDim(), c.dim()));
        timeEmbedding = child("time_embed", new TimestepEmbedding(m, rng, c.dim()));
        imageEmbedding = child("image_embed", new Linear(m, rng, c.embedDim(), c.dim()));
        query = param("learned_query", Init.normal(m, rng, new Shape(c.dim()), 0.02), false);
        positions = child("positions", new LearnedPositionEmbedding(m, rng, c.tokens(), c.dim()));
        for (int i = 0; i < c.depth(); i++) {
            blocks.add(child("blocks." + i, new TransformerBlock(m, rng, c.dim(), c.heads(), (long) c.mlpRatio() * c.dim())));
        }
        finalLn = child("final_ln", new LayerNorm(m, c.dim()));
        out = child("out", new Linear(m, rng, c.dim(), c.embedDim()));
    }

    /** √E: the diffusion runs on x_0 = √E · z_i, whose coordinates have about unit variance. */
    public double scale() {
        return Math.sqrt(config.embedDim());
    }

    /** Every position's output after the causal transformer and the final LayerNorm, (B, S + 4, D). */
    public NDArray hidden(NDArray xt, NDArray t, Caption c) {
        check(xt, t, c);
        NDArray image = imageEmbedding.forward(xt).expandDims(1);
        NDArray x = textTokens.forward(c.tokens())
                .concat(textEmbedding.forward(c.textEmbed()).expandDims(1), 1)
                .concat(timeEmbedding.forward(t).expandDims(1), 1)
                .concat(image, 1)
                .concat(image.zerosLike().add(query), 1);
        x = positions.forward(x, 0);
        for (TransformerBlock b : blocks) x = b.forward(x, true, false).out();
        return finalLn.forward(x);
    }

    /** x_t (B, E) in the scaled space, t (B,) original timesteps, the caption → x̂_0 (B, E), read at the final query. */
    public NDArray forward(NDArray xt, NDArray t, Caption c) {
        return out.forward(hidden(xt, t, c).get(new NDIndex(":, {}, :", config.tokens() - 1)));
    }

    /**
     * Per-example loss (B,) = mean over coordinates of (x̂_0 − x_0)², x_0 = √E · {@code embedding} (unit CLIP image
     * embeddings), x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) noise; t are step indices of {@code d}, which must not be respaced.
     */
    public NDArray loss(GaussianDiffusion d, NDArray embedding, NDArray t, Caption c, NDArray noise) {
        requireFull(d);
        UnitVectors.requireUnit(embedding, "unCLIP prior: the CLIP image embeddings to learn", false);
        NDArray x0 = Nd.mul(embedding, scale());
        return forward(d.qSample(x0, t, noise), t, c).sub(x0).square().mean(new int[] {1});
    }

    /** The prior as an ε-predicting {@link Denoiser} of the (not respaced) process {@code d}, for the shared samplers. */
    public Denoiser<Caption> epsilon(GaussianDiffusion d) {
        requireFull(d);
        double[] alphaBar = d.alphasCumprod();
        return (xt, t, c) -> {
            NDArray x0 = forward(xt, t, c);
            long[] ts = t.toType(DataType.INT64, false).toLongArray();
            float[] a = new float[ts.length], b = new float[ts.length];
            for (int i = 0; i < ts.length; i++) {
                a[i] = (float) Math.sqrt(1 / alphaBar[(int) ts[i]]);
                b[i] = (float) Math.sqrt(1 / alphaBar[(int) ts[i]] - 1);
            }
            NDManager m = xt.getManager();
            return xt.mul(m.create(a, new Shape(ts.length, 1))).sub(x0).div(m.create(b, new Shape(ts.length, 1)));
        };
    }

    /** Classifier-free-guidance dropout: each row's caption tokens and text embedding become zero with probability textDropout. */
    public Caption dropText(Caption c, Random rng) {
        int b = (int) c.batch();
        float[] keep = new float[b];
        for (int i = 0; i < b; i++) keep[i] = rng.nextDouble() < config.textDropout() ? 0f : 1f;
        NDManager m = c.textEmbed().getManager();
        return new Caption(c.tokens().mul(m.create(keep, new Shape(b, 1, 1))), c.textEmbed().mul(m.create(keep, new Shape(b, 1))));
    }

    /** Classifier-free guidance: ε(z, ∅) + s·(ε(z, c) − ε(z, ∅)), ∅ = the dropped caption. */
    public static ClassifierFreeGuidance<Caption> guidance(Denoiser<Caption> model, double scale) {
        return new ClassifierFreeGuidance<>(model, scale, Caption::dropped, Caption::concat);
    }

    /**
     * Samples one unit image embedding per caption (B, E): DDIM (η = 0) over {@code steps} evenly spaced steps of
     * {@code d} from x_T drawn from {@code noise}, with guidance scale {@code s}, divided by √E and renormalised.
     */
    public NDArray sample(GaussianDiffusion d, int steps, Caption c, double s, NoiseSource noise) {
        Denoiser<Caption> eps = s == 1 ? epsilon(d) : guidance(epsilon(d), s);   // s = 1 is the conditional model alone
        NDArray xT = noise.sample(c.textEmbed().getManager(), new Shape(c.batch(), config.embedDim()));
        return Clip.normalize(Samplers.ddim(d.respace(steps), eps, xT, c, 0, null, false, null));
    }

    /** The paper's trick: two samples per caption, keeping the one with the higher dot product with the text embedding. */
    public NDArray sampleBestOfTwo(GaussianDiffusion d, int steps, Caption c, double s, NoiseSource noise) {
        long b = c.batch();
        NDArray both = sample(d, steps, c.concat(c), s, noise);
        return keepCloser(both.get(new NDIndex(":{}", b)), both.get(new NDIndex("{}:", b)), c.textEmbed());
    }

    /** Row by row, {@code first} or {@code second} (B, E), whichever has the higher dot product with {@code text}. */
    public static NDArray keepCloser(NDArray first, NDArray second, NDArray text) {
        NDArray a = first.mul(text).sum(new int[] {1}, true);
        NDArray b = second.mul(text).sum(new int[] {1}, true);
        return NDArrays.where(a.gte(b).broadcast(first.getShape()), first, second);
    }

    private void check(NDArray xt, NDArray t, Caption c) {
        Shape z = xt.getShape();
        if (z.dimension() != 2 || z.get(1) != config.embedDim()) {
            throw new IllegalArgumentException("unCLIP prior: expected noised image embeddings x_t of shape (batch, "
                    + config.embedDim() + ") but got " + z + " (" + config.name() + ")");
        }
        if (c == null) {
            throw new IllegalArgumentException("the unCLIP prior is conditioned on captions: pass "
                    + "UnClipPrior.Caption.encode(clip, manager, captions)");
        }
        Shape want = new Shape(z.get(0), config.context(), config.clipTextWidth());
        if (!c.tokens().getShape().equals(want) || c.textEmbed().getShape().get(1) != config.embedDim()) {
            throw new IllegalArgumentException("unCLIP prior: expected caption tokens " + want + " and text embeddings ("
                    + z.get(0) + ", " + config.embedDim() + "), got " + c.tokens().getShape() + " and "
                    + c.textEmbed().getShape() + ": encode the captions with the CLIP this prior was trained with");
        }
        if (!t.getShape().equals(new Shape(z.get(0)))) {
            throw new IllegalArgumentException("unCLIP prior: expected timesteps of shape (" + z.get(0) + "), got " + t.getShape());
        }
    }

    private static void requireFull(GaussianDiffusion d) {
        if (d.numTimesteps() != d.originalTimesteps()) {
            throw new IllegalArgumentException("unCLIP prior: pass the full diffusion process (" + d.originalTimesteps()
                    + " steps), not a respaced one (" + d.numTimesteps() + "): the prior reads original timesteps");
        }
    }
}
