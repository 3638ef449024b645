package org.lesson8.lessons;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.CaptionedShapes;
import org.lesson8.data.SceneAttributes;
import org.lesson8.data.SceneCaptions;
import org.lesson8.diffusion.ClipGuidance;
import org.lesson8.diffusion.Denoiser;
import org.lesson8.diffusion.GaussianDiffusion;
import org.lesson8.diffusion.Inpainting;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.diffusion.Samplers;
import org.lesson8.eval.TextToImageEval;
import org.lesson8.models.Clip;
import org.lesson8.models.Glide;
import org.lesson8.models.LatentDiffusion;
import org.lesson8.models.NoisedClip;
import org.lesson8.nn.Nd;
import org.lesson8.train.Ema;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.train.TrainLoop;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Notebook 06 (GLIDE): training the text-conditional {@link Glide} on captioned scenes and Fashion captions, sampling
 * captions → images with classifier-free guidance, the noised CLIP and CLIP-guided sampling to compare with, and the
 * inpainting model (fine-tuned from the base weights on random rectangular masks) with the known region pasted back.
 * <p>Data: {@link ClipLesson.Pairs#withScenes} (scenes of the training split, Fashion images with sampled captions,
 * grey repeated to RGB), mixed per batch as a {@link ClipLesson.Regime} says; pixels in [0, 1] become [−1, 1].
 */
public final class GlideLesson {
    private GlideLesson() {}

    /** The process GLIDE trains and samples with: cosine schedule, 1000 steps, Σ = β̃ (the model predicts ε only). */
    public static GaussianDiffusion process() {
        return GaussianDiffusion.cosine(1000, GaussianDiffusion.Variance.FIXED_SMALL);
    }

    /**
     * The base model's regime: batches of 64 (40 scenes + 24 Fashion: scenes have more to learn), AdamW 5e-4 with
     * 200 warm-up steps and cosine decay, no weight decay, gradients clipped to norm 1 (DiT's recipe at half the batch).
     */
    public static ClipLesson.Regime regime() {
        return new ClipLesson.Regime(new Recipe(64, 5e-4f, 0f, 200, 1f), 40);
    }

    /** One more cycle of the base model ({@code ./course train glideMore}): the base regime at lr 3e-4. */
    public static ClipLesson.Regime continuationRegime() {
        return new ClipLesson.Regime(new Recipe(64, 3e-4f, 0f, 200, 1f), 40);
    }

    /** The inpainting fine-tune: the base regime at a fifth of its learning rate and a short warm-up. */
    public static ClipLesson.Regime inpaintingRegime() {
        return new ClipLesson.Regime(new Recipe(64, 1e-4f, 0f, 50, 1f), 40);
    }

    /** The noised CLIP's fine-tune from the scene CLIP: its batch (96 Fashion + 160 scenes) at lr 3e-4. */
    public static ClipLesson.Regime noisedClipRegime() {
        return new ClipLesson.Regime(new Recipe(256, 3e-4f, 0.1f, 50, 1f), 160);
    }

    /** γ of the min-SNR loss weighting of the continuation cycles ({@link #minSnrWeights}). */
    public static final double MIN_SNR_GAMMA = 5;

    /**
     * Min-SNR-γ loss weights (Hang et al. 2023, "Efficient Diffusion Training via Min-SNR Weighting Strategy") for
     * ε-prediction: w_t = min(SNR_t, γ) / SNR_t with SNR_t = ᾱ_t / (1 − ᾱ_t), for timesteps t (B,) of {@code process}.
     * Low-noise steps (SNR &gt; γ), whose ε is easy and dominates the plain MSE's gradient, count less; the steps where the
     * picture's layout is decided keep weight 1. The optimum of the loss is unchanged (each t is still ε-MSE).
     */
    public static NDArray minSnrWeights(GaussianDiffusion process, NDArray t, double gamma) {
        double[] ab = process.alphasCumprod();
        long[] ts = t.toLongArray();
        float[] w = new float[ts.length];
        for (int i = 0; i < ts.length; i++) {
            double snr = ab[(int) ts[i]] / (1 - ab[(int) ts[i]]);
            w[i] = (float) (Math.min(snr, gamma) / snr);
        }
        return t.getManager().create(w);
    }

    /** EMA decay of the sampled weights (GLIDE and DiT: 0.9999 over far longer runs). */
    public static final double EMA_DECAY = 0.999;

    // ------------------------------------------------------------------ training

    /**
     * Trains {@code model} with the ε-MSE of {@code process} (fixed variance: no L_vlb term) on mixed batches of
     * {@code data}; each caption becomes the empty caption with probability {@code captionDropout}. An inpainting model
     * ({@link Glide.Config#inpaint}) also gets its image with a {@link #randomMasks random rectangle} erased. With
     * {@code ema} (may be null) the moving average is updated after every step.
     */
    public static TrainLoop train(Glide model, GaussianDiffusion process, ClipLesson.Pairs data, ClipLesson.Regime r, int steps,
                                  double seconds, long seed, MetricsLog log, Ema ema, IntConsumer onStep) {
        return train(model, process, data, r, 0, steps, seconds, seed, log, ema, onStep);
    }

    /**
     * {@link #train} with the per-example ε-MSE weighted by {@link #minSnrWeights} when {@code minSnrGamma} &gt; 0 (0: the
     * plain mean, GLIDE's loss). "mse" is logged unweighted either way, so that curves stay comparable.
     */
    public static TrainLoop train(Glide model, GaussianDiffusion process, ClipLesson.Pairs data, ClipLesson.Regime r,
                                  double minSnrGamma, int steps, double seconds, long seed, MetricsLog log, Ema ema,
                                  IntConsumer onStep) {
        Random drop = new Random(seed + 1);
        Random tRng = new Random(seed + 2);
        Random maskRng = new Random(seed + 3);
        NoiseSource noise = NoiseSource.seeded(new Random(seed + 4));
        TrainLoop loop = r.recipe().loop(model, steps, log);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            ClipLesson.Pairs.Batch b = data.next(sub, r.fashionPerBatch(), r.captionedPerBatch());
            NDArray x0 = LatentDiffusion.toSigned(b.images());
            int n = b.captions().size();
            Glide.Text text = model.dropCaptions(model.tokenize(sub, b.captions()), drop);
            if (model.config.inpaint()) text = text.withInpainting(x0, randomMasks(sub, n, model.config.imageSize(), maskRng));
            NDArray t = process.sampleTimesteps(sub, n, tRng);
            return weighted(process.trainingLosses(model, x0, t, text, noise).mse(), process, t, minSnrGamma, metrics);
        }, step -> {
            if (ema != null) ema.update();
            if (onStep != null) onStep.accept(step);
        });
        return loop;
    }

    /** The mean of per-example ε-MSE {@code mse} (B,), min-SNR weighted when γ &gt; 0; logs the plain mean as "mse". */
    public static NDArray weighted(NDArray mse, GaussianDiffusion process, NDArray t, double gamma, Map<String, Double> metrics) {
        NDArray plain = mse.mean();
        metrics.put("mse", (double) plain.getFloat());
        return gamma > 0 ? mse.mul(minSnrWeights(process, t, gamma)).mean() : plain;
    }

    /**
     * Fine-tunes a noised CLIP on noised pairs (x_t, t, caption): x_0 from {@code data} in [−1, 1], t uniform over the
     * process, x_t = q(x_t | x_0); CLIP's contrastive loss. Logs "loss" and "i2t_acc" (image → text top-1 in the batch).
     */
    public static TrainLoop trainNoisedClip(NoisedClip clip, GaussianDiffusion process, ClipLesson.Pairs data, ClipLesson.Regime r,
                                            int steps, double seconds, long seed, MetricsLog log, IntConsumer onStep) {
        Random tRng = new Random(seed + 2);
        NoiseSource noise = NoiseSource.seeded(new Random(seed + 4));
        TrainLoop loop = r.recipe().loop(clip, steps, log);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            ClipLesson.Pairs.Batch b = data.next(sub, r.fashionPerBatch(), r.captionedPerBatch());
            NDArray x0 = LatentDiffusion.toSigned(b.images());
            NDArray t = process.sampleTimesteps(sub, b.captions().size(), tRng);
            NDArray xt = process.qSample(x0, t, noise.sample(sub, x0.getShape()));
            NDArray logits = clip.clip.logits(clip.embedNoised(xt, t), clip.embedTexts(sub, b.captions()));
            metrics.put("i2t_acc", topOne(logits));
            return Clip.contrastiveLoss(logits);
        }, step -> {
            clip.clip.clampLogitScale();
            if (onStep != null) onStep.accept(step);
        });
        return loop;
    }

    /** Share of rows whose largest logit is on the diagonal. */
    static double topOne(NDArray logits) {
        long[] best = logits.argMax(1).toLongArray();
        int right = 0;
        for (int i = 0; i < best.length; i++) if (best[i] == i) right++;
        return right / (double) best.length;
    }

    // ------------------------------------------------------------------ sampling

    /**
     * Captions → images (N, 3, I, I) in [0, 1] with classifier-free guidance at scale {@code s} (s = 1: the conditional
     * model alone, s = 0: the unconditional one) and deterministic DDIM over {@code steps} steps, x_T drawn from
     * {@code seed}. The returned generator is what {@link TextToImageEval#evaluate} measures.
     */
    public static TextToImageEval.Generator generator(Glide model, double s, int steps) {
        GaussianDiffusion d = process().respace(steps);
        return (m, captions, seed) -> {
            NDArray xT = NoiseSource.seeded(new Random(seed)).sample(m, imageShape(model, captions.size()));
            Denoiser<Glide.Text> guided = s == 1 ? model : Glide.guidance(model, s);
            return toUnit(Samplers.ddim(d, guided, xT, model.tokenize(m, captions), 0, null, true, null));
        };
    }

    /**
     * Captions → images as openai/glide-text2im samples its base model: classifier-free guidance at scale {@code s}
     * and ancestral sampling (DDPM, Σ = β̃ of the respaced process) over {@code steps} respaced steps (the reference
     * uses 100). x_T from {@code seed}, the noise of every step from the stream that follows it.
     */
    public static TextToImageEval.Generator ancestral(Glide model, double s, int steps) {
        GaussianDiffusion d = process().respace(steps);
        return (m, captions, seed) -> {
            Random rng = new Random(seed);
            NDArray xT = NoiseSource.seeded(rng).sample(m, imageShape(model, captions.size()));
            Denoiser<Glide.Text> guided = s == 1 ? model : Glide.guidance(model, s);
            return toUnit(Samplers.ddpm(d, guided, xT, model.tokenize(m, captions), NoiseSource.seeded(rng), true, null));
        };
    }

    /**
     * Captions → images with the text-conditional model steered by a noised CLIP (GLIDE §2.4) at scale {@code s}, no
     * classifier-free guidance: the paper's form ({@link ClipGuidance.Form#MEAN}) samples ancestrally (DDPM) over
     * {@code steps} respaced steps, the {@link ClipGuidance.Form#EPSILON epsilon} form with DDIM.
     */
    public static TextToImageEval.Generator clipGuided(Glide model, NoisedClip clip, double s, int steps, ClipGuidance.Form form) {
        GaussianDiffusion d = process().respace(steps);
        return (m, captions, seed) -> {
            Random rng = new Random(seed);
            NDArray xT = NoiseSource.seeded(rng).sample(m, imageShape(model, captions.size()));
            ClipGuidance<Glide.Text> guided = new ClipGuidance<>(model, d, clip.score(m, captions), s, form);
            Glide.Text text = model.tokenize(m, captions);
            NDArray x = form == ClipGuidance.Form.MEAN
                    ? Samplers.ddpm(d, guided, xT, text, NoiseSource.seeded(rng), true, null)
                    : Samplers.ddim(d, guided, xT, text, 0, null, true, null);
            return toUnit(x);
        };
    }

    /**
     * Fills the erased region of {@code images} (N, 3, I, I) in [0, 1] to match {@code captions}: {@code keep}
     * (N, 1, I, I) is 1 where a pixel stays. The inpainting model also sees [image·keep ; keep]; any model gets the
     * known region pasted back after each step ({@link Inpainting#pasteKnown}). Guidance {@code s}, DDIM with
     * {@code steps} steps, noise from {@code seed}. Outside the region the result equals {@code images} exactly.
     */
    public static NDArray inpaint(Glide model, NDManager m, NDArray images, NDArray keep, List<String> captions, double s,
                                  int steps, long seed) {
        GaussianDiffusion d = process().respace(steps);
        Random rng = new Random(seed);
        NDArray x0 = LatentDiffusion.toSigned(images);
        NDArray xT = NoiseSource.seeded(rng).sample(m, imageShape(model, captions.size()));
        Glide.Text text = model.tokenize(m, captions);
        if (model.config.inpaint()) text = text.withInpainting(x0, keep);
        Denoiser<Glide.Text> guided = s == 1 ? model : Glide.guidance(model, s);
        NDArray x = Samplers.ddim(d, guided, xT, text, 0, null, true,
                Inpainting.pasteKnown(d, x0, keep, NoiseSource.seeded(rng), null));
        // the last step pasted x_0 itself; taking the known pixels from the input avoids the rounding of [−1, 1] ↔ [0, 1]
        return NDArrays.where(keep.eq(1).broadcast(images.getShape()), images, toUnit(x));
    }

    private static Shape imageShape(Glide model, int n) {
        int size = model.config.imageSize();
        return new Shape(n, model.config.channels(), size, size);
    }

    /** [−1, 1] → [0, 1], clipped. */
    private static NDArray toUnit(NDArray signed) {
        return Nd.mul(signed.add(1), 0.5).clip(0, 1);
    }

    // ------------------------------------------------------------------ inpainting

    /**
     * Keep-masks (N, 1, size, size), 1 = known pixel, each with one rectangle erased (0): width and height uniform in
     * [size/4, 3·size/4], placed uniformly inside the image. The same {@code rng} state gives the same masks.
     */
    public static NDArray randomMasks(NDManager m, int n, int size, Random rng) {
        int lo = size / 4, hi = 3 * size / 4;
        int[][] rects = new int[n][];
        for (int i = 0; i < n; i++) {
            int w = lo + rng.nextInt(hi - lo + 1), h = lo + rng.nextInt(hi - lo + 1);
            rects[i] = new int[] {rng.nextInt(size - w + 1), rng.nextInt(size - h + 1), w, h};
        }
        return rectangleMasks(m, size, rects);
    }

    /**
     * Keep-masks (N, 1, size, size) with rectangle {x, y, width, height} (pixels, from the top left) of row i erased.
     * A rectangle that leaves the image is an error.
     */
    public static NDArray rectangleMasks(NDManager m, int size, int[][] rects) {
        float[] v = new float[rects.length * size * size];
        Arrays.fill(v, 1f);
        for (int i = 0; i < rects.length; i++) {
            int[] r = rects[i];
            if (r.length != 4 || r[0] < 0 || r[1] < 0 || r[2] < 1 || r[3] < 1 || r[0] + r[2] > size || r[1] + r[3] > size) {
                throw new IllegalArgumentException("mask " + i + ": the rectangle {x, y, width, height} = "
                        + Arrays.toString(r) + " does not lie inside a " + size + "×" + size + " image");
            }
            for (int y = r[1]; y < r[1] + r[3]; y++) {
                Arrays.fill(v, i * size * size + y * size + r[0], i * size * size + y * size + r[0] + r[2], 0f);
            }
        }
        return m.create(v, new Shape(rects.length, 1, size, size));
    }

    /**
     * The inpainting model (GLIDE §3.3) made from a trained base model: the same configuration
     * {@link Glide.Config#withInpainting with the inputs} [image·keep ; keep], every parameter copied from {@code base},
     * and the patch embedding's weights of the 4 extra input channels set to zero. Before fine-tuning it therefore
     * computes exactly what {@code base} computes, whatever image and mask it is given.
     */
    public static Glide inpaintingFrom(Glide base, NDManager m) {
        Glide inp = new Glide(m, base.config.withInpainting(), base.tokenizer, 0);
        return copyFrom(base, inp, "the inpainting model", (dst, src) -> dst == inp.xEmbedder.weight
                ? widenInput(src.toFloatArray(), src.getShape(), dst.getShape()) : null);
    }

    /**
     * The 2×2-patch model ({@link Glide#coursePatch2()}) made from a trained 4×4 one, to be fine-tuned: every parameter
     * whose shape does not depend on the patch is copied (blocks, text transformer, timestep and final-token paths).
     * The patch embedding's 2×2 kernel is the sum of the 4×4 kernel over each 2×2 quarter, so that an image of one
     * colour gets the same token as before; the output layer's 12 values of a token are the means of the 4×4 layer's
     * values over the same quarters (a coarse picture of what the base model predicts). The position table is the
     * 14×14 grid's own. Only these two layers and the finer grid are new; fine-tuning teaches the rest to use them.
     */
    public static Glide patch2From(Glide base, NDManager m) {
        Glide.Config b = base.config;
        if (b.patch() != 4 || b.imageSize() % 2 != 0) {
            throw new IllegalArgumentException("patch2From needs a model with 4×4 patches, got " + b.patch() + "×" + b.patch());
        }
        Glide.Config c = new Glide.Config(Glide.coursePatch2().name(), b.imageSize(), b.channels(), 2, b.dim(), b.depth(), b.heads(),
                b.mlpRatio(), b.vocab(), b.context(), b.textWidth(), b.textDepth(), b.textHeads(), b.inpaint(), b.captionDropout());
        Glide fine = new Glide(m, c, base.tokenizer, 0);
        int ch = b.channels();
        return copyFrom(base, fine, "the 2×2 model", (dst, src) -> {
            float[] s = src.toFloatArray();
            float[] d = new float[(int) dst.getShape().size()];
            if (dst == fine.xEmbedder.weight) {              // (D, C, 4, 4) → (D, C, 2, 2): sums over quarters
                int in = (int) src.getShape().get(1);
                for (int o = 0; o < src.getShape().get(0); o++) {
                    for (int k = 0; k < in; k++) {
                        for (int i = 0; i < 2; i++) {
                            for (int j = 0; j < 2; j++) {
                                float sum = 0;
                                for (int x = 0; x < 2; x++) for (int y = 0; y < 2; y++) sum += s[((o * in + k) * 4 + 2 * i + x) * 4 + 2 * j + y];
                                d[((o * in + k) * 2 + i) * 2 + j] = sum;
                            }
                        }
                    }
                }
                return d;
            }
            if (dst != fine.linearFinal.weight && dst != fine.linearFinal.bias) return null;
            int cols = dst == fine.linearFinal.weight ? (int) src.getShape().get(1) : 1;   // rows (p, p, C): means over quarters
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    for (int k = 0; k < ch; k++) {
                        for (int col = 0; col < cols; col++) {
                            float sum = 0;
                            for (int x = 0; x < 2; x++) for (int y = 0; y < 2; y++) sum += s[(((2 * i + x) * 4 + 2 * j + y) * ch + k) * cols + col];
                            d[((i * 2 + j) * ch + k) * cols + col] = sum / 4;
                        }
                    }
                }
            }
            return d;
        });
    }

    /**
     * Every parameter of {@code target} from the parameter of the same name in {@code base}: copied when the shapes
     * agree, otherwise the values {@code resize} makes from the base's (it answers null for a parameter it does not
     * know how to resize, which is an error, as is a parameter the base lacks).
     */
    private static Glide copyFrom(Glide base, Glide target, String what,
                                  java.util.function.BiFunction<NDArray, NDArray, float[]> resize) {
        Map<String, NDArray> from = base.parameters();
        for (Map.Entry<String, NDArray> e : target.parameters().entrySet()) {
            NDArray src = from.get(e.getKey());
            NDArray dst = e.getValue();
            if (src == null) throw new IllegalStateException("the base model has no parameter '" + e.getKey() + "'");
            float[] values = src.getShape().equals(dst.getShape()) ? src.toFloatArray() : resize.apply(dst, src);
            if (values == null) {
                throw new IllegalStateException("parameter '" + e.getKey() + "' has shape " + src.getShape() + " in the base model but "
                        + dst.getShape() + " in " + what);
            }
            dst.set(values);
        }
        return target;
    }

    /** Weights (D, C, p, p) → (D, C', p, p), C' &gt; C: the first C input channels copied, the others zero. */
    private static float[] widenInput(float[] w, Shape from, Shape to) {
        long d = from.get(0), c = from.get(1), c2 = to.get(1), k = from.get(2) * from.get(3);
        float[] out = new float[(int) to.size()];
        for (int o = 0; o < d; o++) System.arraycopy(w, (int) (o * c * k), out, (int) (o * c2 * k), (int) (c * k));
        return out;
    }

    /** An edit for the inpainting measure: a scene, and the caption of the same scene with its right-hand object recoloured. */
    public record Edit(CaptionedScenes.Scene original, String caption) {}

    /**
     * The first {@code n} two-object horizontal scenes of a split, each with a new colour for its right-hand object
     * (the next colour that is not the left object's and makes no held-out combination): erase the right half and refill it from the caption.
     */
    public static List<Edit> recolourRight(CaptionedScenes scenes, CaptionedScenes.Split split, int n) {
        List<Edit> out = new ArrayList<>();
        int colours = CaptionedShapes.COLOURS.size();
        for (long i = 0; out.size() < n; i++) {
            CaptionedScenes.Scene sc = scenes.scene(split, i);
            SceneAttributes a = sc.attributes();
            if (a.objects() != 2 || a.axis() != SceneAttributes.HORIZONTAL) continue;
            for (int k = 1; k < colours; k++) {
                int colour = (a.colour2() + k) % colours;
                if (colour == a.colour1()) continue;   // the two objects of a scene differ in colour
                SceneAttributes b = new SceneAttributes(2, a.colour1(), a.shape1(), colour, a.shape2(), a.axis(), a.size(), a.position());
                if (!CaptionedScenes.isHeldOut(b)) {
                    out.add(new Edit(sc, SceneCaptions.canonical(b)));
                    break;
                }
            }
        }
        return out;
    }
}
