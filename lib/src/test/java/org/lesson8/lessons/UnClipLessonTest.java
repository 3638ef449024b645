package org.lesson8.lessons;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.FashionMnist;
import org.lesson8.data.Tokenizer;
import org.lesson8.eval.TextToImageEval;
import org.lesson8.models.Clip;
import org.lesson8.models.Glide;
import org.lesson8.models.UnClipDecoder;
import org.lesson8.models.UnClipPrior;
import org.lesson8.nn.Channels;
import org.lesson8.nn.Init;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class UnClipLessonTest extends NdTest {
    static Clip clip;
    static Glide glide;
    static UnClipDecoder decoder;
    static final List<String> CAPTIONS = List.of("a large red circle in the centre.", "a photo of a bag.");

    @BeforeAll
    static void models() {
        clip = new Clip(m, Clip.textToImage(), Tokenizer.textToImage(), 3);
        glide = new Glide(m, Glide.course(), 5);
        Random rng = new Random(5);
        // give GLIDE's zero-initialised layers weights, so that every path reaches ε
        for (Map.Entry<String, NDArray> e : glide.parameters().entrySet()) {
            if (e.getKey().contains("adaLN") || e.getKey().startsWith("final_layer.linear")) Init.fillNormal(e.getValue(), rng, 0.05);
        }
        decoder = UnClipLesson.decoderFrom(glide, m);
    }

    static float maxDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    @Test
    void theDecoderStartsFromGlideWithTheEmbeddingsProjectionsAtZero() {
        Map<String, NDArray> from = glide.parameters();
        int copied = 0;
        for (Map.Entry<String, NDArray> e : decoder.parameters().entrySet()) {
            NDArray src = from.get(e.getKey());
            if (src == null) {
                assertTrue(e.getKey().startsWith("clip_to_"), e.getKey());
                assertEquals(0f, e.getValue().abs().max().getFloat(), e.getKey());
                continue;
            }
            assertEquals(0f, maxDiff(src, e.getValue()), e.getKey());
            copied++;
        }
        assertEquals(decoder.parameters().size() - 4, copied);
        assertEquals(from.size(), copied, "every GLIDE parameter is used");
        assertTrue(decoder.config.text());
        try (NDManager sub = m.newSubManager()) {
            NDArray t = sub.create(new long[] {10, 900});
            NDArray z = Clip.normalize(sub.randomNormal(new ai.djl.ndarray.types.Shape(2, 64)));
            List<String> caps = List.of("a large red circle in the centre.", "");
            NDArray[] dc = decoder.condition(t, new UnClipDecoder.Condition(z, decoder.tokenize(sub, caps)));
            NDArray[] gc = glide.condition(t, glide.tokenize(sub, caps));
            // c and the caption's tokens are GLIDE's, whatever the embedding; the four embedding tokens are zero
            assertTrue(maxDiff(dc[0], gc[0]) < 1e-5, "c");
            long s = gc[1].getShape().get(1);
            assertTrue(maxDiff(dc[1].get(new NDIndex(":, :{}, :", s)), gc[1]) < 1e-6, "caption tokens");
            assertEquals(0f, dc[1].get(new NDIndex(":, {}:, :", s)).abs().max().getFloat(), "embedding tokens");
        }
    }

    @Test
    void theDecoderOfNotebook07IsMadeFromThe2x2GlideWithItsPatches() {
        try (NDManager sub = m.newSubManager()) {
            Glide g2 = new Glide(sub, Glide.coursePatch2(), 3);
            UnClipDecoder d2 = UnClipLesson.decoderFrom(g2, sub);
            assertEquals(UnClipLesson.decoderConfig(), d2.config);
            assertEquals(0f, maxDiff(g2.xEmbedder.weight, d2.xEmbedder.weight), "patch embedding copied");
            assertEquals(0f, maxDiff(g2.posEmbed, d2.posEmbed), "196 positions copied");
        }
    }

    @Test
    void aDecoderFromAnotherGlideIsRefused() {
        Glide.Config c = Glide.course();
        Glide other = new Glide(m, new Glide.Config("narrow", 28, 3, 4, 64, 2, 4, 4, c.vocab(), 20, 64, 1, 4, false, 0.2), 0);
        var e = assertThrows(IllegalArgumentException.class, () -> UnClipLesson.decoderFrom(other, m));
        assertTrue(e.getMessage().contains("GLIDE-course"), e.getMessage());
    }

    @Test
    void theThreeSourcesAreTheImageTheTextAndThePriorsEmbedding() {
        try (NDManager sub = m.newSubManager()) {
            NDArray real = TextToImageEval.real().generate(sub, CAPTIONS, 11);
            NDArray a = UnClipLesson.embeddings(sub, UnClipLesson.Source.IMAGE_EMBEDDING, clip, null, null, CAPTIONS, 11);
            assertTrue(maxDiff(a, clip.embedImages(real.getShape().get(1) == 1 ? Channels.greyToRgb(real) : real)) < 1e-6);
            NDArray c = UnClipLesson.embeddings(sub, UnClipLesson.Source.TEXT_EMBEDDING, clip, null, null, CAPTIONS, 11);
            assertTrue(maxDiff(c, clip.embedTexts(sub, CAPTIONS)) < 1e-6);
            var e = assertThrows(IllegalArgumentException.class, () -> UnClipLesson.embeddings(sub, UnClipLesson.Source.PRIOR,
                    clip, null, UnClipLesson.PriorSampling.standard(), CAPTIONS, 11));
            assertTrue(e.getMessage().contains("prior"), e.getMessage());
            UnClipPrior prior = new UnClipPrior(m, UnClipPrior.course(), 2);
            NDArray b = UnClipLesson.embeddings(sub, UnClipLesson.Source.PRIOR, clip, prior, new UnClipLesson.PriorSampling(3, 2, true), CAPTIONS, 11);
            assertArrayEquals(new long[] {2, 64}, b.getShape().getShape());
            float[] norms = b.norm(new int[] {1}).toFloatArray();
            for (float n : norms) assertEquals(1f, n, 1e-4);
        }
    }

    @Test
    void variationsKeepOneEmbeddingAndInterpolationsOneNoise() {
        UnClipDecoder decoder = UnClipLesson.decoderFrom(glide, m);
        Random rng = new Random(4);
        Init.fillNormal(decoder.clipToTime.weight, rng, 0.5);    // so that the embedding changes the image
        Init.fillNormal(decoder.clipToTokens.weight, rng, 0.5);
        try (NDManager sub = m.newSubManager()) {
            NDArray images = CaptionedScenes.images(sub, new CaptionedScenes(1).scenes(CaptionedScenes.Split.TEST, 2));
            NDArray v = UnClipLesson.variations(decoder, clip, sub, images, 3, 2, 2, 7);
            assertArrayEquals(new long[] {6, 3, 28, 28}, v.getShape().getShape());
            assertTrue(maxDiff(v.get("0"), v.get("1")) > 1e-3, "different noise gives different variations");
            NDArray path = UnClipLesson.interpolate(decoder, clip, sub, images.get("0:1"), images.get("1:2"), 4, 2, 2, 9);
            assertArrayEquals(new long[] {4, 3, 28, 28}, path.getShape().getShape());
            NDArray noise = UnClipLesson.noise(decoder, sub, 1, 9);
            NDArray first = UnClipLesson.decode(decoder, clip.embedImages(images.get("0:1")), null, noise, 2, 2);
            NDArray last = UnClipLesson.decode(decoder, clip.embedImages(images.get("1:2")), null, noise, 2, 2);
            // equal up to float rounding, which x̂_0 = (x_t − √(1 − ᾱ)ε)/√ᾱ magnifies at the first, noisiest step
            assertTrue(maxDiff(path.get("0:1"), first) < 1e-2, "t = 0 is image a's embedding with the same noise: " + maxDiff(path.get("0:1"), first));
            assertTrue(maxDiff(path.get("3:4"), last) < 1e-2, "t = 1 is image b's embedding with the same noise: " + maxDiff(path.get("3:4"), last));
            assertTrue(maxDiff(first, last) > 0.05, "the two end points differ: " + maxDiff(first, last));
            assertThrows(IllegalArgumentException.class,
                    () -> UnClipLesson.interpolate(decoder, clip, sub, images.get("0:1"), images.get("1:2"), 1, 2, 2, 9));
        }
    }

    @Test
    void bothModelsTrainOnTheMixedPairsThroughTheFrozenClip() {
        var pairs = ClipLesson.Pairs.withScenes(FashionMnist.train(), new CaptionedScenes(42), 1);
        float[] clipBefore = clip.parameterList().get(0).toFloatArray();
        MetricsLog dlog = new MetricsLog();
        UnClipDecoder decoder = UnClipLesson.decoderFrom(glide, m);
        UnClipLesson.trainDecoder(decoder, clip, UnClipLesson.process(), pairs, new ClipLesson.Regime(new Recipe(4, 1e-3f, 0f, 1, 1f), 2),
                2, Double.POSITIVE_INFINITY, 1, dlog, null, null);
        assertEquals(2, dlog.size());
        UnClipPrior prior = new UnClipPrior(m, new UnClipPrior.Config("tiny", 64, 64, 20, 16, 1, 2, 2, 0.1), 1);
        MetricsLog plog = new MetricsLog();
        UnClipLesson.trainPrior(prior, clip, UnClipLesson.priorProcess(), pairs, new ClipLesson.Regime(new Recipe(8, 3e-3f, 0f, 1, 1f), 4),
                30, Double.POSITIVE_INFINITY, 1, plog, null, null);
        double[] mse = plog.column("mse");
        double first = (mse[0] + mse[1] + mse[2]) / 3, last = (mse[27] + mse[28] + mse[29]) / 3;
        assertTrue(last < first, "prior mse " + first + " -> " + last);
        assertArrayEquals(clipBefore, clip.parameterList().get(0).toFloatArray(), "CLIP stays frozen");
    }
}
