package org.lesson8.lessons;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.FashionMnist;
import org.lesson8.data.SceneAttributes;
import org.lesson8.data.SceneCaptions;
import org.lesson8.data.Tokenizer;
import org.lesson8.diffusion.ClipGuidance;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.models.Clip;
import org.lesson8.models.Glide;
import org.lesson8.models.NoisedClip;
import org.lesson8.nn.Init;
import org.lesson8.train.MetricsLog;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class GlideLessonTest extends NdTest {
    static final Tokenizer TOK = Tokenizer.fromTexts(List.of("a red circle", "a blue square on the left"));
    static final List<String> CAPTIONS = List.of("a red circle", "a blue square on the left", "");

    static Glide.Config tiny(int size, Tokenizer tok, int context) {
        return new Glide.Config("tiny", size, 3, 4, 16, 2, 2, 2, tok.size(), context, 8, 1, 2, false, 0.2);
    }

    /** A tiny model whose zero-initialised layers (adaLN-Zero, final Linear) have weights, so that ε depends on everything. */
    static Glide live(NDManager mm, long seed) {
        Glide g = new Glide(mm, tiny(8, TOK, 8), TOK, seed);
        Random rng = new Random(seed);
        for (Map.Entry<String, NDArray> e : g.parameters().entrySet()) {
            if (e.getKey().contains("adaLN") || e.getKey().startsWith("final_layer.linear")) Init.fillNormal(e.getValue(), rng, 0.2);
        }
        return g;
    }

    static NDArray unitImages(long seed, int n, int size) {
        return NoiseSource.seeded(new Random(seed)).sample(m, new Shape(n, 3, size, size)).mul(0.3).add(0.5).clip(0, 1);
    }

    static float maxDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    @Test
    void minSnrWeightsAreOneBelowGammaAndGammaOverSnrAbove() {
        var process = GlideLesson.process();
        double[] ab = process.alphasCumprod();
        long[] ts = {0, 100, 500, 900, 999};
        float[] w = GlideLesson.minSnrWeights(process, m.create(ts), 5).toFloatArray();
        for (int i = 0; i < ts.length; i++) {
            double snr = ab[(int) ts[i]] / (1 - ab[(int) ts[i]]);
            assertEquals(snr > 5 ? 5 / snr : 1.0, w[i], 1e-6, "t = " + ts[i]);
        }
        assertTrue(w[0] < 0.01, "the least noisy step counts little: " + w[0]);
        assertEquals(1f, w[4], 0f);
        var metrics = new java.util.HashMap<String, Double>();
        NDArray mse = m.create(new float[] {1, 2, 3, 4, 5});
        float weighted = GlideLesson.weighted(mse, process, m.create(ts), 5, metrics).getFloat();
        double want = 0;
        for (int i = 0; i < 5; i++) want += (i + 1) * w[i] / 5.0;
        assertEquals(want, weighted, 1e-5);
        assertEquals(3.0, metrics.get("mse"), 1e-6, "the logged mse is the plain mean");
        assertEquals(3f, GlideLesson.weighted(mse, process, m.create(ts), 0, metrics).getFloat(), 1e-6);
    }

    @Test
    void randomMasksEraseOneRectangleOfBoundedSizeInsideTheImage() {
        int size = 28;
        float[] v = GlideLesson.randomMasks(m, 64, size, new Random(3)).toFloatArray();
        assertEquals(64 * size * size, v.length);
        for (int i = 0; i < 64; i++) {
            int x0 = size, y0 = size, x1 = -1, y1 = -1, zeros = 0;
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    float k = v[i * size * size + y * size + x];
                    assertTrue(k == 0f || k == 1f, "mask values are 0 or 1, got " + k);
                    if (k == 0f) {
                        zeros++;
                        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
                    }
                }
            }
            int w = x1 - x0 + 1, h = y1 - y0 + 1;
            assertEquals(w * h, zeros, "mask " + i + ": the erased pixels fill their bounding box (one rectangle)");
            assertTrue(w >= size / 4 && w <= 3 * size / 4 && h >= size / 4 && h <= 3 * size / 4, "mask " + i + ": " + w + "×" + h);
            assertTrue(zeros < size * size, "mask " + i + " keeps some pixels");
        }
    }

    @Test
    void randomMasksAreDeterministicGivenTheSeed() {
        NDArray a = GlideLesson.randomMasks(m, 8, 28, new Random(5));
        assertEquals(new Shape(8, 1, 28, 28), a.getShape());
        assertEquals(0f, maxDiff(a, GlideLesson.randomMasks(m, 8, 28, new Random(5))));
        assertTrue(maxDiff(a, GlideLesson.randomMasks(m, 8, 28, new Random(6))) > 0);
    }

    @Test
    void aRectangleOutsideTheImageIsRefusedWithItsNumbers() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> GlideLesson.rectangleMasks(m, 28, new int[][] {{0, 0, 4, 4}, {20, 0, 10, 4}}));
        assertTrue(e.getMessage().contains("mask 1") && e.getMessage().contains("[20, 0, 10, 4]"), e.getMessage());
    }

    @Test
    void generationGivesOneImageInTheUnitRangePerCaptionRepeatablyBySeed() {
        Glide g = live(m, 1);
        for (double s : new double[] {0, 1, 3}) {
            var gen = GlideLesson.generator(g, s, 4);
            NDArray a = gen.generate(m, CAPTIONS, 7);
            assertEquals(new Shape(3, 3, 8, 8), a.getShape());
            assertTrue(a.min().getFloat() >= 0 && a.max().getFloat() <= 1, "images in [0, 1]");
            assertEquals(0f, maxDiff(a, gen.generate(m, CAPTIONS, 7)), "same seed, same images");
            assertTrue(maxDiff(a, gen.generate(m, CAPTIONS, 8)) > 1e-3, "another seed, other images");
        }
        NDArray plain = GlideLesson.generator(g, 1, 4).generate(m, CAPTIONS, 7);
        assertTrue(maxDiff(plain, GlideLesson.generator(g, 3, 4).generate(m, CAPTIONS, 7)) > 1e-3, "guidance changes the images");
    }

    @Test
    void clipGuidedGenerationGivesImagesInTheUnitRangeAndFollowsTheScale() {
        Glide g = live(m, 2);
        NoisedClip clip = new NoisedClip(m, Clip.tiny(TOK.size()), TOK, 3);
        List<String> caps = CAPTIONS.subList(0, 2);
        for (ClipGuidance.Form form : ClipGuidance.Form.values()) {
            NDArray a = GlideLesson.clipGuided(g, clip, 50, 4, form).generate(m, caps, 7);
            assertEquals(new Shape(2, 3, 8, 8), a.getShape());
            assertTrue(a.min().getFloat() >= 0 && a.max().getFloat() <= 1, "images in [0, 1]");
            NDArray none = GlideLesson.clipGuided(g, clip, 0, 4, form).generate(m, caps, 7);
            assertTrue(maxDiff(a, none) > 1e-4, form + ": CLIP guidance changes the images");
        }
    }

    @Test
    void theInpaintingModelStartsAsTheBaseModelWhateverItIsShown() {
        Glide base = live(m, 4);
        Glide inp = GlideLesson.inpaintingFrom(base, m);
        assertTrue(inp.config.inpaint());
        Map<String, NDArray> b = base.parameters();
        for (Map.Entry<String, NDArray> e : inp.parameters().entrySet()) {
            if (e.getValue() == inp.xEmbedder.weight) continue;
            assertEquals(0f, maxDiff(e.getValue(), b.get(e.getKey())), e.getKey() + " copied");
        }
        NDArray w = inp.xEmbedder.weight;
        assertEquals(0f, maxDiff(w.get(":, :3"), base.xEmbedder.weight), "the x_t channels copied");
        assertEquals(0f, w.get(":, 3:").abs().max().getFloat(), "the 4 extra channels start at zero");

        NDArray x = NoiseSource.seeded(new Random(1)).sample(m, new Shape(3, 3, 8, 8));
        NDArray t = m.create(new long[] {3, 400, 990});
        Glide.Text text = base.tokenize(m, CAPTIONS);
        NDArray expected = base.forward(x, t, text);
        NDArray keep = GlideLesson.randomMasks(m, 3, 8, new Random(2));
        assertEquals(0f, maxDiff(expected, inp.forward(x, t, text.withInpainting(unitImages(3, 3, 8), keep))), 1e-5f);
        assertEquals(0f, maxDiff(expected, inp.forward(x, t, text)), 1e-5f, "nothing known");
    }

    @Test
    void theTwoByTwoModelStartsFromTheFourByFourOne() {
        Glide base = live(m, 6);
        Glide fine = GlideLesson.patch2From(base, m);
        assertEquals(2, fine.config.patch());
        assertEquals(base.config.dim(), fine.config.dim());
        Map<String, NDArray> b = base.parameters();
        for (Map.Entry<String, NDArray> e : fine.parameters().entrySet()) {
            if (e.getValue() == fine.xEmbedder.weight || e.getKey().startsWith("final_layer.linear")) continue;
            assertEquals(0f, maxDiff(e.getValue(), b.get(e.getKey())), e.getKey() + " copied");
        }
        // an image of one colour: every 2×2 token equals the 4×4 token
        NDArray flat = m.create(new float[] {0.9f, -0.2f, 0.4f}).reshape(1, 3, 1, 1).broadcast(new Shape(1, 3, 8, 8));
        NDArray t4 = base.xEmbedder.forward(flat), t2 = fine.xEmbedder.forward(flat);
        assertEquals(new Shape(1, 16, base.config.dim()), t2.getShape());
        assertEquals(0f, maxDiff(t2, t4.get(":, 0:1, :").broadcast(t2.getShape())), 1e-5f);
        // the output layer: each 2×2 value is the mean of the 4×4 values over its quarter
        NDArray h = NoiseSource.seeded(new Random(7)).sample(m, new Shape(1, 1, base.config.dim()));
        NDArray o4 = base.linearFinal.forward(h).reshape(2, 2, 2, 2, 3).mean(new int[] {3}).mean(new int[] {1});
        NDArray o2 = fine.linearFinal.forward(h).reshape(2, 2, 3);
        assertEquals(0f, maxDiff(o2, o4), 1e-5f);
        assertTrue(o4.abs().max().getFloat() > 1e-2, "the test sees non-zero outputs");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GlideLesson.patch2From(fine, m));
        assertTrue(e.getMessage().contains("4×4 patches"), e.getMessage());
    }

    @Test
    void inpaintingKeepsTheKnownPixelsExactlyAndFillsTheRest() {
        Glide inp = GlideLesson.inpaintingFrom(live(m, 5), m);
        NDArray images = unitImages(4, 3, 8);
        NDArray keep = GlideLesson.rectangleMasks(m, 8, new int[][] {{4, 0, 4, 8}, {0, 0, 8, 3}, {2, 2, 4, 4}});
        for (Glide g : List.of(inp, live(m, 5))) {
            NDArray out = GlideLesson.inpaint(g, m, images, keep, CAPTIONS, 3, 4, 9);
            assertEquals(images.getShape(), out.getShape());
            assertEquals(0f, out.sub(images).abs().mul(keep).max().getFloat(), "outside the region: unchanged");
            assertTrue(out.sub(images).abs().mul(keep.neg().add(1)).max().getFloat() > 1e-2, "inside: filled anew");
        }
    }

    @Test
    void trainingTheInpaintingModelFeedsItTheMaskedImages() {
        Tokenizer tok = Tokenizer.textToImage();
        Glide g = GlideLesson.inpaintingFrom(new Glide(m, tiny(28, tok, 20), tok, 1), m);
        ClipLesson.Pairs data = ClipLesson.Pairs.withScenes(FashionMnist.train(), new CaptionedScenes(1), 1);
        ClipLesson.Regime r = new ClipLesson.Regime(GlideLesson.regime().recipe().withBatch(8), 4);
        MetricsLog log = new MetricsLog();
        GlideLesson.train(g, GlideLesson.process(), data, r, 3, 1e9, 1, log, null, null);
        assertEquals(3, log.size());
        assertTrue(g.xEmbedder.weight.get(":, 3:").abs().max().getFloat() > 0, "the extra channels learn");
    }

    @Test
    void recolouringEditsChangeOnlyTheRightObjectsColourAndAreNeverHeldOut() {
        List<GlideLesson.Edit> edits = GlideLesson.recolourRight(new CaptionedScenes(1), CaptionedScenes.Split.TEST, 20);
        assertEquals(20, edits.size());
        for (GlideLesson.Edit e : edits) {
            SceneAttributes a = e.original().attributes(), b = SceneCaptions.parse(e.caption());
            assertEquals(SceneAttributes.HORIZONTAL, a.axis());
            assertNotEquals(a.colour2(), b.colour2(), e.caption());
            assertEquals(List.of(a.colour1(), a.shape1(), a.shape2()), List.of(b.colour1(), b.shape1(), b.shape2()), e.caption());
            assertFalse(CaptionedScenes.isHeldOut(b), e.caption());
        }
    }
}
