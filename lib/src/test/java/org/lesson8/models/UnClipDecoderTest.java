package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.diffusion.GaussianDiffusion;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.nn.Init;
import org.lesson8.nn.Nd;
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
import static org.lesson8.models.GlideTest.TOK;
import static org.lesson8.models.GlideTest.images;
import static org.lesson8.models.GlideTest.maxDiff;

class UnClipDecoderTest extends NdTest {
    static UnClipDecoder.Config tiny() {
        Glide.Config g = new Glide.Config("tiny", 8, 3, 4, 16, 2, 2, 2, TOK.size(), 8, 8, 1, 2, false, 0.5);
        return new UnClipDecoder.Config("tiny decoder", g, 8, 4, 0.1, true);
    }

    /** A decoder whose zero-initialised layers (adaLN-Zero, final Linear) have weights, so every path reaches ε. */
    static UnClipDecoder live(UnClipDecoder.Config c, long seed) {
        UnClipDecoder d = new UnClipDecoder(m, c, TOK, seed);
        Random rng = new Random(seed);
        for (Map.Entry<String, NDArray> e : d.parameters().entrySet()) {
            if (e.getKey().contains("adaLN") || e.getKey().startsWith("final_layer.linear")) Init.fillNormal(e.getValue(), rng, 0.2);
        }
        return d;
    }

    /** b unit-norm embeddings of width 8. */
    static NDArray embeddings(long seed, int b) {
        return Clip.normalize(NoiseSource.seeded(new Random(seed)).sample(m, new Shape(b, 8)));
    }

    final NDArray t2 = m.create(new long[] {5, 700});

    UnClipDecoder.Condition cond(UnClipDecoder d, NDArray e, String... captions) {
        return new UnClipDecoder.Condition(e, d.config.text() ? d.tokenize(m, List.of(captions)) : null);
    }

    @Test
    void parameterCountsFromTheConfigEqualTheBuiltModel() {
        for (UnClipDecoder.Config c : List.of(tiny(), tiny().withoutText())) {
            assertEquals(new UnClipDecoder(m, c, TOK, 1).parameterCount(), c.parameterCount(), c.name());
        }
        for (UnClipDecoder.Config c : List.of(UnClipDecoder.course(), UnClipDecoder.coursePatch2())) {
            UnClipDecoder course = new UnClipDecoder(m, c, 1);
            assertEquals(course.parameterCount(), c.parameterCount(), c.name());
            assertTrue(course.parameterCount() * 4 < 8e6, "the course checkpoint must stay under 8 MB");
        }
        assertEquals(2, UnClipDecoder.coursePatch2().glide().patch());
        assertEquals(0.5, UnClipDecoder.coursePatch2().glide().captionDropout(), "the paper drops the caption 50% of the time");
        // "a 3.5 billion parameter GLIDE model" (§2.1), counted without its token and position tables (0.1B)
        Glide.Config g = UnClipDecoder.paper().glide();
        long tables = (long) (g.vocab() + g.context()) * g.textWidth();
        assertEquals(3.5e9, UnClipDecoder.paper().parameterCount() - tables, 0.05e9);
    }

    @Test
    void outputIsEpsilonShapedAndZeroAtInitialisation() {
        UnClipDecoder d = new UnClipDecoder(m, tiny(), TOK, 2);
        NDArray out = d.forward(images(1, 2), t2, cond(d, embeddings(1, 2), "a red circle", ""));
        assertEquals(new Shape(2, 3, 8, 8), out.getShape());
        assertEquals(0f, out.abs().max().getFloat(), "adaLN-Zero: the final Linear starts at zero");
    }

    @Test
    void theEmbeddingReachesTheOutputWithAndWithoutTheCaption() {
        for (UnClipDecoder.Config c : List.of(tiny(), tiny().withoutText())) {
            UnClipDecoder d = live(c, 3);
            NDArray x = images(2, 2);
            NDArray a = d.forward(x, t2, cond(d, embeddings(2, 2), "a red circle", "a red circle"));
            NDArray b = d.forward(x, t2, cond(d, embeddings(3, 2), "a red circle", "a red circle"));
            assertTrue(maxDiff(a, b) > 1e-3, c.name() + ": changing the embedding changes ε");
        }
    }

    @Test
    void theFourTokensFollowTheCaptionAndAreNeverHidden() {
        UnClipDecoder d = live(tiny(), 4);
        NDArray e = embeddings(4, 2);
        Glide.Text text = d.tokenize(m, List.of("a red circle", "a blue square on the left"));
        NDArray[] ctx = d.condition(t2, new UnClipDecoder.Condition(e, text));
        assertEquals(new Shape(2, 8 + 4, 8), ctx[1].getShape(), "[caption tokens ; 4 embedding tokens]");
        NDArray tokens = d.clipToTokens.forward(e.mul(Math.sqrt(e.getShape().get(1)))).reshape(2, 4, 8);
        assertTrue(maxDiff(ctx[1].get(new NDIndex(":, 8:, :")), tokens) < 1e-6, "the last four are the embedding's (read × √E)");
        NDArray unscaled = d.clipToTokens.forward(e).reshape(2, 4, 8);
        assertTrue(maxDiff(ctx[1].get(new NDIndex(":, 8:, :")), unscaled) > 1e-3, "the unit embedding is scaled before its projections");
        assertArrayEquals(new float[] {1, 1, 1, 1}, ctx[2].get(new NDIndex("0, 8:")).toFloatArray());
        assertArrayEquals(text.mask().toFloatArray(), ctx[2].get(new NDIndex(":, :8")).toFloatArray());
    }

    @Test
    void theTokensAndTheAdditivePathEachMatterAndEachCarryTheEmbeddingAlone() {
        NDArray x = images(3, 2);
        NDArray ea = embeddings(5, 2), eb = embeddings(6, 2);
        UnClipDecoder additiveOnly = live(tiny(), 5);
        NDArray before = additiveOnly.forward(x, t2, cond(additiveOnly, ea, "a red circle", ""));
        additiveOnly.clipToTokens.zeroInit();
        NDArray after = additiveOnly.forward(x, t2, cond(additiveOnly, ea, "a red circle", ""));
        assertTrue(maxDiff(before, after) > 1e-4, "the four tokens mattered");
        assertTrue(maxDiff(after, additiveOnly.forward(x, t2, cond(additiveOnly, eb, "a red circle", ""))) > 1e-4,
                "the timestep path alone carries the embedding");

        UnClipDecoder tokensOnly = live(tiny(), 5);
        tokensOnly.clipToTime.zeroInit();
        after = tokensOnly.forward(x, t2, cond(tokensOnly, ea, "a red circle", ""));
        assertTrue(maxDiff(before, after) > 1e-4, "the timestep path mattered");
        assertTrue(maxDiff(after, tokensOnly.forward(x, t2, cond(tokensOnly, eb, "a red circle", ""))) > 1e-4,
                "the four tokens alone carry the embedding");
    }

    @Test
    void theNullConditionIsTheUnconditionalPathOfGuidance() {
        for (UnClipDecoder.Config c : List.of(tiny(), tiny().withoutText())) {
            UnClipDecoder d = live(c, 6);
            NDArray x = images(4, 2);
            UnClipDecoder.Condition full = cond(d, embeddings(7, 2), "a red circle", "a blue square on the left");
            UnClipDecoder.Condition none = full.nullCondition();
            assertEquals(0f, none.embedding().abs().max().getFloat(), "the null embedding is zero");
            if (c.text()) assertArrayEquals(full.text().empty().ids().toLongArray(), none.text().ids().toLongArray());
            NDArray condOut = d.forward(x, t2, full);
            NDArray uncond = d.forward(x, t2, none);
            assertTrue(maxDiff(condOut, uncond) > 1e-3, c.name());
            assertEquals(0f, maxDiff(UnClipDecoder.guidance(d, 1).apply(x, t2, full), condOut), 1e-5f, "s = 1: the conditional model");
            assertEquals(0f, maxDiff(UnClipDecoder.guidance(d, 0).apply(x, t2, full), uncond), 1e-5f, "s = 0: the null condition");
            NDArray expect = uncond.add(Nd.mul(condOut.sub(uncond), 3));
            assertEquals(0f, maxDiff(UnClipDecoder.guidance(d, 3).apply(x, t2, full), expect), 1e-4f, "s = 3");
        }
    }

    @Test
    void embeddingsAndCaptionsAreDroppedIndependentlyAtTheirRates() {
        UnClipDecoder d = new UnClipDecoder(m, tiny(), TOK, 7);
        int n = 4000;
        NDArray e = embeddings(8, n);
        UnClipDecoder.Condition c = new UnClipDecoder.Condition(e, d.tokenize(m, Collections.nCopies(n, "a blue square on the left")));
        UnClipDecoder.Condition dropped = d.dropConditions(c, new Random(9));
        float[] norms = dropped.embedding().norm(new int[] {1}).toFloatArray();
        float[] real = dropped.text().mask().sum(new int[] {1}).toFloatArray();
        int zero = 0, empty = 0, both = 0;
        for (int i = 0; i < n; i++) {
            boolean z = norms[i] == 0f, em = real[i] == 2f;
            if (!z) assertEquals(0f, maxDiff(dropped.embedding().get(i), e.get(i)), "kept embeddings are unchanged");
            if (!em) assertEquals(8f, real[i], "kept captions are unchanged");
            zero += z ? 1 : 0;
            empty += em ? 1 : 0;
            both += z && em ? 1 : 0;
        }
        assertEquals(0.1, zero / (double) n, 0.02);      // binomial(4000, 0.1): sd 0.005
        assertEquals(0.5, empty / (double) n, 0.03);     // sd 0.008
        assertEquals(0.05, both / (double) n, 0.015);    // independent: 0.1 · 0.5, sd 0.0034
    }

    @Test
    void mistakesGiveClearErrors() {
        UnClipDecoder d = new UnClipDecoder(m, tiny(), TOK, 10);
        NDArray x = images(5, 2);
        Glide.Text text = d.tokenize(m, List.of("a red circle", ""));
        IllegalArgumentException err = assertThrows(IllegalArgumentException.class,
                () -> d.forward(x, t2, new UnClipDecoder.Condition(Clip.normalize(m.randomNormal(new Shape(2, 64))), text)));
        assertTrue(err.getMessage().contains("width 8") && err.getMessage().contains("(2, 64)"), err.getMessage());
        err = assertThrows(IllegalArgumentException.class,
                () -> d.forward(x, t2, new UnClipDecoder.Condition(Nd.mul(embeddings(9, 2), 3), text)));
        assertTrue(err.getMessage().contains("row 0 has norm") && err.getMessage().contains("unit norm"), err.getMessage());
        err = assertThrows(IllegalArgumentException.class, () -> d.forward(x, t2, new UnClipDecoder.Condition(embeddings(9, 2), null)));
        assertTrue(err.getMessage().contains("also reads the caption"), err.getMessage());
        UnClipDecoder noText = new UnClipDecoder(m, tiny().withoutText(), TOK, 10);
        err = assertThrows(IllegalArgumentException.class, () -> noText.forward(x, t2, new UnClipDecoder.Condition(embeddings(9, 2), text)));
        assertTrue(err.getMessage().contains("no caption input"), err.getMessage());
        err = assertThrows(IllegalArgumentException.class, () -> d.apply(x, t2, null));
        assertTrue(err.getMessage().contains("conditioned on CLIP image embeddings"), err.getMessage());
        err = assertThrows(IllegalArgumentException.class,
                () -> d.forward(m.zeros(new Shape(2, 3, 28, 28)), t2, new UnClipDecoder.Condition(embeddings(9, 2), text)));
        assertTrue(err.getMessage().contains("(batch, 3, 8, 8)"), err.getMessage());
        err = assertThrows(IllegalArgumentException.class, () -> new UnClipDecoder.Condition(embeddings(9, 3), text));
        assertTrue(err.getMessage().contains("3 embeddings but 2 captions"), err.getMessage());
    }

    @Test
    void checkpointRoundTrip() throws Exception {
        UnClipDecoder a = live(tiny(), 11);
        Path f = Files.createTempFile("unclip-decoder", ".safetensors");
        try {
            Checkpoint.save(a, f);
            UnClipDecoder b = new UnClipDecoder(m, tiny(), TOK, 12);
            Checkpoint.load(b, f);
            NDArray x = images(6, 2);
            UnClipDecoder.Condition c = cond(a, embeddings(10, 2), "a red circle", "a blue square");
            assertEquals(0f, maxDiff(a.forward(x, t2, c), b.forward(x, t2, c)));
            UnClipDecoder noText = new UnClipDecoder(m, tiny().withoutText(), TOK, 13);
            Exception e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(noText, f));
            assertTrue(e.getMessage().contains("transformer"), e.getMessage());
        } finally {
            Files.delete(f);
        }
    }

    @Test
    void aFewRecipeStepsLowerTheLossOnAToyBatch() {
        try (NDManager s = m.newSubManager()) {
            UnClipDecoder d = new UnClipDecoder(s, tiny(), TOK, 14);
            GaussianDiffusion diffusion = GaussianDiffusion.cosine(1000, GaussianDiffusion.Variance.FIXED_SMALL);
            NDArray x0 = images(7, 4).tanh();
            NDArray t = m.create(new long[] {50, 300, 600, 900});
            NDArray noise = images(8, 4);
            NDArray e = embeddings(11, 4);
            List<String> captions = List.of("a red circle", "a blue square", "", "a red square on the left");
            MetricsLog log = new MetricsLog();
            new Recipe(4, 1e-2f, 0f, 0, 1f).loop(d, 15, log).run(15, (mm, step, metrics) -> diffusion.trainingLosses(
                    d, x0, t, new UnClipDecoder.Condition(e, d.tokenize(mm, captions)), noise).loss().mean(), null);
            double first = log.column("loss")[0], last = log.tailMean("loss", 3);
            assertTrue(last < 0.6 * first, "loss " + first + " → " + last);
        }
    }
}
