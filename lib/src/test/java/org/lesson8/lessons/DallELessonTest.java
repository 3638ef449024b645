package org.lesson8.lessons;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.FashionCaptions;
import org.lesson8.data.FashionMnist;
import org.lesson8.data.SceneCaptions;
import org.lesson8.data.Tokenizer;
import org.lesson8.models.DallE;
import org.lesson8.models.Dvae;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class DallELessonTest extends NdTest {
    static final Tokenizer TOK = Tokenizer.textToImage();

    /** A dVAE at the lesson's 28 px and 7×7 grid with 16 codes and width 4: fast enough for a test. */
    static Dvae tinyDvae(NDManager mm, long seed) {
        return new Dvae(mm, new Dvae.Config("dVAE-test", 28, 3, 7, 16, 4), seed);
    }

    /** A one-block transformer for the tiny dVAE's tokens with the course's text positions. */
    static DallE tinyDallE(NDManager mm) {
        return new DallE(mm, new DallE.Config("DALL·E-test", TOK.size(), DallE.courseTextLength(), 7, 16, 16, 1, 2, 32), 1);
    }

    static DallELesson.Images images() {
        return new DallELesson.Images(FashionMnist.train(), new CaptionedScenes(3), CaptionedScenes.Split.TRAIN);
    }

    @Test
    void theCourseTextLengthHoldsEveryCaptionOfBothDomainsAndNoPositionIsWasted() {
        int l = DallE.course(TOK.size(), Dvae.course()).textLength();
        assertEquals(DallE.courseTextLength(), l);
        List<String> all = new ArrayList<>(SceneCaptions.allCaptions());
        all.addAll(FashionCaptions.allCaptions());
        int longest = 0;
        for (String c : all) {
            int[] ids = TOK.encode(c, l);   // throws for a caption that does not fit with <start> and <end>
            longest = Math.max(longest, Tokenizer.endPosition(ids) + 1);
        }
        assertEquals(l, longest, "the longest caption fills every text position");
    }

    @Test
    void theCodeTableDependsOnlyOnTheDvaeTheDataAndTheSeed() {
        try (NDManager sub = m.newSubManager()) {
            Dvae dvae = tinyDvae(sub, 5);
            DallELesson.CodeTable a = DallELesson.codeTable(dvae, sub, images(), 6, 5, 3, 9);
            DallELesson.CodeTable b = DallELesson.codeTable(dvae, sub, images(), 6, 5, 3, 9);
            DallELesson.CodeTable other = DallELesson.codeTable(dvae, sub, images(), 6, 5, 3, 10);
            assertEquals(11, a.size());
            assertArrayEquals(a.codes(), b.codes());
            assertTrue(Arrays.deepEquals(a.captions(), b.captions()), "same seed, same phrasings");
            assertArrayEquals(a.codes(), other.codes(), "the codes do not depend on the caption seed");
            assertFalse(Arrays.deepEquals(a.captions(), other.captions()), "another seed draws other phrasings");
            // the codes are the dVAE's tokens of those very images, and the captions describe them
            NDArray x = images().first(sub, 6);
            long[] direct = dvae.encode(x.get("0:6")).toLongArray();
            for (int i = 0; i < direct.length; i++) assertEquals(direct[i], a.codes()[i], "code " + i);
            CaptionedScenes.Scene s0 = new CaptionedScenes(3).scene(CaptionedScenes.Split.TRAIN, 0);
            assertEquals(s0.caption(), a.captions()[0][0], "a scene's first phrasing is its drawn caption");
            for (String c : a.captions()[0]) assertEquals(s0.attributes(), SceneCaptions.parse(c), c);
            assertEquals(3, a.captions()[6].length);
            String word = FashionCaptions.WORDS.get(FashionMnist.train().label(0)).get(0);
            for (String c : a.captions()[6]) {
                assertTrue(FashionCaptions.allCaptions().contains(c) && FashionCaptions.WORDS.get(FashionMnist.train().label(0))
                        .stream().anyMatch(c::contains), "Fashion image 0 (" + word + ") captioned \"" + c + "\"");
            }
            NDArray rows = a.codes(sub, new int[] {6, 0});
            assertArrayEquals(new long[] {2, 49}, rows.getShape().getShape());
            assertEquals(a.codes()[0], rows.get("1, 0").getLong());
        }
    }

    @Test
    void dvaeTrainingFollowsTheAnnealingAndLogsItsFigures() {
        try (NDManager sub = m.newSubManager()) {
            Dvae dvae = tinyDvae(sub, 2);
            Dvae.Anneal anneal = DallELesson.anneal(30);
            MetricsLog log = new MetricsLog();
            DallELesson.trainDvae(dvae, images(), new Recipe(8, 1e-2f, 0f, 0, 1f), anneal, 3, 1e9, 1, log, null);
            assertEquals(3, log.size());
            double[] tau = log.column("tau"), beta = log.column("beta");
            for (int s = 0; s < 3; s++) {
                assertEquals(anneal.tau(s), tau[s], 1e-12, "τ of step " + s);
                assertEquals(anneal.beta(s), beta[s], 1e-12, "β of step " + s);
            }
            assertEquals(DallELesson.BETA, anneal.beta(30), 1e-12);
            for (double p : log.column("perplexity")) assertTrue(p >= 1 && p <= 16, "perplexity " + p);
            assertTrue(log.column("reconstruction")[0] > 0 && log.column("kl")[0] >= 0);
        }
    }

    @Test
    void generateGivesOneImageInTheUnitRangePerCaptionAndRejectsUnknownWords() {
        try (NDManager sub = m.newSubManager()) {
            DallELesson.Pipeline p = DallELesson.Pipeline.standard(tinyDallE(sub), tinyDvae(sub, 3), TOK);
            List<String> captions = List.of("a picture of a red circle to the left of a green square.", "a photo of a sneaker.",
                    "a small blue cross at the top.");
            NDArray x = p.generate(sub, captions, 7);
            assertArrayEquals(new long[] {3, 3, 28, 28}, x.getShape().getShape());
            assertTrue(x.min().getFloat() >= 0 && x.max().getFloat() <= 1, "pixels in [0, 1]");
            assertArrayEquals(x.toFloatArray(), p.generate(sub, captions, 7).toFloatArray(), "a seed repeats the images");
            int[][] codes = p.codes(sub, captions, 7);
            for (int[] row : codes) for (int c : row) assertTrue(c >= 0 && c < 16, "code " + c);
            var e = assertThrows(IllegalArgumentException.class, () -> p.generate(sub, List.of("a photo of a unicorn."), 0));
            assertTrue(e.getMessage().contains("unicorn"), e.getMessage());
            var g = assertThrows(IllegalArgumentException.class,
                    () -> DallELesson.Pipeline.standard(tinyDallE(sub), new Dvae(sub, Dvae.course(), 0), TOK));
            assertTrue(g.getMessage().contains("256"), g.getMessage());
        }
    }

    @Test
    void rerankKeepsTheKHighestScoresBestFirst() {
        float[] scores = {0.1f, 0.9f, 0.5f, 0.9f, -1f, 0.7f};
        assertArrayEquals(new int[] {1, 3, 5}, DallELesson.rerank(scores, 3), "ties keep the earlier sample first");
        assertArrayEquals(new int[] {1}, DallELesson.rerank(scores, 1));
        assertArrayEquals(new int[] {1, 3, 5, 2, 0, 4}, DallELesson.rerank(scores, 6));
        assertThrows(IllegalArgumentException.class, () -> DallELesson.rerank(scores, 0));
        assertThrows(IllegalArgumentException.class, () -> DallELesson.rerank(scores, 7));
        try (NDManager sub = m.newSubManager()) {
            NDArray imgs = sub.arange(6f).reshape(6, 1, 1, 1);
            assertArrayEquals(new float[] {1, 3, 5}, DallELesson.select(imgs, DallELesson.rerank(scores, 3)).toFloatArray());
        }
    }

    @Test
    void transformerTrainingLowersTheLossOnASmallTable() {
        try (NDManager sub = m.newSubManager()) {
            DallELesson.CodeTable table = DallELesson.codeTable(tinyDvae(sub, 4), sub, images(), 8, 8, 2, 1);
            DallE d = tinyDallE(sub);
            DallELesson.Nll before = DallELesson.nll(d, sub, table, TOK);
            MetricsLog log = new MetricsLog();
            DallELesson.trainDallE(d, table, TOK, new Recipe(16, 3e-3f, 0f, 0, 1f), 40, 1e9, 2, log, null);
            DallELesson.Nll after = DallELesson.nll(d, sub, table, TOK);
            assertEquals(16, after.pairs());
            assertTrue(after.image() < 0.8 * before.image(), "image NLL " + before.image() + " → " + after.image());
            assertTrue(after.text() < 0.9 * before.text(), "text NLL (weight 1/8) " + before.text() + " → " + after.text());
            assertEquals(40, log.column("image").length);
        }
    }
}
