package org.lesson8.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.lesson8.course.Mode;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.FashionCaptions;
import org.lesson8.data.FashionMnist;
import org.lesson8.data.SceneAttributes;
import org.lesson8.data.SceneCaptions;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * The fixed prompts of the shared text-to-image evaluation (notebooks 05, 06 and 07 print the same rows), each with its
 * ground truth, in five groups:
 * <ul>
 *   <li><b>one-object seen</b> / <b>two-object seen</b>: canonical captions ({@link SceneCaptions#canonical}) of the
 *       first distinct one- and two-object scenes of {@link CaptionedScenes.Split#TEST}: combinations a model has seen
 *       in training, drawn afresh;</li>
 *   <li><b>one-object held-out</b> / <b>two-object held-out</b>: the first distinct scenes of
 *       {@link CaptionedScenes.Split#HELD_OUT_ONE} / {@link CaptionedScenes.Split#HELD_OUT_TWO}, combinations no
 *       training caption contains (compositional generalisation);</li>
 *   <li><b>fashion</b>: "a photo of a {label}." ({@link FashionCaptions#prompt}) for Fashion-MNIST classes.</li>
 * </ul>
 * Scenes come from {@code new CaptionedScenes(SEED)}, so the set is the same on every machine; the small set is the
 * first prompts of each scene group of the full one.
 *
 * <p><b>Real images of a prompt</b> ({@link #real}) are numbered draws: a scene rendered anew from its attributes with
 * {@link CaptionedScenes#render}(attributes, draw), or the draw-th Fashion-MNIST test image of the class. Draws
 * {@code 0 .. RESERVED_DRAWS − 1} are the evaluation's reference images; the {@code real} reference generator draws
 * beyond them, so that it is compared with other images of the same prompts.
 */
public final class PromptSet {
    /** The seed of the scenes the prompts are drawn from and their real images are rendered with. */
    public static final long SEED = 8;
    /** Draws below this are the reference images of each prompt (at most this many samples per prompt). */
    public static final int RESERVED_DRAWS = 100;

    public enum Group {
        ONE_SEEN("one-object seen"), ONE_HELD_OUT("one-object held-out"), TWO_SEEN("two-object seen"),
        TWO_HELD_OUT("two-object held-out"), FASHION("fashion");

        public final String label;

        Group(String label) {
            this.label = label;
        }

        /** Whether the group's prompts describe scenes (judged by the caption judge) rather than Fashion classes. */
        public boolean scenes() {
            return this != FASHION;
        }
    }

    /** A prompt and its ground truth: the scene's attributes ({@code fashionClass} −1), or the class ({@code scene} null). */
    public record Prompt(Group group, String caption, SceneAttributes scene, int fashionClass) {}

    private static final CaptionedScenes SCENES = new CaptionedScenes(SEED);
    private static final Map<String, Integer> FASHION_CLASS = fashionClasses();
    private static List<int[]> fashionIndices;

    private final String name;
    private final List<Prompt> prompts;

    private PromptSet(String name, List<Prompt> prompts) {
        if (prompts.isEmpty()) throw new IllegalArgumentException("a prompt set needs at least one prompt");
        this.name = name;
        this.prompts = List.copyOf(prompts);
    }

    /** FAST mode (tests, Binder): 4 prompts per scene group and 5 Fashion classes (0, 2, 4, 6, 8). */
    public static PromptSet small() {
        return standard("small", 4, 5);
    }

    /** The lecture's set: 8 prompts per scene group and all 10 Fashion classes. */
    public static PromptSet full() {
        return standard("full", 8, 10);
    }

    public static PromptSet forMode(Mode mode) {
        return mode == Mode.FAST ? small() : full();
    }

    /** Images per prompt in an evaluation: 3 in FAST mode, 4 in the lecture, 8 in FULL. */
    public static int samplesPerPrompt(Mode mode) {
        return mode.pick(3, 4, 8);
    }

    /** Any captions of the scene grammar or Fashion prompts, each put in its group by {@link #prompt}. */
    public static PromptSet of(String name, List<String> captions) {
        return new PromptSet(name, captions.stream().map(PromptSet::prompt).toList());
    }

    private static PromptSet standard(String name, int perSceneGroup, int fashionClasses) {
        List<Prompt> out = new ArrayList<>();
        out.addAll(scenes(Group.ONE_SEEN, CaptionedScenes.Split.TEST, 1, perSceneGroup));
        out.addAll(scenes(Group.ONE_HELD_OUT, CaptionedScenes.Split.HELD_OUT_ONE, 1, perSceneGroup));
        out.addAll(scenes(Group.TWO_SEEN, CaptionedScenes.Split.TEST, 2, perSceneGroup));
        out.addAll(scenes(Group.TWO_HELD_OUT, CaptionedScenes.Split.HELD_OUT_TWO, 2, perSceneGroup));
        for (int k = 0; k < fashionClasses; k++) {
            int c = k * FashionCaptions.LABELS.size() / fashionClasses;
            out.add(new Prompt(Group.FASHION, FashionCaptions.prompt(c), null, c));
        }
        return new PromptSet(name, out);
    }

    /** The first {@code n} distinct scenes of {@code objects} objects in a split, as canonical prompts. */
    private static List<Prompt> scenes(Group group, CaptionedScenes.Split split, int objects, int n) {
        Set<SceneAttributes> seen = new LinkedHashSet<>();
        for (long i = 0; seen.size() < n; i++) {
            SceneAttributes a = SCENES.scene(split, i).attributes();
            if (a.objects() == objects) seen.add(a);
        }
        return seen.stream().map(a -> new Prompt(group, SceneCaptions.canonical(a), a, -1)).toList();
    }

    /**
     * A caption with its ground truth and group: a Fashion caption of {@link FashionCaptions} gives its class; any
     * other caption is parsed by {@link SceneCaptions#parse} (which explains what it refuses) and is held-out when
     * {@link CaptionedScenes#isHeldOut} says so.
     */
    public static Prompt prompt(String caption) {
        Integer c = caption == null ? null : FASHION_CLASS.get(caption.trim().toLowerCase());
        if (c != null) return new Prompt(Group.FASHION, caption, null, c);
        SceneAttributes a;
        try {
            a = SceneCaptions.parse(caption);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + "\n(or a Fashion caption of FashionCaptions, e.g. \""
                    + FashionCaptions.prompt(7) + "\")", e);
        }
        boolean heldOut = CaptionedScenes.isHeldOut(a);
        Group g = a.objects() == 1 ? (heldOut ? Group.ONE_HELD_OUT : Group.ONE_SEEN) : (heldOut ? Group.TWO_HELD_OUT : Group.TWO_SEEN);
        return new Prompt(g, caption, a, -1);
    }

    public String name() {
        return name;
    }

    public List<Prompt> prompts() {
        return prompts;
    }

    /** The groups that have prompts, in the order of {@link Group}. */
    public List<Group> groups() {
        return Arrays.stream(Group.values()).filter(g -> prompts.stream().anyMatch(p -> p.group() == g)).toList();
    }

    public List<Prompt> group(Group g) {
        return prompts.stream().filter(p -> p.group() == g).toList();
    }

    /**
     * Real images {@code firstDraw .. firstDraw + count − 1} of a prompt: scenes as (count, 3, 28, 28), Fashion images
     * as (count, 1, 28, 28), in [0, 1]. A Fashion class has 1,000 test images: draws from {@link #RESERVED_DRAWS} on
     * wrap around within the images after the reserved ones.
     */
    public static NDArray real(NDManager m, Prompt p, long firstDraw, int count) {
        if (p.scene() != null) {
            List<CaptionedScenes.Scene> s = new ArrayList<>(count);
            for (int j = 0; j < count; j++) s.add(SCENES.render(p.scene(), firstDraw + j));
            return CaptionedScenes.images(m, s);
        }
        int[] all = fashionIndices().get(p.fashionClass());
        int[] idx = new int[count];
        for (int j = 0; j < count; j++) {
            long d = firstDraw + j;
            idx[j] = all[(int) (d < RESERVED_DRAWS ? d : RESERVED_DRAWS + (d - RESERVED_DRAWS) % (all.length - RESERVED_DRAWS))];
        }
        return FashionMnist.test().images(m, idx);
    }

    private static synchronized List<int[]> fashionIndices() {
        if (fashionIndices == null) {
            FashionMnist.Split test = FashionMnist.test();
            List<int[]> out = new ArrayList<>();
            for (int c = 0; c < FashionCaptions.LABELS.size(); c++) {
                final int cls = c;
                out.add(IntStream.range(0, test.size).filter(i -> test.label(i) == cls).toArray());
            }
            fashionIndices = out;
        }
        return fashionIndices;
    }

    private static Map<String, Integer> fashionClasses() {
        Map<String, Integer> out = new HashMap<>();
        for (int c = 0; c < FashionCaptions.LABELS.size(); c++) {
            List<String> words = new ArrayList<>(FashionCaptions.WORDS.get(c));
            words.add(FashionCaptions.LABELS.get(c));
            for (String w : words) for (String t : FashionCaptions.TEMPLATES) out.put(FashionCaptions.fill(t, w), c);
        }
        return out;
    }
}
