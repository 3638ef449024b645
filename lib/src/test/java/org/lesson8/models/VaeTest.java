package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.nn.Conv2d;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class VaeTest extends NdTest {
    @Test
    void shapesFollowTheDownsamplingFactor() {
        Vae v = new Vae(m, Vae.fashion(), 1);
        NDArray x = m.randomUniform(-1, 1, new Shape(3, 1, 28, 28));
        Vae.Posterior q = v.encode(x);
        assertEquals(new Shape(3, 4, 7, 7), q.mean().getShape());
        assertEquals(new Shape(3, 4, 7, 7), q.logVar().getShape());
        assertEquals(new Shape(3, 1, 28, 28), v.decode(q.mean()).getShape());
    }

    @Test
    void klAgainstHandComputedValue() {
        NDArray mean = m.create(new float[] {1f, 0f}, new Shape(1, 2, 1, 1));
        NDArray logVar = m.create(new float[] {0f, (float) Math.log(2)}, new Shape(1, 2, 1, 1));
        // ½(1 + 1 − 1 − 0) + ½(0 + 2 − 1 − ln 2) = 0.5 + 0.5 − ½ ln 2
        assertEquals(1 - 0.5 * Math.log(2), new Vae.Posterior(mean, logVar).kl().getFloat(0), 1e-6);
        assertEquals(0f, new Vae.Posterior(mean.zerosLike(), logVar.zerosLike()).kl().getFloat(0), 0f);
    }

    @Test
    void upsampleIsNearestNeighbour() {
        NDArray x = m.create(new float[] {1, 2, 3, 4}, new Shape(1, 1, 2, 2));
        assertArrayEquals(new float[] {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, Conv2d.upsample2(x).toFloatArray(), 0f);
    }

    @Test
    void measuredScaleGivesUnitVariance() {
        Vae v = new Vae(m, Vae.fashion(), 2);
        NDArray z = m.randomNormal(0, 3, new Shape(64, 4, 7, 7), ai.djl.ndarray.types.DataType.FLOAT32);
        float s = v.measureScale(z);
        assertEquals(1 / 3.0, s, 0.01);
        float[] scaled = z.mul(v.scale()).toFloatArray();
        double sq = 0;
        for (float f : scaled) sq += f * f;
        assertEquals(1.0, sq / scaled.length, 0.02);
    }

    @Test
    void wrongSizesGiveClearErrors() {
        Vae v = new Vae(m, Vae.fashion(), 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> v.encode(m.zeros(new Shape(2, 1, 32, 32))));
        assertTrue(e.getMessage().contains("(batch, 1, 28, 28)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> v.decode(m.zeros(new Shape(2, 4, 8, 8))));
        assertTrue(e.getMessage().contains("(2, 4, 7, 7)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Vae(m, new Vae.Config("odd", 30, 1, 4, 8, 1e-4f), 1));
    }

    @Test
    void afewStepsReduceTheLoss() {
        Vae v = new Vae(m, Vae.fashion(), 4);
        var opt = new org.lesson8.train.Optim(v, 3e-3f, 0f, 0, 60, 1f);
        // blocky images (a 7×7 pattern upsampled to 28×28): structure the 7×7 latent can carry
        NDArray x = Conv2d.upsample2(Conv2d.upsample2(m.randomUniform(-1, 1, new Shape(8, 1, 7, 7))));
        NoiseSource noise = NoiseSource.seeded(new Random(1));
        float first = 0, last = 0;
        for (int i = 0; i < 60; i++) {
            try (var gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                NDArray l = v.losses(x, noise).loss();
                gc.backward(l);
                if (i == 0) first = l.getFloat();
                last = l.getFloat();
            }
            opt.step();
        }
        assertTrue(last < 0.5 * first, first + " → " + last);
        assertEquals(1f, v.scale(), 0f, "training must not move the measured latent scale");
    }
}
