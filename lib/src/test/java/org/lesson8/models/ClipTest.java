package org.lesson8.models;

import org.lesson8.lessons.ClipLesson;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.junit.jupiter.api.io.TempDir;
import org.lesson8.data.Tokenizer;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Optim;
import org.lesson8.train.TrainLoop;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ClipTest extends NdTest {
    static final Tokenizer tok = Tokenizer.course();

    static Clip tinyModel(NDManager mm, long seed) {
        return new Clip(mm, Clip.tiny(tok.size()), tok, seed);
    }

    static double lse(double... x) {
        double mx = Double.NEGATIVE_INFINITY;
        for (double v : x) mx = Math.max(mx, v);
        double s = 0;
        for (double v : x) s += Math.exp(v - mx);
        return mx + Math.log(s);
    }

    @Test
    void lossEqualsTheHandComputedValueForTwoPairs() {
        // L = [[2, 0], [1, 3]]: rows are image→text, columns text→image, targets on the diagonal
        NDArray l = m.create(new float[] {2, 0, 1, 3}, new Shape(2, 2));
        double rows = ((Math.log(Math.exp(2) + Math.exp(0)) - 2) + (Math.log(Math.exp(1) + Math.exp(3)) - 3)) / 2;
        double cols = ((Math.log(Math.exp(2) + Math.exp(1)) - 2) + (Math.log(Math.exp(0) + Math.exp(3)) - 3)) / 2;
        assertEquals((rows + cols) / 2, Clip.contrastiveLoss(l).getFloat(), 1e-6);
    }

    @Test
    void lossMatchesALoopImplementationAndIsSymmetric() {
        float[] v = {1.5f, -0.3f, 0.2f, 0.7f, 2.0f, -1.0f, -0.4f, 0.9f, 0.1f};
        NDArray l = m.create(v, new Shape(3, 3));
        double rows = 0, cols = 0;
        for (int i = 0; i < 3; i++) {
            rows += lse(v[i * 3], v[i * 3 + 1], v[i * 3 + 2]) - v[i * 3 + i];
            cols += lse(v[i], v[3 + i], v[6 + i]) - v[i * 3 + i];
        }
        float loss = Clip.contrastiveLoss(l).getFloat();
        assertEquals((rows / 3 + cols / 3) / 2, loss, 1e-5);
        assertEquals(loss, Clip.contrastiveLoss(l.transpose()).getFloat(), 1e-6, "swapping images and texts keeps the loss");
        // and it is not symmetric in a trivial way: an asymmetric matrix has different row and column terms
        assertNotEquals(rows, cols, 1e-3);
        assertThrows(IllegalArgumentException.class, () -> Clip.contrastiveLoss(m.zeros(new Shape(2, 3))));
    }

    @Test
    void lossOfTheModelIsTheLossOfScaledCosines() {
        Clip c = tinyModel(m, 3);
        try (NDManager sub = m.newSubManager()) {
            NDArray img = sub.randomUniform(0, 1, new Shape(3, 3, 8, 8));
            List<String> caps = List.of("a photo of a bag.", "a small red circle on the left.", "a coat.");
            float[] ie = c.embedImages(img).toFloatArray();
            float[] te = c.embedTexts(sub, caps).toFloatArray();
            int e = c.config.embedDim();
            float[] lv = new float[9];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) {
                    double d = 0;
                    for (int k = 0; k < e; k++) d += ie[i * e + k] * te[j * e + k];
                    lv[i * 3 + j] = (float) (d / 0.07);
                }
            double expected = Clip.contrastiveLoss(sub.create(lv, new Shape(3, 3))).getFloat();
            assertEquals(expected, c.loss(sub, img, caps).getFloat(), 1e-4);
        }
    }

    @Test
    void temperatureStartsAtOneOverPointZeroSevenAndIsClampedAt100() {
        try (NDManager sub = m.newSubManager()) {
            Clip c = tinyModel(sub, 0);
            assertEquals(1 / 0.07, c.scaleValue(), 1e-3);
            c.logitScale.set(new float[] {10f});
            assertEquals(100, c.scaleValue(), 1e-3);
            assertEquals(100, c.scale(sub).getFloat(), 1e-3, "the forward pass clamps exp(t) at 100");
            c.clampLogitScale();
            assertEquals(Clip.MAX_LOG_SCALE, c.logitScale.getFloat(), 1e-6, "the parameter itself is clamped to ln 100");
            c.logitScale.set(new float[] {-3f});
            c.clampLogitScale();
            assertEquals(0f, c.logitScale.getFloat(), 0f);
            assertEquals(1, c.scaleValue(), 1e-6);
        }
    }

    @Test
    void endOfTextPoolingPicksTheEndPositionDespitePadding() {
        Clip c = tinyModel(m, 2);
        try (NDManager sub = m.newSubManager()) {
            List<String> caps = List.of("a bag.", "a photo of a bag.");
            Clip.Tokens tk = c.tokenize(sub, caps, false);
            assertArrayEquals(new int[] {4, 7}, tk.ends(), "<start> a bag . <end>  and  <start> a photo of a bag . <end>");
            NDArray h = c.text.hidden(tk.ids());
            NDArray pooled = Clip.TextEncoder.pool(h, tk.ends());
            assertArrayEquals(h.get("0, 4, :").toFloatArray(), pooled.get(0).toFloatArray(), 1e-6f);
            assertArrayEquals(h.get("1, 7, :").toFloatArray(), pooled.get(1).toFloatArray(), 1e-6f);
            // the pad positions differ from the end position, so a wrong pick would be visible
            assertFalse(h.get("0, 4, :").allClose(h.get("0, 7, :"), 1e-4, 1e-4, false));
            // a caption embedded in a batch with a longer one equals the caption embedded alone
            assertArrayEquals(c.embedTexts(sub, List.of("a bag.")).toFloatArray(),
                    c.embedTexts(sub, caps).get(0).toFloatArray(), 1e-5f);
            // whatever stands after <end> (padding) cannot change the feature
            long[] ids = tk.ids().get(0).toLongArray();
            for (int j = 5; j < ids.length; j++) ids[j] = 7 + j;
            NDArray other = sub.create(ids, new Shape(1, ids.length));
            assertArrayEquals(c.text.forward(tk.ids().get("0:1"), new int[] {4}).toFloatArray(),
                    c.text.forward(other, new int[] {4}).toFloatArray(), 1e-5f);
        }
    }

    @Test
    void textEncoderIsCausal() {
        Clip c = tinyModel(m, 4);
        try (NDManager sub = m.newSubManager()) {
            Clip.Tokens a = c.tokenize(sub, List.of("a small red circle on the left."), false);
            Clip.Tokens b = c.tokenize(sub, List.of("a small red square on the left."), false);
            float[] ha = c.text.hidden(a.ids()).toFloatArray();
            float[] hb = c.text.hidden(b.ids()).toFloatArray();
            int w = c.config.textWidth();
            // tokens: 0 <start> 1 a 2 small 3 red 4 circle/square …: positions 0..3 must not see position 4
            for (int p = 0; p < c.config.context(); p++) {
                double diff = 0;
                for (int k = 0; k < w; k++) diff = Math.max(diff, Math.abs(ha[p * w + k] - hb[p * w + k]));
                if (p < 4) assertEquals(0, diff, 1e-6, "position " + p + " sees a later token");
                else assertTrue(diff > 1e-4, "position " + p + " should see the changed token");
            }
        }
    }

    @Test
    void embeddingsHaveUnitNorm() {
        Clip c = tinyModel(m, 5);
        try (NDManager sub = m.newSubManager()) {
            NDArray ie = c.embedImages(sub.randomUniform(0, 1, new Shape(6, 3, 8, 8)));
            NDArray grey = c.embedImages(sub.randomUniform(0, 1, new Shape(2, 1, 8, 8)));
            NDArray te = c.embedTexts(sub, List.of("a coat.", "a large blue cross at the top.", "an image of a handbag."));
            for (NDArray e : List.of(ie, grey, te)) {
                for (float n : e.norm(new int[] {1}).toFloatArray()) assertEquals(1f, n, 1e-5f);
            }
            assertEquals(new Shape(6, c.config.embedDim()), ie.getShape());
            ZeroShot zs = ClipLesson.zeroShotFromTemplates(c, sub, List.of("bag", "coat"), List.of("a photo of {}.", "an image of {}."));
            for (float n : zs.weights.norm(new int[] {1}).toFloatArray()) assertEquals(1f, n, 1e-5f);
        }
    }

    @Test
    void promptEnsembleIsTheRenormalisedMeanOfTemplateEmbeddings() {
        Clip c = tinyModel(m, 6);
        try (NDManager sub = m.newSubManager()) {
            ZeroShot one = ClipLesson.zeroShotFromTemplates(c, sub, List.of("bag"), List.of("a photo of {}."));
            assertArrayEquals(c.embedTexts(sub, List.of("a photo of a bag.")).toFloatArray(), one.weights.toFloatArray(), 1e-5f);
            ZeroShot two = ClipLesson.zeroShotFromTemplates(c, sub, List.of("bag"), List.of("a photo of {}.", "an image of {}."));
            NDArray mean = c.embedTexts(sub, List.of("a photo of a bag.", "an image of a bag.")).mean(new int[] {0}, true);
            assertArrayEquals(Clip.normalize(mean).toFloatArray(), two.weights.toFloatArray(), 1e-5f);
        }
    }

    @Test
    void unknownWordsAndOverLongCaptionsGiveClearErrorsOrDocumentedTruncation() {
        Clip c = tinyModel(m, 7);
        try (NDManager sub = m.newSubManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> c.embedTexts(sub, List.of("a photo of a giraffe.")));
            assertTrue(e.getMessage().contains("giraffe"), e.getMessage());
            String longCaption = "a photo of a bag a photo of a bag.";   // 11 tokens + <start>/<end> > 12
            e = assertThrows(IllegalArgumentException.class, () -> c.embedTexts(sub, List.of(longCaption)));
            assertTrue(e.getMessage().contains("truncate"), e.getMessage());
            Clip.Tokens t = c.tokenize(sub, List.of(longCaption), true);
            assertArrayEquals(new int[] {c.config.context() - 1}, t.ends(), "<end> is kept as the last token");
            assertEquals(1f, c.embedTokens(t).norm().getFloat(), 1e-5f);
        }
    }

    @Test
    void aFewStepsLowerTheLossOnAFixedBatch() {
        try (NDManager sub = m.newSubManager()) {
            Clip c = tinyModel(sub, 8);
            List<String> caps = List.of("a photo of a bag.", "a coat.", "a small red circle on the left.", "a tee.",
                    "a large blue square at the top.", "an image of a sandal.");
            NDArray img = sub.randomUniform(0, 1, new Shape(6, 3, 8, 8));
            float first = c.loss(sub, img, caps).getFloat();
            TrainLoop loop = new TrainLoop(c, new Optim(c, 3e-3f, 0f, 0, 60, 1f), new MetricsLog());
            loop.run(60, (s, st, mt) -> c.loss(s, img.duplicate(), caps), st -> c.clampLogitScale());
            float last = c.loss(sub, img, caps).getFloat();
            assertTrue(last < 0.5 * first, "loss " + first + " → " + last);
        }
    }

    @Test
    void checkpointRoundTrip(@TempDir Path dir) throws Exception {
        try (NDManager sub = m.newSubManager()) {
            Clip a = tinyModel(sub, 9);
            a.logitScale.set(new float[] {3.3f});
            Path f = dir.resolve("clip.safetensors");
            Checkpoint.save(a, f);
            Clip b = tinyModel(sub, 10);
            Checkpoint.load(b, f);
            NDArray img = sub.randomUniform(0, 1, new Shape(2, 3, 8, 8));
            assertArrayEquals(a.embedImages(img).toFloatArray(), b.embedImages(img).toFloatArray(), 1e-6f);
            assertArrayEquals(a.embedTexts(sub, List.of("a coat.")).toFloatArray(), b.embedTexts(sub, List.of("a coat.")).toFloatArray(), 1e-6f);
            assertEquals(a.scaleValue(), b.scaleValue(), 1e-6);
        }
    }

    @Test
    void anEmptyCaptionIsRefusedByClipsTextSideButStaysGlidesUnconditionalCaption() {
        Clip c = tinyModel(m, 7);
        try (NDManager sub = m.newSubManager()) {
            for (String empty : new String[] {"", "   "}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> c.embedTexts(sub, List.of("a coat.", empty)));
                assertTrue(e.getMessage().contains("caption 1 of 2 is empty") && e.getMessage().contains("at least one word"), e.getMessage());
            }
            // GLIDE's (and the unCLIP decoder's) tokenizer keeps "" as the unconditional caption
            Glide.Text text = Glide.Text.tokenize(Tokenizer.textToImage(), 20, sub, List.of("", "a red circle."));
            assertNotNull(text);
        }
    }

    @Test
    void aClassWithoutPromptsIsRefusedByName() {
        Clip c = tinyModel(m, 8);
        try (NDManager sub = m.newSubManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ZeroShot.of(c, sub, List.of("bag", "coat"), List.of(List.of("a photo of a bag."), List.of())));
            assertTrue(e.getMessage().contains("class 'coat' has no prompt"), e.getMessage());
            IllegalArgumentException t = assertThrows(IllegalArgumentException.class,
                    () -> ClipLesson.zeroShotFromTemplates(c, sub, List.of("bag", "coat"), List.of()));
            assertTrue(t.getMessage().contains("class 'bag' has no prompt") && t.getMessage().contains("template"), t.getMessage());
        }
    }

    @Test
    void aHugeCaptionGivesAShortMessage() {
        Clip c = tinyModel(m, 9);
        String huge = "a photo of a coat. ".repeat(8500).substring(0, 160_000);
        String word = "x".repeat(160_000);
        try (NDManager sub = m.newSubManager()) {
            for (String text : new String[] {huge, word, "a coat " + word}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.embedTexts(sub, List.of(text)));
                assertTrue(e.getMessage().length() < 600, e.getMessage().length() + " characters");
                assertTrue(e.getMessage().contains("… (" + text.length() + " characters)"), e.getMessage());
            }
        }
    }
}
