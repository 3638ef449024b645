package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import org.lesson8.data.Tokenizer;
import org.lesson8.diffusion.ClassifierFreeGuidance;
import org.lesson8.diffusion.Denoiser;
import org.lesson8.nn.AdaLnModulation;
import org.lesson8.nn.CrossAttention;
import org.lesson8.nn.Init;
import org.lesson8.nn.LayerNorm;
import org.lesson8.nn.LearnedPositionEmbedding;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Mlp;
import org.lesson8.nn.Module;
import org.lesson8.nn.PatchEmbedding;
import org.lesson8.nn.Patches;
import org.lesson8.nn.PositionEmbeddings;
import org.lesson8.nn.Scoped;
import org.lesson8.nn.TimestepEmbedding;
import org.lesson8.nn.TokenEmbedding;
import org.lesson8.nn.TransformerBlock;

import static org.lesson8.nn.AdaLnModulation.gatedResidual;
import static org.lesson8.nn.AdaLnModulation.modulate;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * GLIDE (Nichol et al. 2021, "GLIDE: Towards Photorealistic Image Generation and Editing with Text-Guided Diffusion
 * Models", §2–3): a text-conditional ε-prediction network in pixel space. The caption's transformer conditions
 * the denoiser twice, through the timestep vector and through every attention layer:
 * <pre>
 *   caption ─ &lt;start&gt; w1 … wn &lt;end&gt; &lt;pad&gt;… ─ token embedding + E_pos ─ K × pre-LN block (not causal) ─ LN ─ xf (B, S, W)
 *                                                                                                     │
 *   t ─ sinusoid(256) → Linear → SiLU → Linear ──── + ←── Linear(W, D)( xf at &lt;end&gt; )     final token ──┤
 *                                                   ↓ c (B, D)                                          │ all tokens
 *   x_t (B, 3, I, I) [ ; image·mask (3) ; mask (1) ] ─ patchify (p×p) ─ + 2-D sin-cos position ─┐        │
 *                                                                                              ↓        ↓
 *          N × block:  x += gate·Attn( modulate(LN(x)) ; keys/values [ xf W_kv⁽ˡ⁾ ; x W_kv ] )     (pads hidden)
 *                      x += gate·MLP( modulate(LN(x)) )                   shift, scale, gate from c (adaLN-Zero)
 *          final layer: adaLN(c) → Linear → p·p·3 per token → unpatchify → ε (B, 3, I, I)
 * </pre>
 * <b>Pixel space at 28×28.</b> GLIDE has no autoencoder: its base model denoises 64×64 pixels. The course scenes are
 * 28×28 RGB, small enough to denoise directly: 4×4 patches give 49 tokens, as many as DiT's latents in notebook 03;
 * the model of notebook 06 ({@link #coursePatch2()}) continues from it at 2×2 patches, 196 tokens, for finer shapes.
 * Pixels are scaled to [−1, 1].
 * <p><b>Choices.</b> The text transformer is <em>not</em> causal (like GLIDE's; CLIP's is); it sees the pads, whose
 * token row is learned, and its feature is read at {@code <end>}. Each attention layer projects the text tokens to
 * keys and values of its own and puts them in front of the patches' own ({@link CrossAttention} with {@code withSelf});
 * pads are hidden there. The vector c drives adaLN-Zero, the transformer counterpart of the scale-shift GroupNorm of
 * GLIDE's residual blocks. Output: ε only, for a fixed variance: GLIDE's process with Σ = β̃ is
 * {@code GaussianDiffusion.cosine(1000, Variance.FIXED_SMALL)} (its base model also learns Σ). With probability {@code captionDropout} (0.2) a caption is replaced by the empty caption
 * ({@code <start><end>}), which makes {@link #guidance classifier-free guidance} possible.
 * <p><b>Inpainting</b> ({@link Config#inpaint}): the network also sees [image·mask ; mask] (mask 1 = known pixel),
 * GLIDE's fine-tuned editing model; a condition without them means nothing is known. Sampling pastes the known region
 * back after every step ({@link org.lesson8.diffusion.Inpainting}).
 * <p>Known differences from openai/glide-text2im: a DiT-style transformer over patches replaces the ADM U-Net; the
 * final token is read at {@code <end>} (GLIDE pads with its end token and reads the last position); GLIDE attends to
 * learned padding embeddings where we mask pads; fixed instead of learned variance; word-level tokens instead of BPE;
 * the shipped 2×2 model was not trained from scratch but made from the 4×4 one (course budget, see
 * {@code GlideLesson.patch2From}).
 */
public class Glide extends Module implements Denoiser<Glide.Text> {
    /**
     * A GLIDE configuration: image (size, channels, patch), denoiser (width, depth, heads, MLP ratio), text transformer
     * (vocabulary, context, width, depth, heads; same MLP ratio), the inpainting inputs, and the caption dropout.
     */
    public record Config(String name, int imageSize, int channels, int patch, int dim, int depth, int heads, int mlpRatio,
                         int vocab, int context, int textWidth, int textDepth, int textHeads, boolean inpaint,
                         double captionDropout) {
        public int grid() {
            return imageSize / patch;
        }

        /** Input channels: x_t, plus [image·mask ; mask] for inpainting. */
        public int inChannels() {
            return inpaint ? 2 * channels + 1 : channels;
        }

        /** Parameters of the text transformer (embeddings, blocks, final LayerNorm), from the configuration alone. */
        public long textParameterCount() {
            long w = textWidth, h = (long) mlpRatio * textWidth;
            long block = 2 * w + (4 * w * w + 4 * w) + 2 * w + (w * h + h + h * w + w);
            return (long) vocab * w + (long) context * w + textDepth * block + 2 * w;
        }

        /** Trainable parameters, from the configuration alone (the fixed position table is not counted). */
        public long parameterCount() {
            long d = dim, w = textWidth, h = (long) mlpRatio * dim, p2 = (long) patch * patch;
            long xEmbed = d * inChannels() * p2 + d;
            long finalToken = w * d + d;
            long attn = (d * d + d) + (w * 2 * d + 2 * d) + (2 * d * d + 2 * d) + (d * d + d);
            long mlp = d * h + h + h * d + d;
            long ada = d * 6 * d + 6 * d;
            long fin = d * 2 * d + 2 * d + d * p2 * channels + p2 * channels;
            return xEmbed + TimestepEmbedding.parameterCount(d) + textParameterCount() + finalToken
                    + depth * (attn + mlp + ada) + fin;
        }

        /** The same network with the inpainting inputs. */
        public Config withInpainting() {
            return new Config(name + " + inpainting", imageSize, channels, patch, dim, depth, heads, mlpRatio, vocab,
                    context, textWidth, textDepth, textHeads, true, captionDropout);
        }
    }

    /**
     * The paper's sizes (§3.1): 64×64 pixels, a text transformer of 24 blocks of width 2048 over 128 tokens (about
     * 1.2B parameters), GPT-2's 50,257-token BPE vocabulary. Its visual part is a 2.3B-parameter ADM U-Net; here a
     * transformer of width 2048 (GLIDE's embedding width) with 27 blocks stands in for it at the same size.
     */
    public static Config paper() {
        return new Config("GLIDE (64px, text 24×2048; transformer stand-in for the 2.3B U-Net)", 64, 3, 4, 2048, 27, 32,
                4, 50257, 128, 2048, 24, 32, false, 0.2);
    }

    /**
     * The course model on the 28×28 RGB scenes and Fashion captions ({@link Tokenizer#textToImage()}, 20 tokens as
     * {@link Clip#textToImage()}): 4×4 patches → 49 tokens, 4 blocks of width 128, text transformer 3×64.
     */
    public static Config course() {
        return new Config("GLIDE-course (28px RGB, 49 patches, 4×128; text 3×64)", 28, 3, 4, 128, 4, 4, 4,
                Tokenizer.textToImage().size(), 20, 64, 3, 4, false, 0.2);
    }

    /**
     * The course model at 2×2 patches: {@link #course()} with 196 tokens instead of 49, the same blocks and text
     * transformer. It is the GLIDE of notebook 06 ({@code glide_p2.safetensors}): made from the trained 4×4 model by
     * {@link org.lesson8.lessons.GlideLesson#patch2From} and fine-tuned. Finer patches are meant for shapes: a small
     * object is about 8 pixels wide, two 4×4 patches, and the 4×4 model draws the right colour, size and place far more
     * often than the right shape (DiT's Table 4: smaller patches, better samples, at the price of more tokens).
     */
    public static Config coursePatch2() {
        return new Config("GLIDE-course 2×2 (28px RGB, 196 patches, 4×128; text 3×64)", 28, 3, 2, 128, 4, 4, 4,
                Tokenizer.textToImage().size(), 20, 64, 3, 4, false, 0.2);
    }

    /** A caption batch as the network reads it: token ids (B, S) int64, mask (B, S) 1 = real token, 0 = pad. */
    public record Text(NDArray ids, NDArray mask, NDArray inpaintImage, NDArray inpaintMask) {
        public Text {
            if (ids.getShape().dimension() != 2 || !mask.getShape().equals(ids.getShape())) {
                throw new IllegalArgumentException("caption ids and mask must both have shape (batch, context), got "
                        + ids.getShape() + " and " + mask.getShape() + ": build them with Glide.tokenize");
            }
            if ((inpaintImage == null) != (inpaintMask == null)) {
                throw new IllegalArgumentException("inpainting needs both the image and its mask, or neither");
            }
        }

        public Text(NDArray ids, NDArray mask) {
            this(ids, mask, null, null);
        }

        public long batch() {
            return ids.getShape().get(0);
        }

        /** The same captions with an image to edit (B, C, H, W) and its mask (B, 1, H, W): 1 = keep, 0 = fill. */
        public Text withInpainting(NDArray image, NDArray keep) {
            Shape s = image.getShape();
            if (s.dimension() != 4 || s.get(0) != batch() || !keep.getShape().equals(new Shape(s.get(0), 1, s.get(2), s.get(3)))) {
                throw new IllegalArgumentException("inpainting: expected an image (" + batch() + ", C, H, W) and a mask ("
                        + batch() + ", 1, H, W), got " + s + " and " + keep.getShape());
            }
            return new Text(ids, mask, image, keep);
        }

        /** The empty caption {@code <start><end>} for every row (the null condition); any inpainting input is kept. */
        public Text empty() {
            NDArray e = ids.zerosLike();
            e.set(new NDIndex(":, 0"), Tokenizer.START_ID);
            e.set(new NDIndex(":, 1"), Tokenizer.END_ID);
            NDArray real = mask.zerosLike();
            real.set(new NDIndex(":, :2"), 1);
            return new Text(e, real, inpaintImage, inpaintMask);
        }

        /** This batch followed by {@code other} along the batch axis. */
        public Text concat(Text other) {
            if ((inpaintImage == null) != (other.inpaintImage == null)) {
                throw new IllegalArgumentException("cannot join a caption batch with inpainting inputs to one without");
            }
            return new Text(ids.concat(other.ids, 0), mask.concat(other.mask, 0),
                    inpaintImage == null ? null : inpaintImage.concat(other.inpaintImage, 0),
                    inpaintMask == null ? null : inpaintMask.concat(other.inpaintMask, 0));
        }

        /** Captions → {@code context} token ids each and their pad mask, in {@code m} ({@link Glide#tokenize}). */
        public static Text tokenize(Tokenizer tokenizer, int context, NDManager m, List<String> captions) {
            long[] ids = new long[captions.size() * context];
            float[] mask = new float[ids.length];
            for (int i = 0; i < captions.size(); i++) {
                int[] e = tokenizer.encode(captions.get(i), context, false);
                for (int j = 0; j < context; j++) ids[i * context + j] = e[j];
                java.util.Arrays.fill(mask, i * context, i * context + Tokenizer.endPosition(e) + 1, 1f);
            }
            return new Text(m.create(ids, new Shape(captions.size(), context)), m.create(mask, new Shape(captions.size(), context)));
        }

        /** Each caption replaced by the empty caption with probability {@code p}; any inpainting input is kept. */
        public Text drop(double p, Random rng) {
            Shape shape = ids.getShape();
            boolean[] drop = new boolean[(int) shape.size()];
            for (int i = 0; i < batch(); i++) {
                if (rng.nextDouble() < p) java.util.Arrays.fill(drop, (int) (i * shape.get(1)), (int) ((i + 1) * shape.get(1)), true);
            }
            NDArray d = ids.getManager().create(drop, shape);
            Text e = empty();
            return new Text(NDArrays.where(d, e.ids, ids), NDArrays.where(d, e.mask, mask), inpaintImage, inpaintMask);
        }

        /** Position of {@code <end>} in each row: the last real token. */
        public int[] ends() {
            float[] real = mask.sum(new int[] {1}).toFloatArray();
            int[] out = new int[real.length];
            for (int i = 0; i < out.length; i++) out[i] = Math.round(real[i]) - 1;
            return out;
        }
    }

    /** The caption encoder: token embedding + learned positions → pre-LN blocks without a causal mask → LayerNorm. */
    public static final class TextTransformer extends Module {
        public final TokenEmbedding tokenEmbedding;
        public final LearnedPositionEmbedding positionalEmbedding;
        public final List<TransformerBlock> blocks = new ArrayList<>();
        public final LayerNorm finalLn;

        TextTransformer(NDManager m, Random rng, Config c) {
            super(m);
            int w = c.textWidth();
            tokenEmbedding = child("token_embedding", new TokenEmbedding(m, rng, c.vocab(), w));
            positionalEmbedding = child("positional_embedding", new LearnedPositionEmbedding(m, rng, c.context(), w));
            for (int i = 0; i < c.textDepth(); i++) {
                blocks.add(child("blocks." + i, new TransformerBlock(m, rng, w, c.textHeads(), (long) c.mlpRatio() * w)));
            }
            finalLn = child("final_ln", new LayerNorm(m, w));
        }

        /** ids (B, S) → every token's output (B, S, W). */
        public NDArray forward(NDArray ids) {
            NDArray x = positionalEmbedding.forward(tokenEmbedding.forward(ids), 0);
            for (TransformerBlock b : blocks) x = b.forward(x, false, false).out();
            return finalLn.forward(x);
        }
    }

    /** One denoiser block: adaLN-Zero around attention to [text tokens ; patches] and around the MLP. */
    public static final class Block extends Module {
        public final LayerNorm norm1;
        public final CrossAttention attn;
        public final LayerNorm norm2;
        public final Mlp mlp;
        public final AdaLnModulation adaLN;

        Block(NDManager m, Random rng, Config c) {
            super(m);
            norm1 = child("norm1", new LayerNorm(m, c.dim(), 1e-6f, false));
            attn = child("attn", new CrossAttention(m, rng, c.dim(), c.heads(), c.textWidth(), true));
            norm2 = child("norm2", new LayerNorm(m, c.dim(), 1e-6f, false));
            mlp = child("mlp", new Mlp(m, rng, c.dim(), (long) c.mlpRatio() * c.dim()));
            adaLN = child("adaLN_modulation", new AdaLnModulation(m, rng, c.dim(), 6));
        }

        /** x (B, N, D), c (B, D), text tokens xf (B, S, W) with their mask (B, S). */
        public NDArray forward(NDArray x, NDArray c, NDArray xf, NDArray textMask) {
            return Scoped.layer(() -> {
                NDArray[] mod = adaLN.forward(c);
                NDArray a = attn.forward(modulate(norm1.forward(x), mod[0], mod[1]), xf, textMask, false).out();
                NDArray y = gatedResidual(x, mod[2], a);
                return new NDArray[] {gatedResidual(y, mod[5], mlp.forward(modulate(norm2.forward(y), mod[3], mod[4])))};
            })[0];
        }
    }

    public final Config config;
    public final Tokenizer tokenizer;
    public final PatchEmbedding xEmbedder;
    public final NDArray posEmbed;
    public final TimestepEmbedding tEmbedder;
    public final TextTransformer transformer;
    public final Linear transformerProj;
    public final List<Block> blocks = new ArrayList<>();
    public final LayerNorm normFinal;
    public final AdaLnModulation adaLNFinal;
    public final Linear linearFinal;

    /** The course model's tokenizer ({@link Tokenizer#textToImage()}). */
    public Glide(NDManager m, Config c, long seed) {
        this(m, c, Tokenizer.textToImage(), seed);
    }

    public Glide(NDManager m, Config c, Tokenizer tokenizer, long seed) {
        super(m);
        tokenizer.requireSize(c.vocab());
        this.config = c;
        this.tokenizer = tokenizer;
        Random rng = new Random(seed);
        xEmbedder = child("x_embedder", new PatchEmbedding(m, rng, c.imageSize(), c.patch(), c.inChannels(), c.dim()));
        posEmbed = PositionEmbeddings.sinCos2d(m, c.dim(), c.grid());   // fixed, not a parameter
        tEmbedder = child("t_embedder", new TimestepEmbedding(m, rng, c.dim()));
        Init.fillNormal(tEmbedder.fc1.weight, rng, 0.02);
        Init.fillNormal(tEmbedder.fc2.weight, rng, 0.02);
        transformer = child("transformer", new TextTransformer(m, rng, c));
        transformerProj = child("transformer_proj", new Linear(m, rng, c.textWidth(), c.dim()));
        for (int i = 0; i < c.depth(); i++) blocks.add(child("blocks." + i, new Block(m, rng, c)));
        normFinal = child("final_layer.norm_final", new LayerNorm(m, c.dim(), 1e-6f, false));
        adaLNFinal = child("final_layer.adaLN_modulation", new AdaLnModulation(m, rng, c.dim(), 2));
        linearFinal = child("final_layer.linear",
                new Linear(m, rng, c.dim(), (long) c.patch() * c.patch() * c.channels()).zeroInit());
    }

    /**
     * Captions → token ids and pad mask in {@code m}. An unknown word or a caption longer than the context is an
     * error (the tokenizer's message); the empty caption "" is {@code <start><end>}, the unconditional model.
     */
    public Text tokenize(NDManager m, List<String> captions) {
        return Text.tokenize(tokenizer, config.context(), m, captions);
    }

    /** Classifier-free-guidance dropout: each caption becomes the empty caption with probability captionDropout. */
    public Text dropCaptions(Text text, Random rng) {
        return text.drop(config.captionDropout(), rng);
    }

    /** c = t-embedding + Linear(final token): (B, D); xf: every text token's output (B, S, W). */
    public NDArray[] condition(NDArray t, Text text) {
        NDArray xf = transformer.forward(text.ids());
        NDArray c = tEmbedder.forward(t).add(transformerProj.forward(Clip.TextEncoder.pool(xf, text.ends())));
        return new NDArray[] {c, xf};
    }

    /** x_t (B, 3, I, I) in [−1, 1]-scaled pixels, t (B,) original timesteps, captions → ε (B, 3, I, I). */
    public NDArray forward(NDArray x, NDArray t, Text text) {
        Shape s = x.getShape();
        int size = config.imageSize();
        if (s.dimension() != 4 || s.get(1) != config.channels() || s.get(2) != size || s.get(3) != size) {
            throw new IllegalArgumentException("GLIDE: expected images x_t of shape (batch, " + config.channels() + ", " + size
                    + ", " + size + ") but got " + s + ": GLIDE works in pixel space, on " + size + "×" + size
                    + " RGB images scaled to [-1, 1] (" + config.name() + ")");
        }
        if (t.getShape().dimension() != 1 || t.getShape().get(0) != s.get(0) || text.batch() != s.get(0)) {
            throw new IllegalArgumentException("GLIDE: t and the captions must have " + s.get(0) + " rows, got t "
                    + t.getShape() + " and " + text.batch() + " caption(s)");
        }
        NDArray[] cond = condition(t, text);
        NDArray h = xEmbedder.forward(input(x, text)).add(posEmbed);
        for (Block b : blocks) h = b.forward(h, cond[0], cond[1], text.mask());
        NDArray[] mod = adaLNFinal.forward(cond[0]);
        h = linearFinal.forward(modulate(normFinal.forward(h), mod[0], mod[1]));
        return Patches.unpatchify(h, config.patch(), config.channels());
    }

    /** x_t, or [x_t ; image·mask ; mask] for the inpainting model (zeros when nothing is known). */
    private NDArray input(NDArray x, Text text) {
        NDArray image = text.inpaintImage();
        if (!config.inpaint() && image != null) {
            throw new IllegalArgumentException("this GLIDE has no inpainting inputs (" + config.name()
                    + "): build it with config.withInpainting() and train it on masked images");
        }
        if (!config.inpaint()) return x;
        if (image == null) return x.concat(x.zerosLike(), 1).concat(x.get(":, :1").zerosLike(), 1);
        if (!image.getShape().equals(x.getShape())) {
            throw new IllegalArgumentException("inpainting image: expected shape " + x.getShape() + " (as x_t), got " + image.getShape());
        }
        return x.concat(image.mul(text.inpaintMask()), 1).concat(text.inpaintMask(), 1);
    }

    @Override
    public NDArray apply(NDArray xt, NDArray t, Text text) {
        if (text == null) {
            throw new IllegalArgumentException("GLIDE is conditioned on captions: pass glide.tokenize(manager, captions), "
                    + "with the empty caption \"\" for the unconditional model");
        }
        return forward(xt, t, text);
    }

    /** Classifier-free guidance with captions: ε(x, ∅) + s·(ε(x, c) − ε(x, ∅)), ∅ = the empty caption. */
    public static ClassifierFreeGuidance<Text> guidance(Denoiser<Text> model, double scale) {
        return new ClassifierFreeGuidance<>(model, scale, Text::empty, Text::concat);
    }
}
