package org.lesson8.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.lesson8.data.CaptionedShapes.COLOURS;
import static org.lesson8.data.CaptionedShapes.HELD_OUT;
import static org.lesson8.data.CaptionedShapes.SHAPES;

/**
 * The text-to-image data set of notebooks 04–07: RGB scenes of one or two coloured shapes with captions, drawn with
 * the rasteriser, colours, shapes, sizes and positions of {@link CaptionedShapes}.
 * <ul>
 *   <li>one object: "a small red circle on the left." (colour × shape × size × position);</li>
 *   <li>two objects in a spatial relation: "a red circle to the left of a blue square.", "a green cross above a
 *       yellow triangle.". The two always differ in colour and in shape, so swapping their colours gives another,
 *       wrong caption: the test of <b>attribute binding</b> (which colour belongs to which shape).</li>
 * </ul>
 * Images are <b>28×28</b>, the size of Fashion-MNIST, so that one CLIP image encoder serves both domains, and a 4×
 * downsampling gives DALL·E a 7×7 grid of image tokens. Captions come from the templates and synonyms of
 * {@link SceneCaptions}, drawn per example, so that models learn words, not strings; the {@link SceneAttributes} kept
 * beside each image are the ground truth that the caption judge is trained on and measured against.
 *
 * <p><b>Held out</b> (never in {@link Split#TRAIN} or {@link Split#TEST}): the colour–shape pairs of
 * {@link CaptionedShapes#HELD_OUT} in any object, and the object pairs of {@link #HELD_OUT_PAIRS} (each of their objects
 * is itself seen in training). {@link Split#HELD_OUT} shows only such combinations; {@link Split#ANY} draws from all
 * combinations and serves only the judge, the measuring instrument.
 *
 * <p>Scene {@code i} of a split depends only on (seed, split, i).
 */
public final class CaptionedScenes {
    public static final int SIZE = 28;
    /** Held-out object pairs (unordered), as "colour shape"; every object in them is a seen colour–shape pair. */
    public static final List<Set<String>> HELD_OUT_PAIRS = List.of(
            Set.of("red circle", "green square"), Set.of("blue triangle", "yellow cross"),
            Set.of("purple circle", "cyan cross"), Set.of("green triangle", "purple square"),
            Set.of("yellow circle", "red cross"), Set.of("cyan square", "blue cross"));

    /**
     * TRAIN and TEST: one or two objects, equally often, never a held-out combination (TEST with other random
     * streams); HELD_OUT_ONE / HELD_OUT_TWO: only held-out combinations, one or two objects (half of the two-object
     * scenes are held-out object pairs, half contain a held-out colour–shape pair); HELD_OUT: either of the two; ANY:
     * every combination, held-out ones included (the judge's training data only).
     */
    public enum Split { TRAIN, TEST, HELD_OUT, HELD_OUT_ONE, HELD_OUT_TWO, ANY }

    /** One example: a CHW RGB image in [0, 1], its caption (a phrasing drawn for it) and its attributes. */
    public record Scene(float[] image, String caption, SceneAttributes attributes) {
        public String canonicalCaption() {
            return SceneCaptions.canonical(attributes);
        }
    }

    public final long seed;

    public CaptionedScenes(long seed) {
        this.seed = seed;
    }

    /** Whether a scene shows a held-out colour–shape pair or a held-out object pair. */
    public static boolean isHeldOut(SceneAttributes a) {
        if (HELD_OUT.contains(a.object1())) return true;
        return a.objects() == 2 && (HELD_OUT.contains(a.object2()) || HELD_OUT_PAIRS.contains(Set.of(a.object1(), a.object2())));
    }

    /** Scene {@code i} of a split. */
    public Scene scene(Split split, long i) {
        Random r = new Random(CaptionedShapes.mix(seed, 10 + split.ordinal(), i));
        return render(r, attributes(split, r));
    }

    /** Scenes {@code 0 .. n-1} of a split. */
    public List<Scene> scenes(Split split, int n) {
        List<Scene> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(scene(split, i));
        return out;
    }

    /** Given attributes, rendered and phrased with the random stream of draw {@code i} (real images for a prompt). */
    public Scene render(SceneAttributes a, long i) {
        long code = 0;
        for (int label : a.labels()) code = code * 8 + label + 1;
        return render(new Random(CaptionedShapes.mix(seed, 20, i * 0x1000_0000L + code)), a);
    }

    /** Images of the scenes as (n, 3, 28, 28). */
    public static NDArray images(NDManager m, List<Scene> scenes) {
        int px = 3 * SIZE * SIZE;
        float[] v = new float[scenes.size() * px];
        for (int j = 0; j < scenes.size(); j++) System.arraycopy(scenes.get(j).image(), 0, v, j * px, px);
        return m.create(v, new Shape(scenes.size(), 3, SIZE, SIZE));
    }

    private static SceneAttributes attributes(Split split, Random r) {
        return switch (split) {
            case TRAIN, TEST -> {
                boolean two = r.nextBoolean();
                SceneAttributes a;
                do a = two ? two(r) : one(r); while (isHeldOut(a));
                yield a;
            }
            case HELD_OUT -> r.nextBoolean() ? heldOutOne(r) : heldOutTwo(r);
            case HELD_OUT_ONE -> heldOutOne(r);
            case HELD_OUT_TWO -> heldOutTwo(r);
            case ANY -> r.nextBoolean() ? one(r) : two(r);
        };
    }

    private static SceneAttributes one(Random r) {
        return SceneAttributes.one(r.nextInt(COLOURS.size()), r.nextInt(SHAPES.size()), r.nextInt(CaptionedShapes.SIZES.size()),
                r.nextInt(CaptionedShapes.POSITIONS.size()));
    }

    private static SceneAttributes two(Random r) {
        int c1 = r.nextInt(COLOURS.size()), s1 = r.nextInt(SHAPES.size()), c2, s2;
        do c2 = r.nextInt(COLOURS.size()); while (c2 == c1);
        do s2 = r.nextInt(SHAPES.size()); while (s2 == s1);
        return SceneAttributes.two(c1, s1, r.nextInt(2), c2, s2);
    }

    private static SceneAttributes heldOutOne(Random r) {
        SceneAttributes a;
        do a = one(r); while (!isHeldOut(a));
        return a;
    }

    private static SceneAttributes heldOutTwo(Random r) {
        if (r.nextBoolean()) {
            List<String> pair = new ArrayList<>(HELD_OUT_PAIRS.get(r.nextInt(HELD_OUT_PAIRS.size())));
            pair.sort(null);
            if (r.nextBoolean()) java.util.Collections.reverse(pair);
            String[] a = pair.get(0).split(" "), b = pair.get(1).split(" ");
            return SceneAttributes.two(COLOURS.indexOf(a[0]), SHAPES.indexOf(a[1]), r.nextInt(2), COLOURS.indexOf(b[0]), SHAPES.indexOf(b[1]));
        }
        SceneAttributes a;
        do a = two(r); while (!HELD_OUT.contains(a.object1()) && !HELD_OUT.contains(a.object2()));
        return a;
    }

    /**
     * Draws the image: one object at its position with the size jitter of {@link CaptionedShapes}; two objects at one
     * medium size, about half the image apart along the axis (the first left or above), with some jitter.
     */
    private static Scene render(Random r, SceneAttributes a) {
        String caption = SceneCaptions.sample(a, r);
        int n = SIZE;
        float[] img = CaptionedShapes.background(r, n);
        if (a.objects() == 1) {
            double radius = (a.size() == 0 ? 0.14 : 0.26) * n * (0.9 + 0.2 * r.nextDouble());
            double[] c = CaptionedShapes.centre(a.position(), n);
            double cx = c[0] + (r.nextDouble() - 0.5) * 0.06 * n;
            double cy = c[1] + (r.nextDouble() - 0.5) * 0.06 * n;
            CaptionedShapes.drawShape(img, n, a.shape1(), cx, cy, radius, CaptionedShapes.colour(a.colour1(), r));
        } else {
            double mid = (n - 1) / 2.0;
            int[][] objects = {{a.colour1(), a.shape1()}, {a.colour2(), a.shape2()}};
            for (int k = 0; k < 2; k++) {
                double radius = 0.17 * n * (0.9 + 0.2 * r.nextDouble());
                double along = mid + (k == 0 ? -1 : 1) * (0.25 + (r.nextDouble() - 0.5) * 0.05) * n;
                double across = mid + (r.nextDouble() - 0.5) * 0.1 * n;
                double cx = a.axis() == SceneAttributes.HORIZONTAL ? along : across;
                double cy = a.axis() == SceneAttributes.HORIZONTAL ? across : along;
                CaptionedShapes.drawShape(img, n, objects[k][1], cx, cy, radius, CaptionedShapes.colour(objects[k][0], r));
            }
        }
        return new Scene(img, caption, a);
    }
}
