package org.lesson8.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.lesson8.course.Course;
import org.lesson8.course.Interruption;
import org.lesson8.data.SceneAttributes;
import org.lesson8.eval.PromptSet.Group;
import org.lesson8.eval.PromptSet.Prompt;
import org.lesson8.models.Clip;
import org.lesson8.nn.Channels;
import org.lesson8.models.Vit;
import org.lesson8.train.Checkpoint;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The shared text-to-image evaluation of notebooks 05 (DALL·E), 06 (GLIDE) and 07 (unCLIP): any {@link Generator}
 * (captions in, images out) is run on a {@link PromptSet} and measured the same way, one row per prompt group and one
 * overall ({@link TextToImageReport}):
 * <ul>
 *   <li><b>caption accuracy</b>: the share of images that show their caption as a judge reads them. Scenes: the caption
 *       judge reads colours, shapes, sizes, positions and the relation ({@link CaptionJudging#captionCorrect}), also
 *       per attribute; Fashion: the lesson-01 ViT names the caption's class. This is the automatic version of the
 *       detector-based checks of object, colour and spatial-relation correctness in DALL-Eval (Cho, Zala &amp; Bansal
 *       2023) and T2I-CompBench (Huang et al. 2023).</li>
 *   <li><b>CLIP score</b>: the mean cosine of each image's and its caption's CLIP embeddings (Hessel et al. 2021,
 *       unscaled, see {@link ClipScores}), when a CLIP is given.</li>
 *   <li><b>diversity</b>: the spread of the images of one caption, the axis that guidance trades against fidelity
 *       (GLIDE, Nichol et al. 2022; unCLIP, Ramesh et al. 2022): the mean over prompts of the within-prompt standard
 *       deviation of the judge's features ({@link ClassJudge#withinClassStd}), divided by the same for real images of
 *       the same prompts. 1 = as varied as the data, 0 = one image per prompt.</li>
 *   <li><b>Fréchet distance</b> (FID, Heusel et al. 2017, with the judge's features in place of Inception's: the
 *       caption judge's for scenes, the ViT's for Fashion) between a group's images and as many real images of the
 *       same prompts. Few images per group bias it upwards, so read it beside the {@link #real()} row, not against 0.
 *       The overall row leaves it empty: distances in two feature spaces do not add up.</li>
 *   <li><b>images per second</b>: images over the wall time of {@link Generator#generate} calls.</li>
 * </ul>
 * The real images of each prompt are its reference draws {@code 0 .. samplesPerPrompt − 1} ({@link PromptSet#real}),
 * the same for every generator. Two reference generators give every table a ceiling and a floor: {@link #real()}
 * (other real images of each prompt: the judge's ceiling) and {@link #meanImage} (the pixel mean of real images of
 * each prompt: a caption-aware blur without any diversity).
 */
public final class TextToImageEval {
    private TextToImageEval() {}

    /** Captions in, images out: what DALL·E, GLIDE and unCLIP (and the reference rows) have in common. */
    @FunctionalInterface
    public interface Generator {
        /**
         * One image per caption, in order: (N, 3, 28, 28) in [0, 1], drawn with {@code seed} (Fashion-only captions may
         * come as grey (N, 1, 28, 28)). Arrays should belong to {@code m}, which is closed after they are measured.
         */
        NDArray generate(NDManager m, List<String> captions, long seed);
    }

    /**
     * The instruments: the caption judge for scene prompts, the lesson-01 ViT for Fashion prompts (either may be null
     * when the prompt set has none of its prompts), and an optional CLIP for the CLIP score.
     */
    public record Judges(CaptionJudging scenes, ClassJudge fashion, Clip clip) {
        /** The shipped caption judge and ViT (data/checkpoints), without a CLIP. */
        public static Judges shipped(NDManager m) throws IOException {
            Vit vit = new Vit(m, Vit.fashionSmall(), 0);
            Checkpoint.load(vit, Course.checkpoint("vit_fashion.safetensors"));
            return new Judges(CaptionJudging.load(m, Course.checkpoint(CaptionJudging.CHECKPOINT)), new ClassJudge(vit), null);
        }

        public Judges withClip(Clip clip) {
            return new Judges(scenes, fashion, clip);
        }

        void check(PromptSet prompts) {
            List<Group> groups = prompts.groups();
            if (scenes == null && groups.stream().anyMatch(Group::scenes)) {
                throw new IllegalArgumentException("the prompt set '" + prompts.name() + "' has scene prompts but no caption judge was "
                        + "given: pass Judges.shipped(m), or new Judges(CaptionJudging.shipped(m), viTJudge, clip)");
            }
            if (fashion == null && groups.contains(Group.FASHION)) {
                throw new IllegalArgumentException("the prompt set '" + prompts.name() + "' has Fashion prompts but no ViT judge was "
                        + "given: pass Judges.shipped(m), or new Judges(captionJudge, new ClassJudge(vit), clip)");
            }
        }
    }

    /**
     * The ceiling: each caption's ground truth ({@link PromptSet#prompt}) drawn anew, a scene rendered from its
     * attributes or a Fashion test image of its class. The k-th image of a prompt in a call is real draw
     * {@code firstDraw(seed) + k}, beyond the reference draws, so it is compared with other images of its prompt.
     */
    public static Generator real() {
        return (m, captions, seed) -> {
            Map<Object, Integer> drawn = new HashMap<>();
            List<NDArray> out = new ArrayList<>();
            for (String c : captions) {
                Prompt p = PromptSet.prompt(c);
                int k = drawn.merge(truth(p), 1, Integer::sum) - 1;
                out.add(PromptSet.real(m, p, firstDraw(seed) + k, 1));
            }
            return stack(out);
        };
    }

    /**
     * The floor: for each caption, the pixel mean of {@code count} real images of its ground truth (the draws that
     * {@link #real()} would return for it with the same seed), the same image for every sample of a caption. Its
     * diversity is 0; scenes vary little between draws (position jitter, shade, noise), so their mean stays sharp
     * and may well be judged correct: for scenes it is a floor of diversity more than of caption accuracy.
     */
    public static Generator meanImage(int count) {
        if (count < 1) throw new IllegalArgumentException("meanImage averages at least 1 real image per caption, not " + count);
        return (m, captions, seed) -> {
            Map<Object, NDArray> means = new HashMap<>();
            List<NDArray> out = new ArrayList<>();
            for (String c : captions) {
                Prompt p = PromptSet.prompt(c);
                out.add(means.computeIfAbsent(truth(p), t -> PromptSet.real(m, p, firstDraw(seed), count).mean(new int[] {0}, true)));
            }
            return stack(out);
        };
    }

    /** The first real draw of a reference generator called with {@code seed}: past the reserved ones, apart per seed. */
    static long firstDraw(long seed) {
        return PromptSet.RESERVED_DRAWS + Math.floorMod(seed, 1_000_000L) * 1000L;
    }

    private static Object truth(Prompt p) {
        return p.scene() != null ? p.scene() : p.fashionClass();
    }

    /** Images of one or several prompts in one batch; grey Fashion images get 3 channels when scenes are among them. */
    private static NDArray stack(List<NDArray> images) {
        boolean rgb = images.stream().anyMatch(x -> x.getShape().get(1) == 3);
        NDList list = new NDList();
        for (NDArray x : images) list.add(rgb && x.getShape().get(1) == 1 ? Channels.greyToRgb(x) : x);
        return NDArrays.concat(list, 0);
    }

    /** Pixel values a generator may overshoot [0, 1] by before the evaluation refuses its images. */
    static final double RANGE_TOLERANCE = 0.01;

    /**
     * Runs {@code generator} on every group of {@code prompts} ({@code samplesPerPrompt} images per prompt, the group's
     * k-th call drawn with {@code seed + k}) and measures the images with {@code judges} against as many real images of
     * each prompt.
     */
    public static TextToImageReport evaluate(String name, Generator generator, PromptSet prompts, int samplesPerPrompt, long seed,
                                             Judges judges) {
        if (samplesPerPrompt < 2 || samplesPerPrompt > PromptSet.RESERVED_DRAWS) {
            throw new IllegalArgumentException("samplesPerPrompt = " + samplesPerPrompt + ": diversity and the Fréchet distance need "
                    + "at least 2 images per prompt, and there are " + PromptSet.RESERVED_DRAWS + " reference images per prompt");
        }
        judges.check(prompts);
        List<Group> groups = prompts.groups();
        List<Measured> measured = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager()) {
            for (int k = 0; k < groups.size(); k++) {
                Interruption.check("evaluating " + name, k, groups.size(), () -> "no report was returned");
                measured.add(measure(m, name, generator, groups.get(k), prompts.group(groups.get(k)), samplesPerPrompt, seed + k, judges));
            }
        }
        List<TextToImageReport.Row> rows = new ArrayList<>();
        Map<Group, TextToImageReport.Samples> samples = new HashMap<>();
        for (Measured g : measured) {
            rows.add(g.row(name));
            samples.put(g.group, g.samples);
        }
        rows.add(overall(name, measured));
        return new TextToImageReport(name, rows, samples);
    }

    /** What a judge read from N images: scene attributes and head labels (scenes) or classes (Fashion), and features. */
    record Judgement(List<SceneAttributes> attributes, int[][] heads, int[] classes, double[][] features) {}

    /** One group's images and what the judges say of them. */
    record Measured(Group group, int prompts, boolean[] correct, double[] clip, List<SceneAttributes> truth, int[][] heads,
                    List<String> captions, double diversity, double frechet, double seconds, TextToImageReport.Samples samples) {
        TextToImageReport.Row row(String name) {
            Map<String, Double> attributes = group.scenes() ? CaptionJudging.accuracy(truth, heads, captions).perAttribute() : noAttributes();
            return new TextToImageReport.Row(name, group.label, prompts, correct.length, share(correct), attributes, mean(clip),
                    diversity, frechet, correct.length / seconds);
        }
    }

    private static Measured measure(NDManager parent, String name, Generator generator, Group group, List<Prompt> ps, int s, long seed,
                                    Judges judges) {
        List<String> captions = captions(ps, s);
        try (NDManager m = parent.newSubManager()) {
            long t0 = System.nanoTime();
            NDArray generated = generator.generate(m, captions, seed);
            double seconds = Math.max(1e-9, (System.nanoTime() - t0) / 1e9);
            float[] pixels = checked(name, group, generated, s, ps.size());
            Shape shape = generated.getShape();
            NDArray images = m.create(pixels, shape);
            List<NDArray> refs = new ArrayList<>();
            for (Prompt p : ps) refs.add(PromptSet.real(m, p, 0, s));
            NDArray real = NDArrays.concat(new NDList(refs), 0);
            double[] clip = judges.clip() == null ? null : ClipScores.clipScore(judges.clip(), m, images, captions);
            Judgement judged;
            double[][] realFeatures;
            if (group.scenes()) {
                CaptionJudging.Judged j = judges.scenes().judge(m, images);
                judged = new Judgement(j.attributes(), j.heads(), null, j.features());
                realFeatures = judges.scenes().judge(m, real).features();
            } else {
                ClassJudge.Judged j = judges.fashion().judge(m, shape.get(1) == 1 ? images : images.mean(new int[] {1}, true));
                judged = new Judgement(null, null, j.predictions(), j.features());
                realFeatures = judges.fashion().judge(m, real).features();
            }
            TextToImageReport.Samples samples = new TextToImageReport.Samples(ps.stream().map(Prompt::caption).toList(), s,
                    (int) shape.get(1), pixels);
            return score(group, ps, s, judged, realFeatures, clip, seconds, samples);
        }
    }

    /** Each prompt's caption {@code perPrompt} times in a row. */
    static List<String> captions(List<Prompt> ps, int perPrompt) {
        List<String> out = new ArrayList<>(ps.size() * perPrompt);
        for (Prompt p : ps) for (int j = 0; j < perPrompt; j++) out.add(p.caption());
        return out;
    }

    /**
     * The arithmetic of one group: image i shows prompt {@code i / perPrompt}; it is correct when the judged scene
     * agrees with its caption ({@link CaptionJudging#captionCorrect}) or the judged class is the prompt's class.
     * {@code realFeatures} are the judge's features of as many real images, in the same layout.
     */
    static Measured score(Group group, List<Prompt> ps, int perPrompt, Judgement judged, double[][] realFeatures, double[] clip,
                          double seconds, TextToImageReport.Samples samples) {
        List<String> captions = captions(ps, perPrompt);
        int n = captions.size();
        int[] promptOf = new int[n];
        boolean[] correct = new boolean[n];
        List<SceneAttributes> truth = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Prompt p = ps.get(i / perPrompt);
            promptOf[i] = i / perPrompt;
            if (group.scenes()) {
                correct[i] = CaptionJudging.captionCorrect(judged.attributes().get(i), captions.get(i));
                truth.add(p.scene());
            } else {
                correct[i] = judged.classes()[i] == p.fashionClass();
            }
        }
        return new Measured(group, ps.size(), correct, clip, truth, judged.heads(), captions,
                diversity(judged.features(), realFeatures, promptOf, ps.size()), Frechet.distance(realFeatures, judged.features()),
                seconds, samples);
    }

    /**
     * The generator's images as floats clamped to [0, 1], after checking their number, shape and range; each refusal
     * names the generator, the group and what was expected.
     */
    static float[] checked(String name, Group group, NDArray images, int perPrompt, int prompts) {
        int n = perPrompt * prompts;
        String who = "generator '" + name + "'";
        String what = " for the " + n + " captions of the " + group.label + " prompts (" + prompts + " prompts × " + perPrompt + " samples)";
        String expected = "(" + n + ", 3, 28, 28)" + (group.scenes() ? "" : " or, grey, (" + n + ", 1, 28, 28)");
        if (images == null) throw new IllegalArgumentException(who + " returned null" + what + ": it must return images " + expected);
        Shape s = images.getShape();
        if (s.dimension() == 4 && s.get(0) != n) {
            throw new IllegalArgumentException(who + " returned " + s.get(0) + " images" + what + ": it must return one image per caption, "
                    + "in the captions' order");
        }
        boolean channelsOk = s.dimension() == 4 && (s.get(1) == 3 || s.get(1) == 1 && !group.scenes());
        if (!channelsOk || s.get(2) != 28 || s.get(3) != 28) {
            throw new IllegalArgumentException(who + " returned images of shape " + s + what + ", but the evaluation needs " + expected);
        }
        float[] v = images.toType(DataType.FLOAT32, false).toFloatArray();
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        boolean nan = false;
        for (float x : v) {
            nan |= Float.isNaN(x);
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        if (nan || lo < -RANGE_TOLERANCE || hi > 1 + RANGE_TOLERANCE) {
            throw new IllegalArgumentException(who + " returned pixel values " + (nan ? "with NaN" : String.format(Locale.ROOT, "in [%.3f, %.3f]", lo, hi))
                    + what + ": images must lie in [0, 1] (clamp them, or map [-1, 1] to [0, 1] with (x + 1) / 2)");
        }
        for (int i = 0; i < v.length; i++) v[i] = Math.max(0f, Math.min(1f, v[i]));
        return v;
    }

    /**
     * Diversity: the mean over prompts of the within-prompt feature standard deviation of generated images, divided by
     * that of real images ({@code prompt[i]} names the prompt of row i in both).
     */
    static double diversity(double[][] generated, double[][] real, int[] prompt, int prompts) {
        return ClassJudge.withinClassStd(generated, prompt, prompts) / ClassJudge.withinClassStd(real, prompt, prompts);
    }

    /** All groups pooled: accuracies and CLIP score over all images, diversity as the mean of the groups' ratios. */
    private static TextToImageReport.Row overall(String name, List<Measured> groups) {
        int images = 0, right = 0, prompts = 0;
        double seconds = 0, clipSum = 0, diversity = 0;
        boolean clip = true;
        List<SceneAttributes> truth = new ArrayList<>();
        List<int[]> heads = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        for (Measured g : groups) {
            prompts += g.prompts;
            images += g.correct.length;
            for (boolean b : g.correct) if (b) right++;
            seconds += g.seconds;
            diversity += g.diversity / groups.size();
            if (g.clip == null) clip = false;
            else for (double c : g.clip) clipSum += c;
            if (g.group.scenes()) {
                truth.addAll(g.truth);
                heads.addAll(List.of(g.heads));
                captions.addAll(g.captions);
            }
        }
        Map<String, Double> attributes = truth.isEmpty() ? noAttributes()
                : CaptionJudging.accuracy(truth, heads.toArray(int[][]::new), captions).perAttribute();
        return new TextToImageReport.Row(name, TextToImageReport.OVERALL, prompts, images, right / (double) images, attributes,
                clip ? clipSum / images : Double.NaN, diversity, Double.NaN, images / seconds);
    }

    private static Map<String, Double> noAttributes() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String a : SceneAttributes.NAMES) out.put(a, Double.NaN);
        return out;
    }

    private static double share(boolean[] b) {
        int k = 0;
        for (boolean x : b) if (x) k++;
        return k / (double) b.length;
    }

    private static double mean(double[] v) {
        if (v == null) return Double.NaN;
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }
}
