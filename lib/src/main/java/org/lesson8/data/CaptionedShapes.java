package org.lesson8.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A deterministic toy text-to-image data set: one coloured shape on a dark background, with a
 * compositional caption "a {size} {colour} {shape} {position}.", e.g. "a small red circle on the left.".
 *
 * <p>6 colours × 4 shapes × 2 sizes × 5 positions = 240 distinct captions. Four colour × shape
 * combinations are <b>held out</b> ({@link #HELD_OUT}): they never occur in {@link #train} and
 * exist only in {@link #heldOut}, so a model that handles them has generalised compositionally.
 * Every colour and every shape still occurs in training, just not in those pairings.
 *
 * <p>Example {@code i} of a split depends only on (seed, split, i): the same call gives the same image.
 */
public final class CaptionedShapes {
    public static final List<String> COLOURS = List.of("red", "green", "blue", "yellow", "purple", "cyan");
    public static final List<String> SHAPES = List.of("circle", "square", "triangle", "cross");
    public static final List<String> SIZES = List.of("small", "large");
    public static final List<String> POSITIONS = List.of("on the left", "on the right", "at the top", "at the bottom", "in the centre");
    /** Held-out colour × shape pairs, as "colour shape". */
    public static final Set<String> HELD_OUT = Set.of("red triangle", "green cross", "blue circle", "yellow square");

    private static final float[][] RGB = {
        {0.90f, 0.15f, 0.15f}, {0.15f, 0.80f, 0.20f}, {0.20f, 0.35f, 0.95f},
        {0.95f, 0.90f, 0.15f}, {0.65f, 0.25f, 0.85f}, {0.15f, 0.85f, 0.90f}};

    /** One example: a CHW RGB image in [0, 1] and its caption and attributes. */
    public record Example(float[] image, String caption, int colour, int shape, int size, int position) {
        public String pair() {
            return COLOURS.get(colour) + " " + SHAPES.get(shape);
        }
    }

    public final int imageSize;
    public final long seed;

    public CaptionedShapes(int imageSize, long seed) {
        if (imageSize < 12) throw new IllegalArgumentException("captioned shapes need images of at least 12 pixels, got " + imageSize);
        this.imageSize = imageSize;
        this.seed = seed;
    }

    public static String caption(int colour, int shape, int size, int position) {
        return "a " + SIZES.get(size) + " " + COLOURS.get(colour) + " " + SHAPES.get(shape) + " " + POSITIONS.get(position) + ".";
    }

    public static boolean isHeldOut(int colour, int shape) {
        return HELD_OUT.contains(COLOURS.get(colour) + " " + SHAPES.get(shape));
    }

    /** All 240 captions, in a fixed order. */
    public static List<String> allCaptions() {
        List<String> out = new ArrayList<>();
        for (int c = 0; c < COLOURS.size(); c++)
            for (int s = 0; s < SHAPES.size(); s++)
                for (int z = 0; z < SIZES.size(); z++)
                    for (int p = 0; p < POSITIONS.size(); p++) out.add(caption(c, s, z, p));
        return out;
    }

    public static List<String> trainCaptions() {
        return allCaptions().stream().filter(t -> HELD_OUT.stream().noneMatch(t::contains)).toList();
    }

    public static List<String> heldOutCaptions() {
        return allCaptions().stream().filter(t -> HELD_OUT.stream().anyMatch(t::contains)).toList();
    }

    /** Training example i (never a held-out pair). */
    public Example train(long i) {
        Random r = new Random(mix(seed, 1, i));
        int c, s;
        do {
            c = r.nextInt(COLOURS.size());
            s = r.nextInt(SHAPES.size());
        } while (isHeldOut(c, s));
        return render(r, c, s, r.nextInt(SIZES.size()), r.nextInt(POSITIONS.size()));
    }

    /** Held-out example i (always one of the held-out pairs). */
    public Example heldOut(long i) {
        Random r = new Random(mix(seed, 2, i));
        List<String> pairs = new ArrayList<>(HELD_OUT);
        pairs.sort(null);
        String[] pair = pairs.get(r.nextInt(pairs.size())).split(" ");
        return render(r, COLOURS.indexOf(pair[0]), SHAPES.indexOf(pair[1]), r.nextInt(SIZES.size()), r.nextInt(POSITIONS.size()));
    }

    /** A given combination, rendered with the jitter of draw number i. */
    public Example render(long i, int colour, int shape, int size, int position) {
        return render(new Random(mix(seed, 3, i * 1000 + colour * 100 + shape * 10 + size * 5 + position)), colour, shape, size, position);
    }

    public List<Example> trainSet(int n) {
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(train(i));
        return out;
    }

    public List<Example> heldOutSet(int n) {
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(heldOut(i));
        return out;
    }

    /** Images of the examples as (n, 3, S, S). */
    public NDArray images(NDManager m, List<Example> ex) {
        int px = 3 * imageSize * imageSize;
        float[] v = new float[ex.size() * px];
        for (int j = 0; j < ex.size(); j++) System.arraycopy(ex.get(j).image(), 0, v, j * px, px);
        return m.create(v, new Shape(ex.size(), 3, imageSize, imageSize));
    }

    static long mix(long seed, long split, long i) {
        long h = seed * 0x9E3779B97F4A7C15L + split * 0xC2B2AE3D27D4EB4FL + i * 0x165667B19E3779F9L;
        h ^= (h >>> 31);
        return h * 0xBF58476D1CE4E5B9L;
    }

    private Example render(Random r, int colour, int shape, int size, int position) {
        int n = imageSize;
        float[] img = background(r, n);
        double radius = (size == 0 ? 0.14 : 0.26) * n * (0.9 + 0.2 * r.nextDouble());
        double[] centre = centre(position, n);
        double cx = centre[0] + (r.nextDouble() - 0.5) * 0.06 * n;
        double cy = centre[1] + (r.nextDouble() - 0.5) * 0.06 * n;
        drawShape(img, n, shape, cx, cy, radius, colour(colour, r));
        return new Example(img, caption(colour, shape, size, position), colour, shape, size, position);
    }

    /** A dark, slightly noisy CHW background of n×n pixels. */
    static float[] background(Random r, int n) {
        float[] img = new float[3 * n * n];
        for (int k = 0; k < img.length; k++) img[k] = 0.05f + 0.05f * r.nextFloat();
        return img;
    }

    /** The centre (x, y) of a position (left, right, top, bottom, centre) in an n×n image, before jitter. */
    static double[] centre(int position, int n) {
        double off = 0.27 * n;
        double mid = (n - 1) / 2.0;
        return switch (position) {
            case 0 -> new double[] {mid - off, mid};
            case 1 -> new double[] {mid + off, mid};
            case 2 -> new double[] {mid, mid - off};
            case 3 -> new double[] {mid, mid + off};
            default -> new double[] {mid, mid};
        };
    }

    /** The RGB of colour {@code colour}, each channel jittered by up to ±0.05. */
    static float[] colour(int colour, Random r) {
        float[] col = RGB[colour].clone();
        for (int k = 0; k < 3; k++) col[k] = Math.max(0f, Math.min(1f, col[k] + (r.nextFloat() - 0.5f) * 0.1f));
        return col;
    }

    /**
     * The rasteriser of the captioned shapes and scenes: paints shape {@code shape} (circle, square, triangle, cross) of
     * "radius" {@code radius} centred at ({@code cx}, {@code cy}) in colour {@code rgb} into a CHW image of n×n pixels.
     */
    static void drawShape(float[] img, int n, int shape, double cx, double cy, double radius, float[] rgb) {
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                double dx = x - cx;
                double dy = y - cy;
                boolean in = switch (shape) {
                    case 0 -> dx * dx + dy * dy <= radius * radius;
                    case 1 -> Math.abs(dx) <= radius * 0.85 && Math.abs(dy) <= radius * 0.85;
                    case 2 -> dy <= radius * 0.8 && dy >= -radius && Math.abs(dx) <= (dy + radius) * 0.58;
                    default -> (Math.abs(dx) <= radius * 0.3 && Math.abs(dy) <= radius)
                            || (Math.abs(dy) <= radius * 0.3 && Math.abs(dx) <= radius);
                };
                if (in) {
                    for (int k = 0; k < 3; k++) img[k * n * n + y * n + x] = rgb[k];
                }
            }
        }
    }
}
