package org.lesson8.lessons;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.CaptionedShapes;
import org.lesson8.data.SceneCaptions;
import org.lesson8.data.FashionMnist;
import org.lesson8.data.Tokenizer;
import org.lesson8.models.Clip;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;

import static org.junit.jupiter.api.Assertions.*;

class ClipLessonTest extends NdTest {
    /** A one-layer CLIP at the lesson's 28 px, small enough for a test. */
    static Clip smallModel(NDManager mm) {
        Tokenizer tok = Tokenizer.course();
        return new Clip(mm, new Clip.Config("CLIP-test 28px", 28, 7, 3, 16, 1, 2, tok.size(), 14, 16, 1, 2, 8), tok, 0);
    }

    @Test
    void trainingClampsTheScaleEvenWithAHugeLearningRate() {
        try (NDManager sub = m.newSubManager()) {
            Clip c = smallModel(sub);
            // t far above ln 100: the clipped scale passes no gradient to t, so only the clamp after each step can bring it back
            c.logitScale.set(new float[] {10f});
            var regime = new ClipLesson.Regime(new Recipe(8, 1f, 0f, 0, 0f), 4);
            var data = new ClipLesson.Pairs(FashionMnist.train(), new CaptionedShapes(28, 1), 1);
            ClipLesson.train(c, data, regime, 1, Double.POSITIVE_INFINITY, new MetricsLog(), null);
            assertEquals(Clip.MAX_LOG_SCALE, c.logitScale.getFloat(), 1e-6, "t is clamped to ln 100 after a real training step");
            MetricsLog log = new MetricsLog();
            ClipLesson.train(c, data, regime, 4, Double.POSITIVE_INFINITY, log,
                    step -> assertTrue(c.logitScale.getFloat() <= Clip.MAX_LOG_SCALE + 1e-6, "t after step " + step));
            assertEquals(4, log.size());
        }
    }

    @Test
    void scenePairsMixBothDomainsFromTheTrainingSplitOnly() {
        try (NDManager sub = m.newSubManager()) {
            var pairs = ClipLesson.Pairs.withScenes(FashionMnist.train(), new CaptionedScenes(3), 5);
            var b = pairs.next(sub, 4, 60);
            assertEquals(new ai.djl.ndarray.types.Shape(64, 3, 28, 28), b.images().getShape());
            for (int i = 0; i < 64; i++) assertEquals(i < 4, b.classes()[i] >= 0);
            for (String c : b.captions().subList(4, 64)) {
                assertFalse(CaptionedScenes.isHeldOut(SceneCaptions.parse(c)), "a held-out combination in training: " + c);
            }
            var again = ClipLesson.Pairs.withScenes(FashionMnist.train(), new CaptionedScenes(3), 5).next(sub, 4, 60);
            assertEquals(b.captions(), again.captions());
            assertArrayEquals(b.images().toFloatArray(), again.images().toFloatArray());
        }
    }
}
