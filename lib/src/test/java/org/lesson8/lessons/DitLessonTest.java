package org.lesson8.lessons;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.Dit;
import org.lesson8.models.LatentDiffusion;
import org.lesson8.models.Vae;
import org.lesson8.train.Ema;
import org.lesson8.train.MetricsLog;

import static org.junit.jupiter.api.Assertions.*;

class DitLessonTest extends NdTest {
    @Test
    void upsideDownLatentsAreTheEncodingsOfTheFlippedImages() {
        try (NDManager sub = m.newSubManager()) {
            FashionMnist.Split test = FashionMnist.test();
            Vae vae = new Vae(sub, Vae.fashion(), 3);
            DitLesson.Latents up = DitLesson.encode(vae, sub, test, 4, false);
            DitLesson.Latents down = DitLesson.encode(vae, sub, test, 4, true);
            NDArray flipped = vae.encode(LatentDiffusion.toSigned(test.images(sub, new int[] {0, 1, 2, 3}).flip(2))).mean();
            assertArrayEquals(flipped.toFloatArray(), down.mean(), 1e-5f);
            assertFalse(java.util.Arrays.equals(up.mean(), down.mean()));
            assertArrayEquals(up.labels(), down.labels());
        }
    }

    @Test
    void theFixedBatchMseRepeatsExactlyAndFallsWhenTrainedOnThoseLatents() {
        try (NDManager sub = m.newSubManager()) {
            FashionMnist.Split train = FashionMnist.train();
            Vae vae = new Vae(sub, Vae.fashion(), 3);
            DitLesson.Latents lat = DitLesson.encode(vae, sub, train, 64, true);
            Dit.Config tiny = new Dit.Config("tiny", 7, 4, 1, 32, 2, 2, 2, 10, true, 0.1);
            LatentDiffusion ld = new LatentDiffusion(vae, new Dit(sub, tiny, 5));
            double before = DitLesson.fixedBatchMse(ld, sub, lat, 64, 9);
            assertEquals(before, DitLesson.fixedBatchMse(ld, sub, lat, 64, 9), 0, "same batch, same number");
            DitLesson.trainDit(ld, lat, DitLesson.ditRecipe().withBatch(32), 40, Double.POSITIVE_INFINITY, 1, new MetricsLog(),
                    new Ema(ld.dit, DitLesson.EMA_DECAY), null);
            double after = DitLesson.fixedBatchMse(ld, sub, lat, 64, 9);
            assertTrue(after < before, "ε-MSE on the fixed batch " + before + " → " + after);
        }
    }
}
