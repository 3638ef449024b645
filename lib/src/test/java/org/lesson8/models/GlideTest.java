package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.data.Tokenizer;
import org.lesson8.diffusion.GaussianDiffusion;
import org.lesson8.diffusion.Inpainting;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.diffusion.Samplers;
import org.lesson8.nn.Init;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class GlideTest extends NdTest {
    static final Tokenizer TOK = Tokenizer.fromTexts(List.of("a red circle", "a blue square on the left"));

    static Glide.Config tiny() {
        return new Glide.Config("tiny", 8, 3, 4, 16, 2, 2, 2, TOK.size(), 8, 8, 1, 2, false, 0.2);
    }

    /** A model whose zero-initialised layers (adaLN-Zero, final Linear) have weights, so every path reaches ε. */
    static Glide live(Glide.Config c, long seed) {
        Glide g = new Glide(m, c, TOK, seed);
        Random rng = new Random(seed);
        for (Map.Entry<String, NDArray> e : g.parameters().entrySet()) {
            if (e.getKey().contains("adaLN") || e.getKey().startsWith("final_layer.linear")) Init.fillNormal(e.getValue(), rng, 0.2);
        }
        return g;
    }

    static NDArray images(long seed, int b) {
        return NoiseSource.seeded(new Random(seed)).sample(m, new Shape(b, 3, 8, 8));
    }

    static float maxDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    final NDArray t2 = m.create(new long[] {5, 700});

    @Test
    void parameterCountsFromTheConfigEqualTheBuiltModel() {
        for (Glide.Config c : List.of(tiny(), tiny().withInpainting())) {
            Glide g = new Glide(m, c, TOK, 1);
            assertEquals(g.parameterCount(), c.parameterCount(), c.name());
            assertEquals(g.transformer.parameterCount(), c.textParameterCount(), c.name());
        }
        Glide course = new Glide(m, Glide.course(), 1);
        assertEquals(course.parameterCount(), Glide.course().parameterCount());
        assertTrue(course.parameterCount() * 4 < 8e6, "the course checkpoint must stay under 8 MB");
    }

    @Test
    void paperSizesMatchSection31() {
        Glide.Config p = Glide.paper();
        long w = p.textWidth();
        // "24 residual blocks of width 2048, resulting in roughly 1.2 billion parameters" (the token table adds 0.1B)
        assertEquals(1.2e9, p.textParameterCount() - (long) (p.vocab() + p.context()) * w, 0.02e9);
        // the visual part stands in for the 2.3B-parameter U-Net
        assertEquals(2.3e9, p.parameterCount() - p.textParameterCount(), 0.05e9);
    }

    @Test
    void outputIsEpsilonShapedAndZeroAtInitialisation() {
        Glide g = new Glide(m, tiny(), TOK, 2);
        NDArray out = g.forward(images(1, 2), t2, g.tokenize(m, List.of("a red circle", "")));
        assertEquals(new Shape(2, 3, 8, 8), out.getShape());
        assertEquals(0f, out.abs().max().getFloat(), "adaLN-Zero: the final Linear starts at zero");
    }

    @Test
    void theCaptionReachesEveryBlockThroughBothPaths() {
        Glide g = live(tiny(), 3);
        NDArray x = images(2, 2);
        Glide.Text red = g.tokenize(m, List.of("a red circle", "a red circle"));
        Glide.Text blue = g.tokenize(m, List.of("a blue square", "a blue square"));
        assertTrue(maxDiff(g.forward(x, t2, red), g.forward(x, t2, blue)) > 1e-3, "the caption changes ε");
        NDArray[] cr = g.condition(t2, red);
        NDArray[] cb = g.condition(t2, blue);
        NDArray h = m.randomNormal(new Shape(2, 4, 16));
        for (Glide.Block b : g.blocks) {
            NDArray base = b.forward(h, cr[0], cr[1], red.mask());
            assertTrue(maxDiff(base, b.forward(h, cr[0], cb[1], blue.mask())) > 1e-4, "text tokens reach the block's attention");
            assertTrue(maxDiff(base, b.forward(h, cb[0], cr[1], red.mask())) > 1e-4, "the final token reaches the block's adaLN");
        }
    }

    @Test
    void eachTextPathMattersAndCarriesTheCaptionAlone() {
        NDArray x = images(3, 2);
        List<String> a = List.of("a red circle", "a red circle");
        List<String> b = List.of("a blue square", "a blue square");   // same length: the same pad mask
        Glide finalOnly = live(tiny(), 4);
        NDArray before = finalOnly.forward(x, t2, finalOnly.tokenize(m, a));
        for (Glide.Block blk : finalOnly.blocks) blk.attn.contextKv.zeroInit();
        assertTrue(maxDiff(before, finalOnly.forward(x, t2, finalOnly.tokenize(m, a))) > 1e-4, "the key/value path mattered");
        assertTrue(maxDiff(finalOnly.forward(x, t2, finalOnly.tokenize(m, a)), finalOnly.forward(x, t2, finalOnly.tokenize(m, b))) > 1e-4,
                "the final token alone carries the caption");

        Glide kvOnly = live(tiny(), 4);
        kvOnly.transformerProj.zeroInit();
        assertTrue(maxDiff(before, kvOnly.forward(x, t2, kvOnly.tokenize(m, a))) > 1e-4, "the final-token path mattered");
        assertTrue(maxDiff(kvOnly.forward(x, t2, kvOnly.tokenize(m, a)), kvOnly.forward(x, t2, kvOnly.tokenize(m, b))) > 1e-4,
                "the keys/values alone carry the caption");
    }

    @Test
    void padTokensAreHiddenFromTheImage() {
        Glide g = live(tiny(), 5);
        Glide.Text text = g.tokenize(m, List.of("a red circle", "a blue square on the left"));
        NDArray[] c = g.condition(t2, text);
        NDArray real = text.mask().expandDims(2);
        NDArray junk = m.randomNormal(c[1].getShape());
        NDArray padsChanged = c[1].mul(real).add(junk.mul(real.neg().add(1)));
        NDArray realChanged = c[1].mul(real.neg().add(1)).add(junk.mul(real));
        NDArray h = m.randomNormal(new Shape(2, 4, 16));
        Glide.Block b = g.blocks.get(0);
        NDArray base = b.forward(h, c[0], c[1], text.mask());
        assertEquals(0f, maxDiff(base, b.forward(h, c[0], padsChanged, text.mask())), 1e-6f);
        assertTrue(maxDiff(base, b.forward(h, c[0], realChanged, text.mask())) > 1e-4, "real tokens are attended to");
    }

    @Test
    void theEmptyCaptionIsTheNullConditionOfGuidance() {
        Glide g = live(tiny(), 6);
        Glide.Text empty = g.tokenize(m, List.of("", ""));
        assertArrayEquals(new long[] {1, 2, 0, 0, 0, 0, 0, 0}, empty.ids().get(0).toLongArray());
        assertArrayEquals(new float[] {1, 1, 0, 0, 0, 0, 0, 0}, empty.mask().get(0).toFloatArray());
        Glide.Text text = g.tokenize(m, List.of("a red circle", "a blue square on the left"));
        assertArrayEquals(empty.ids().toLongArray(), text.empty().ids().toLongArray());
        assertArrayEquals(empty.mask().toFloatArray(), text.empty().mask().toFloatArray());

        NDArray x = images(4, 2);
        NDArray cond = g.forward(x, t2, text);
        NDArray uncond = g.forward(x, t2, empty);
        assertTrue(maxDiff(cond, uncond) > 1e-3);
        assertEquals(0f, maxDiff(Glide.guidance(g, 1).apply(x, t2, text), cond), 1e-5f, "s = 1: the conditional model");
        assertEquals(0f, maxDiff(Glide.guidance(g, 0).apply(x, t2, text), uncond), 1e-5f, "s = 0: the empty caption");
        NDArray expect = uncond.add(cond.sub(uncond).mul(3));
        assertEquals(0f, maxDiff(Glide.guidance(g, 3).apply(x, t2, text), expect), 1e-4f, "s = 3");
    }

    @Test
    void captionsAreDroppedAtTheConfiguredRate() {
        Glide g = new Glide(m, tiny(), TOK, 7);
        int n = 5000;
        Glide.Text text = g.tokenize(m, Collections.nCopies(n, "a blue square on the left"));
        Glide.Text dropped = g.dropCaptions(text, new Random(8));
        long[] ids = dropped.ids().toLongArray();
        long[] orig = text.ids().toLongArray();
        long[] empty = text.empty().ids().toLongArray();
        int nulls = 0;
        for (int i = 0; i < n; i++) {
            long[] row = java.util.Arrays.copyOfRange(ids, i * 8, i * 8 + 8);
            boolean isNull = java.util.Arrays.equals(row, java.util.Arrays.copyOfRange(empty, i * 8, i * 8 + 8));
            if (isNull) nulls++;
            else assertArrayEquals(java.util.Arrays.copyOfRange(orig, i * 8, i * 8 + 8), row);
        }
        assertEquals(0.2, nulls / (double) n, 0.02);   // binomial(5000, 0.2): standard deviation 0.0057
        assertEquals(2 * nulls + 8 * (n - nulls), dropped.mask().sum().getFloat(), 0f);   // <start> 6 words <end>
    }

    @Test
    void mistakesGiveClearErrors() {
        Glide g = new Glide(m, tiny(), TOK, 9);
        Glide.Text text = g.tokenize(m, List.of("a red circle", ""));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.forward(m.zeros(new Shape(2, 3, 28, 28)), t2, text));
        assertTrue(e.getMessage().contains("expected images x_t of shape (batch, 3, 8, 8)") && e.getMessage().contains("pixel space"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.tokenize(m, List.of("a purple circle")));
        assertTrue(e.getMessage().contains("unknown word 'purple'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.apply(images(5, 2), t2, null));
        assertTrue(e.getMessage().contains("conditioned on captions"), e.getMessage());
        Glide.Text inpaint = text.withInpainting(images(6, 2), m.ones(new Shape(2, 1, 8, 8)));
        e = assertThrows(IllegalArgumentException.class, () -> g.forward(images(5, 2), t2, inpaint));
        assertTrue(e.getMessage().contains("no inpainting inputs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> text.withInpainting(images(6, 2), m.ones(new Shape(2, 3, 4, 4))));
        assertTrue(e.getMessage().contains("mask (2, 1, H, W)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Glide(m, Glide.course(), TOK, 1));
        assertTrue(e.getMessage().contains("vocab"), e.getMessage());
    }

    @Test
    void checkpointRoundTrip() throws Exception {
        Glide a = live(tiny(), 10);
        Path f = Files.createTempFile("glide", ".safetensors");
        try {
            Checkpoint.save(a, f);
            Glide b = new Glide(m, tiny(), TOK, 11);
            Checkpoint.load(b, f);
            NDArray x = images(7, 2);
            Glide.Text text = a.tokenize(m, List.of("a red circle", "a blue square"));
            assertEquals(0f, maxDiff(a.forward(x, t2, text), b.forward(x, t2, text)));
            Glide inpainter = new Glide(m, tiny().withInpainting(), TOK, 12);
            Exception e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(inpainter, f));
            assertTrue(e.getMessage().contains("x_embedder"), e.getMessage());
        } finally {
            Files.delete(f);
        }
    }

    @Test
    void aFewRecipeStepsLowerTheLossOnAToyBatch() {
        try (NDManager s = m.newSubManager()) {
            Glide g = new Glide(s, tiny(), TOK, 13);
            GaussianDiffusion d = GaussianDiffusion.cosine(1000, GaussianDiffusion.Variance.FIXED_SMALL);
            NDArray x0 = images(8, 4).tanh();
            NDArray t = m.create(new long[] {50, 300, 600, 900});
            NDArray noise = images(9, 4);
            List<String> captions = List.of("a red circle", "a blue square", "", "a red square on the left");
            MetricsLog log = new MetricsLog();
            new Recipe(4, 1e-2f, 0f, 0, 1f).loop(g, 40, log).run(40,
                    (mm, step, metrics) -> d.trainingLosses(g, x0, t, g.tokenize(mm, captions), noise).loss().mean(), null);
            double first = log.column("loss")[0], last = log.tailMean("loss", 3);
            assertTrue(last < 0.6 * first, "loss " + first + " → " + last);
        }
    }

    @Test
    void inpaintingKeepsTheKnownRegionExactly() {
        Glide g = live(tiny().withInpainting(), 14);
        NDArray known = images(10, 2).tanh();
        float[] k = new float[2 * 64];
        for (int i = 0; i < k.length; i++) k[i] = (i % 8) < 4 ? 1f : 0f;   // keep the left half, fill the right
        NDArray keep = m.create(k, new Shape(2, 1, 8, 8));
        Glide.Text text = g.tokenize(m, List.of("a red circle", "a blue square")).withInpainting(known, keep);

        NDArray x = images(11, 2);
        NDArray out = g.forward(x, t2, text);
        NDArray hidden = known.add(images(12, 2).mul(keep.neg().add(1)));   // changed only where the mask is 0
        assertEquals(0f, maxDiff(out, g.forward(x, t2, text.withInpainting(hidden, keep))), "the model never sees erased pixels");
        assertTrue(maxDiff(out, g.forward(x, t2, text.withInpainting(known.neg(), keep))) > 1e-4, "…but sees the known ones");

        GaussianDiffusion d = GaussianDiffusion.cosine(1000, GaussianDiffusion.Variance.FIXED_SMALL).respace(6);
        NoiseSource noise = NoiseSource.seeded(new Random(15));
        NDArray xT = noise.sample(m, known.getShape());
        NDArray[] samples = {
                Samplers.ddpm(d, Glide.guidance(g, 3), xT, text, noise, true, Inpainting.pasteKnown(d, known, keep, noise, null)),
                Samplers.ddim(d, g, xT, text, 0, null, true, Inpainting.pasteKnown(d, known, keep, noise, null))};
        for (NDArray sample : samples) {
            assertEquals(0f, maxDiff(sample.mul(keep), known.mul(keep)), "known pixels are exactly the original");
            assertTrue(maxDiff(sample.mul(keep.neg().add(1)), known.mul(keep.neg().add(1))) > 1e-2, "the erased region is redrawn");
        }
        assertThrows(IllegalArgumentException.class, () -> Inpainting.pasteKnown(d, known, keep.mul(0.5), noise, null));
    }
}
