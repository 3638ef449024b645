package org.lesson8.eval;

import ai.djl.ndarray.NDManager;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.CaptionedShapes;
import org.lesson8.data.SceneAttributes;
import org.lesson8.data.SceneCaptions;
import org.lesson8.models.Clip;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a trained CLIP has learnt about compositions: retrieval on seen and held-out colour × shape pairs (notebook
 * 04's captioned shapes), retrieval on captioned scenes, and <b>attribute binding</b>: does CLIP prefer "a red circle
 * to the left of a blue square." to the same caption with the colours swapped? The unCLIP paper (Ramesh et al. 2022,
 * §7) names binding as the weakness that its CLIP-based decoder inherits.
 */
public final class ClipProbes {
    private ClipProbes() {}

    /**
     * Retrieval on colour × shape combinations. Image → text: each image against all 240 captions; top-1 counts
     * when the best caption names the image's colour and shape (chance 10/240 = 1/24). Text → image: each caption
     * of the evaluated pairs against a gallery of the evaluated images plus as many training images; top-1 counts
     * when the best image has the caption's colour and shape (chance = share of such images in the gallery).
     */
    public record ShapeRetrieval(double imageToText, double imageToTextChance, double exactCaption, double exactChance,
                                 double textToImage, double textToImageChance, int images) {}

    /** Retrieval for the held-out pairs ({@code heldOut = true}) or for seen training pairs. */
    public static ShapeRetrieval shapes(Clip clip, NDManager m, CaptionedShapes shapes, int n, boolean heldOut) {
        NonEmpty.require(n, "ClipProbes.shapes", "pass n ≥ 1 pairs");
        List<CaptionedShapes.Example> ex = heldOut ? shapes.heldOutSet(n) : new ArrayList<>();
        if (!heldOut) for (int i = 0; i < n; i++) ex.add(shapes.train(1_000_000 + i));
        List<CaptionedShapes.Example> others = new ArrayList<>();
        for (int i = 0; i < n; i++) others.add(shapes.train(2_000_000 + i));
        List<String> all = CaptionedShapes.allCaptions();
        try (NDManager sub = m.newSubManager()) {
            float[][] img = ClipScores.embedImages(clip, sub, shapes.images(sub, ex), 500);
            float[][] txt = ClipScores.embedTexts(clip, sub, all);
            double[][] sim = ClipScores.cosine(img, txt);
            int pair = 0, exact = 0;
            for (int i = 0; i < ex.size(); i++) {
                String best = all.get(ClipScores.topK(sim[i], 1)[0]);
                if (best.contains(" " + ex.get(i).pair() + " ")) pair++;
                if (best.equals(ex.get(i).caption())) exact++;
            }
            Set<String> pairs = new TreeSet<>();
            for (CaptionedShapes.Example e : ex) pairs.add(e.pair());
            List<String> queries = all.stream().filter(t -> pairs.stream().anyMatch(p -> t.contains(" " + p + " "))).toList();
            List<CaptionedShapes.Example> gallery = new ArrayList<>(ex);
            gallery.addAll(others);
            float[][] gal = ClipScores.embedImages(clip, sub, shapes.images(sub, gallery), 500);
            float[][] q = ClipScores.embedTexts(clip, sub, queries);
            double[][] s2 = ClipScores.cosine(q, gal);
            int hit = 0;
            double chance = 0;
            for (int i = 0; i < queries.size(); i++) {
                String qi = queries.get(i);
                CaptionedShapes.Example best = gallery.get(ClipScores.topK(s2[i], 1)[0]);
                if (qi.contains(" " + best.pair() + " ")) hit++;
                long same = gallery.stream().filter(g -> qi.contains(" " + g.pair() + " ")).count();
                chance += same / (double) gallery.size();
            }
            int pairsTotal = CaptionedShapes.COLOURS.size() * CaptionedShapes.SHAPES.size();
            return new ShapeRetrieval(pair / (double) ex.size(), 1.0 / pairsTotal, exact / (double) ex.size(), 1.0 / all.size(),
                    hit / (double) queries.size(), chance / queries.size(), ex.size());
        }
    }

    /**
     * Image → text retrieval on scenes against every canonical caption of the grammar (one- and two-object): top-1
     * counts when the best caption describes exactly the scene's attributes; chance = 1 / number of captions.
     */
    public record SceneRetrieval(double imageToText, double chance, int scenes, int captions) {}

    public static SceneRetrieval scenes(Clip clip, NDManager m, List<CaptionedScenes.Scene> scenes) {
        NonEmpty.require(scenes.size(), "ClipProbes.scenes", "pass at least one scene");
        List<SceneAttributes> all = everyScene();
        List<String> captions = all.stream().map(SceneCaptions::canonical).toList();
        try (NDManager sub = m.newSubManager()) {
            double[][] sim = ClipScores.cosine(ClipScores.embedImages(clip, sub, CaptionedScenes.images(sub, scenes), 500),
                    ClipScores.embedTexts(clip, sub, captions));
            int right = 0;
            for (int i = 0; i < scenes.size(); i++) {
                if (all.get(ClipScores.topK(sim[i], 1)[0]).equals(scenes.get(i).attributes())) right++;
            }
            return new SceneRetrieval(right / (double) scenes.size(), 1.0 / captions.size(), scenes.size(), captions.size());
        }
    }

    /**
     * Binding on two-object scenes: the share of scenes whose image is closer to the true caption than to the same
     * caption with the two colours swapped ({@code colours}), and than to the caption with the two objects swapped
     * ({@code order}: "a blue square to the left of a red circle."). Chance is 0.5 for both.
     */
    public record Binding(double colours, double order, int scenes) {}

    public static Binding binding(Clip clip, NDManager m, List<CaptionedScenes.Scene> scenes) {
        List<CaptionedScenes.Scene> two = scenes.stream().filter(s -> s.attributes().objects() == 2).toList();
        if (two.isEmpty()) throw new IllegalArgumentException("binding needs two-object scenes; got only one-object scenes");
        List<String> truth = new ArrayList<>(), swapped = new ArrayList<>(), reordered = new ArrayList<>();
        for (CaptionedScenes.Scene s : two) {
            SceneAttributes a = s.attributes();
            truth.add(SceneCaptions.canonical(a));
            swapped.add(SceneCaptions.canonical(SceneAttributes.two(a.colour2(), a.shape1(), a.axis(), a.colour1(), a.shape2())));
            reordered.add(SceneCaptions.canonical(SceneAttributes.two(a.colour2(), a.shape2(), a.axis(), a.colour1(), a.shape1())));
        }
        try (NDManager sub = m.newSubManager()) {
            float[][] img = ClipScores.embedImages(clip, sub, CaptionedScenes.images(sub, two), 500);
            float[][] t = ClipScores.embedTexts(clip, sub, truth);
            float[][] c = ClipScores.embedTexts(clip, sub, swapped);
            float[][] o = ClipScores.embedTexts(clip, sub, reordered);
            int colourRight = 0, orderRight = 0;
            for (int i = 0; i < two.size(); i++) {
                double st = dot(img[i], t[i]);
                if (st > dot(img[i], c[i])) colourRight++;
                if (st > dot(img[i], o[i])) orderRight++;
            }
            return new Binding(colourRight / (double) two.size(), orderRight / (double) two.size(), two.size());
        }
    }

    /** Every scene the grammar describes: 240 one-object and 720 two-object attribute combinations. */
    static List<SceneAttributes> everyScene() {
        int colours = CaptionedShapes.COLOURS.size(), shapes = CaptionedShapes.SHAPES.size();
        List<SceneAttributes> out = new ArrayList<>();
        for (int c = 0; c < colours; c++) {
            for (int s = 0; s < shapes; s++) {
                for (int z = 0; z < CaptionedShapes.SIZES.size(); z++) {
                    for (int p = 0; p < CaptionedShapes.POSITIONS.size(); p++) out.add(SceneAttributes.one(c, s, z, p));
                }
                for (int c2 = 0; c2 < colours; c2++) {
                    for (int s2 = 0; s2 < shapes; s2++) {
                        if (c2 != c && s2 != s) for (int axis = 0; axis < 2; axis++) out.add(SceneAttributes.two(c, s, axis, c2, s2));
                    }
                }
            }
        }
        return out;
    }

    private static double dot(float[] a, float[] b) {
        double d = 0;
        for (int k = 0; k < a.length; k++) d += a[k] * b[k];
        return d;
    }
}
