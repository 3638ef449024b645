package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lesson8.data.Tokenizer;
import org.lesson8.diffusion.ClassifierFreeGuidance;
import org.lesson8.diffusion.Denoiser;
import org.lesson8.nn.AdaLnModulation;
import org.lesson8.nn.Init;
import org.lesson8.nn.LayerNorm;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Module;
import org.lesson8.nn.Nd;
import org.lesson8.nn.PatchEmbedding;
import org.lesson8.nn.Patches;
import org.lesson8.nn.PositionEmbeddings;
import org.lesson8.nn.TimestepEmbedding;
import org.lesson8.nn.UnitVectors;

import static org.lesson8.nn.AdaLnModulation.modulate;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The unCLIP decoder (Ramesh et al. 2022, "Hierarchical Text-Conditional Image Generation with CLIP Latents", §2.1):
 * GLIDE with a CLIP image embedding as its main condition. "We modify the architecture described in Nichol et al.
 * (2021) by projecting and adding CLIP embeddings to the existing timestep embedding, and by projecting CLIP
 * embeddings into four extra tokens of context that are concatenated to the sequence of outputs from the GLIDE text
 * encoder."
 * <pre>
 *   caption ─ GLIDE text transformer ─ xf (B, S, W) ───────────────────────────────┐ (optional)
 *                                      └ Linear(W, D)( xf at &lt;end&gt; ) ──────┐         │
 *   t ─ sinusoid(256) → Linear → SiLU → Linear ───────────────── + ←────────┘         │
 *   z_i (B, E) CLIP image embedding · √E ─ Linear(E, D) ──────── + ─→ c (B, D)         │
 *                                        └ Linear(E, 4·W) → 4 tokens (B, 4, W) ─→ context [ xf ; 4 tokens ]
 *   x_t (B, 3, I, I) ─ patchify (p×p) ─ + 2-D sin-cos position ─┐                    │
 *                                                              ↓                    ↓
 *          N × GLIDE block:  adaLN-Zero(c) around Attn( patches ; keys/values [ context W_kv⁽ˡ⁾ ; x W_kv ] ) and MLP
 *          final layer: adaLN(c) → Linear → p·p·3 per token → unpatchify → ε (B, 3, I, I)
 * </pre>
 * The blocks, the text transformer and the patch layout are GLIDE's ({@link Glide.Block}, {@link Glide.TextTransformer}
 * built from {@link Config#glide}); only the embedding's two projections are new.
 * <p><b>Guidance.</b> During training the embedding is set to zero with probability {@code embedDropout} (10%) and the
 * caption replaced by the empty caption with {@code glide.captionDropout()} (50%), independently
 * ({@link #dropConditions}). The null embedding is the <b>zero vector</b>, the paper's own choice ("randomly setting
 * the CLIP embeddings to zero"): both projections then give their biases, a learned null in effect.
 * {@link #guidance} contrasts the condition with both dropped. Embeddings must have unit norm ({@link Clip#normalize})
 * or be zero; both projections read them scaled by √E, so that their coordinates are of unit size like the network's
 * other inputs (as the prior reads them). A unit vector of 64 coordinates has coordinates of about 0.125: with Adam's
 * steps of the same size whatever the input scale, the zero-initialised projections then learned ~8× too slowly
 * (measured: after 1,000 fine-tuning steps from glide_p2, decoding an image embedding without its caption was right
 * for 1 of 40 scenes, whatever the embedding).
 * <p>Known differences from the paper and lucidrains/DALLE2-pytorch: GLIDE's DiT-style transformer stands in for
 * its ADM U-Net (see {@link Glide}); one 28×28 stage instead of 64×64 plus two upsamplers; ε with a fixed variance
 * instead of a learned Σ; the null embedding is zero where lucidrains learns separate null tokens.
 */
public class UnClipDecoder extends Module implements Denoiser<UnClipDecoder.Condition> {
    /**
     * A decoder configuration: GLIDE's sizes ({@code glide}, whose {@code captionDropout} is the decoder's caption
     * dropout), the CLIP embedding width, the number of embedding tokens, the embedding dropout, and whether the
     * caption is an input at all.
     */
    public record Config(String name, Glide.Config glide, int embedDim, int embedTokens, double embedDropout, boolean text) {
        public Config {
            if (glide.inpaint()) throw new IllegalArgumentException("the unCLIP decoder has no inpainting inputs");
        }

        /** Trainable parameters, from the configuration alone (GLIDE's count, less its text path if unused). */
        public long parameterCount() {
            long d = glide.dim(), w = glide.textWidth(), e = embedDim;
            long textPath = glide.textParameterCount() + w * d + d;
            long embedding = (e * d + d) + (e * embedTokens * w + (long) embedTokens * w);
            return glide.parameterCount() - (text ? 0 : textPath) + embedding;
        }

        /** The same decoder without the caption: the embedding is its only condition. */
        public Config withoutText() {
            return new Config(name + ", no caption", glide, embedDim, embedTokens, embedDropout, false);
        }
    }

    /**
     * The paper's decoder (§2.1, Appendix C): GLIDE's 3.5B sizes at 64×64 conditioned on 1024-d ViT-H/16 CLIP image
     * embeddings through four tokens; embedding dropped 10%, caption 50%.
     */
    public static Config paper() {
        Glide.Config g = Glide.paper();
        g = new Glide.Config(g.name(), g.imageSize(), g.channels(), g.patch(), g.dim(), g.depth(), g.heads(),
                g.mlpRatio(), g.vocab(), g.context(), g.textWidth(), g.textDepth(), g.textHeads(), false, 0.5);
        return new Config("unCLIP decoder (64px GLIDE, 1024-d CLIP embedding, 4 tokens)", g, 1024, 4, 0.1, true);
    }

    /** The course decoder: {@link Glide#course()}'s sizes, 64-d embeddings of {@link Clip#textToImage()}, 4 tokens. */
    public static Config course() {
        return courseFrom(Glide.course(), "unCLIP decoder-course (GLIDE-course + 64-d CLIP embedding, 4 tokens)");
    }

    /**
     * The course decoder at 2×2 patches: {@link Glide#coursePatch2()}'s sizes (196 patches), 64-d embeddings, 4 tokens.
     * The decoder of notebook 07, made from the GLIDE of notebook 06.
     */
    public static Config coursePatch2() {
        return courseFrom(Glide.coursePatch2(), "unCLIP decoder-course 2×2 (GLIDE-course 2×2 + 64-d CLIP embedding, 4 tokens)");
    }

    /** GLIDE's sizes {@code g} with the paper's 50% caption dropout, no inpainting, 64-d embeddings through 4 tokens. */
    static Config courseFrom(Glide.Config g, String name) {
        g = new Glide.Config(g.name(), g.imageSize(), g.channels(), g.patch(), g.dim(), g.depth(), g.heads(),
                g.mlpRatio(), g.vocab(), g.context(), g.textWidth(), g.textDepth(), g.textHeads(), false, 0.5);
        return new Config(name, g, 64, 4, 0.1, true);
    }

    /** What the decoder is conditioned on: CLIP image embeddings (B, E), unit norm or zero, and captions or null. */
    public record Condition(NDArray embedding, Glide.Text text) {
        public Condition {
            if (embedding == null || embedding.getShape().dimension() != 2) {
                throw new IllegalArgumentException("unCLIP decoder: the condition needs CLIP image embeddings of shape "
                        + "(batch, width), got " + (embedding == null ? "null" : embedding.getShape()));
            }
            if (text != null && text.batch() != embedding.getShape().get(0)) {
                throw new IllegalArgumentException("unCLIP decoder: " + embedding.getShape().get(0) + " embeddings but "
                        + text.batch() + " captions");
            }
        }

        public long batch() {
            return embedding.getShape().get(0);
        }

        /** The null condition of guidance: zero embeddings and the empty caption. */
        public Condition nullCondition() {
            return new Condition(embedding.zerosLike(), text == null ? null : text.empty());
        }

        /** This batch followed by {@code other} along the batch axis. */
        public Condition concat(Condition other) {
            if ((text == null) != (other.text == null)) {
                throw new IllegalArgumentException("cannot join conditions with captions to conditions without");
            }
            return new Condition(embedding.concat(other.embedding, 0), text == null ? null : text.concat(other.text));
        }
    }

    public final Config config;
    public final Tokenizer tokenizer;
    public final PatchEmbedding xEmbedder;
    public final NDArray posEmbed;
    public final TimestepEmbedding tEmbedder;
    /** GLIDE's caption path; null when {@code config.text()} is false. */
    public final Glide.TextTransformer transformer;
    public final Linear transformerProj;
    /** The embedding added to the timestep vector, and the embedding as four context tokens. */
    public final Linear clipToTime;
    public final Linear clipToTokens;
    public final List<Glide.Block> blocks = new ArrayList<>();
    public final LayerNorm normFinal;
    public final AdaLnModulation adaLNFinal;
    public final Linear linearFinal;

    /** The course model's tokenizer ({@link Tokenizer#textToImage()}). */
    public UnClipDecoder(NDManager m, Config c, long seed) {
        this(m, c, Tokenizer.textToImage(), seed);
    }

    public UnClipDecoder(NDManager m, Config c, Tokenizer tokenizer, long seed) {
        super(m);
        Glide.Config g = c.glide();
        if (tokenizer.size() != g.vocab()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.size() + " tokens but the config says vocab = " + g.vocab());
        }
        this.config = c;
        this.tokenizer = tokenizer;
        Random rng = new Random(seed);
        xEmbedder = child("x_embedder", new PatchEmbedding(m, rng, g.imageSize(), g.patch(), g.channels(), g.dim()));
        posEmbed = PositionEmbeddings.sinCos2d(m, g.dim(), g.grid());   // fixed, not a parameter
        tEmbedder = child("t_embedder", new TimestepEmbedding(m, rng, g.dim()));
        Init.fillNormal(tEmbedder.fc1.weight, rng, 0.02);
        Init.fillNormal(tEmbedder.fc2.weight, rng, 0.02);
        transformer = c.text() ? child("transformer", new Glide.TextTransformer(m, rng, g)) : null;
        transformerProj = c.text() ? child("transformer_proj", new Linear(m, rng, g.textWidth(), g.dim())) : null;
        clipToTime = child("clip_to_time", new Linear(m, rng, c.embedDim(), g.dim()));
        clipToTokens = child("clip_to_tokens", new Linear(m, rng, c.embedDim(), (long) c.embedTokens() * g.textWidth()));
        for (int i = 0; i < g.depth(); i++) blocks.add(child("blocks." + i, new Glide.Block(m, rng, g)));
        normFinal = child("final_layer.norm_final", new LayerNorm(m, g.dim(), 1e-6f, false));
        adaLNFinal = child("final_layer.adaLN_modulation", new AdaLnModulation(m, rng, g.dim(), 2));
        linearFinal = child("final_layer.linear",
                new Linear(m, rng, g.dim(), (long) g.patch() * g.patch() * g.channels()).zeroInit());
    }

    /** Captions → token ids and pad mask, as {@link Glide#tokenize}. */
    public Glide.Text tokenize(NDManager m, List<String> captions) {
        return Glide.Text.tokenize(tokenizer, config.glide().context(), m, captions);
    }

    /**
     * Classifier-free-guidance dropout: each embedding becomes zero with probability {@code embedDropout} and,
     * independently, each caption the empty caption with probability {@code glide.captionDropout()}.
     */
    public Condition dropConditions(Condition cond, Random rng) {
        int b = (int) cond.batch();
        float[] keep = new float[b];
        for (int i = 0; i < b; i++) keep[i] = rng.nextDouble() < config.embedDropout() ? 0f : 1f;
        NDArray e = cond.embedding();
        NDArray kept = e.mul(e.getManager().create(keep, new Shape(b, 1)));
        return new Condition(kept, cond.text() == null ? null : cond.text().drop(config.glide().captionDropout(), rng));
    }

    /**
     * c = t-embedding + Linear(z_i) [+ Linear(final caption token)] (B, D); the context tokens
     * [xf ; 4 embedding tokens] (B, S + 4, W) and their mask (B, S + 4), or null without a caption.
     */
    public NDArray[] condition(NDArray t, Condition cond) {
        NDArray e = Nd.mul(cond.embedding(), Math.sqrt(config.embedDim()));   // unit norm → coordinates of unit scale
        long b = e.getShape().get(0);
        int w = config.glide().textWidth();
        NDArray c = tEmbedder.forward(t).add(clipToTime.forward(e));
        NDArray tokens = clipToTokens.forward(e).reshape(b, config.embedTokens(), w);
        if (!config.text()) return new NDArray[] {c, tokens, null};
        Glide.Text text = cond.text();
        NDArray xf = transformer.forward(text.ids());
        c = c.add(transformerProj.forward(Clip.TextEncoder.pool(xf, text.ends())));
        NDArray mask = text.mask().concat(text.mask().getManager().ones(new Shape(b, config.embedTokens())), 1);
        return new NDArray[] {c, xf.concat(tokens, 1), mask};
    }

    /** x_t (B, 3, I, I) in [−1, 1]-scaled pixels, t (B,) original timesteps, the condition → ε (B, 3, I, I). */
    public NDArray forward(NDArray x, NDArray t, Condition cond) {
        check(x, t, cond);
        Glide.Config g = config.glide();
        NDArray[] ctx = condition(t, cond);
        NDArray h = xEmbedder.forward(x).add(posEmbed);
        for (Glide.Block b : blocks) h = b.forward(h, ctx[0], ctx[1], ctx[2]);
        NDArray[] mod = adaLNFinal.forward(ctx[0]);
        h = linearFinal.forward(modulate(normFinal.forward(h), mod[0], mod[1]));
        return Patches.unpatchify(h, g.patch(), g.channels());
    }

    private void check(NDArray x, NDArray t, Condition cond) {
        Shape s = x.getShape();
        int size = config.glide().imageSize(), ch = config.glide().channels();
        if (s.dimension() != 4 || s.get(1) != ch || s.get(2) != size || s.get(3) != size) {
            throw new IllegalArgumentException("unCLIP decoder: expected images x_t of shape (batch, " + ch + ", " + size
                    + ", " + size + ") but got " + s + " (" + config.name() + ")");
        }
        if (cond == null) {
            throw new IllegalArgumentException("the unCLIP decoder is conditioned on CLIP image embeddings: pass "
                    + "new UnClipDecoder.Condition(clip.embedImages(images), captions or null)");
        }
        Shape e = cond.embedding().getShape();
        if (e.get(1) != config.embedDim()) {
            throw new IllegalArgumentException("unCLIP decoder: expected CLIP image embeddings of width " + config.embedDim()
                    + " but got " + e + ": embed with the CLIP this decoder was trained with (clip.embedImages)");
        }
        if (t.getShape().dimension() != 1 || t.getShape().get(0) != s.get(0) || e.get(0) != s.get(0)) {
            throw new IllegalArgumentException("unCLIP decoder: t and the condition must have " + s.get(0) + " rows, got t "
                    + t.getShape() + " and " + e.get(0) + " embedding(s)");
        }
        if (config.text() != (cond.text() != null)) {
            throw new IllegalArgumentException(config.text()
                    ? "this decoder also reads the caption: pass decoder.tokenize(manager, captions) (\"\" for none)"
                    : "this decoder has no caption input (" + config.name() + "): pass null as the text");
        }
        UnitVectors.requireUnit(cond.embedding(), "unCLIP decoder: the CLIP image embeddings", true);
    }

    @Override
    public NDArray apply(NDArray xt, NDArray t, Condition cond) {
        return forward(xt, t, cond);
    }

    /** Classifier-free guidance: ε(x, ∅) + s·(ε(x, c) − ε(x, ∅)), ∅ = zero embedding and empty caption. */
    public static ClassifierFreeGuidance<Condition> guidance(Denoiser<Condition> model, double scale) {
        return new ClassifierFreeGuidance<>(model, scale, Condition::nullCondition, Condition::concat);
    }
}
