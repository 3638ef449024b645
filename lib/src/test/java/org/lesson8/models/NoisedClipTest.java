package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.data.Tokenizer;
import org.lesson8.diffusion.ClipGuidance;
import org.lesson8.diffusion.GaussianDiffusion;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.nn.Init;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class NoisedClipTest extends NdTest {
    static final Tokenizer TOK = Tokenizer.fromTexts(List.of("a red circle", "a blue square"));
    static final List<String> CAPTIONS = List.of("a red circle", "a blue square");

    static NoisedClip tiny(NDManager mm, long seed) {
        return new NoisedClip(mm, Clip.tiny(TOK.size()), TOK, seed);
    }

    static NDArray images(long seed, int b) {
        return NoiseSource.seeded(new Random(seed)).sample(m, new Shape(b, 3, 8, 8));
    }

    /** The timestep embedding starts at zero; give it weights so that t matters. */
    static NoisedClip timed(long seed) {
        NoisedClip c = tiny(m, seed);
        Init.fillNormal(c.timeEmbed.fc2.weight, new Random(seed), 0.3);
        return c;
    }

    @Test
    void anUntrainedNoisedClipIsItsClipAndThenLearnsTheTimestep() {
        NoisedClip c = tiny(m, 1);
        NDArray x = images(1, 2).clip(-1, 1);   // embedImages reads [0, 1]: (x + 1) / 2
        NDArray clean = c.clip.embedImages(x.add(1).mul(0.5));
        assertEquals(0f, c.embedNoised(x, m.create(new long[] {0, 999})).sub(clean).abs().max().getFloat(), 1e-5f);
        NoisedClip t = timed(2);
        float d = t.embedNoised(x, m.create(new long[] {5, 5})).sub(t.embedNoised(x, m.create(new long[] {900, 900}))).abs().max().getFloat();
        assertTrue(d > 1e-3, "the timestep changes the image embedding: " + d);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.embedNoised(x, m.create(new long[] {1})));
        assertTrue(e.getMessage().contains("timesteps (B)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> c.score(m, List.of("a green circle")));
        assertTrue(e.getMessage().contains("unknown word 'green'"), e.getMessage());
    }

    @Test
    void clipGuidanceGradientMatchesFiniteDifferences() {
        NoisedClip c = timed(3);
        ClipGuidance.Score score = c.score(m, CAPTIONS);
        NDArray x = images(4, 2).mul(0.5);
        NDArray t = m.create(new long[] {100, 600});
        NDArray grad = ClipGuidance.gradient(score, x, t);
        assertTrue(grad.abs().max().getFloat() > 1e-4, "a non-trivial gradient");
        double h = 1e-2;
        NDArray v = images(5, 2);
        double fd = (score.of(x.add(v.mul(h)), t).sum().getFloat() - score.of(x.sub(v.mul(h)), t).sum().getFloat()) / (2 * h);
        double analytic = grad.mul(v).sum().getFloat();
        assertEquals(analytic, fd, 0.02 * Math.abs(analytic) + 1e-4, "directional derivative along a random direction");
        float[] g = grad.toFloatArray();
        float[] base = x.toFloatArray();
        for (int i : new int[] {0, 17, 100, 191, 250, 383}) {
            float[] plus = base.clone();
            float[] minus = base.clone();
            plus[i] += (float) h;
            minus[i] -= (float) h;
            double d = (score.of(m.create(plus, x.getShape()), t).sum().getFloat()
                    - score.of(m.create(minus, x.getShape()), t).sum().getFloat()) / (2 * h);
            assertEquals(g[i], d, 0.05 * Math.abs(g[i]) + 2e-4, "pixel " + i);
        }
        for (NDArray p : score.parameters()) assertEquals(0f, p.getGradient().abs().max().getFloat(), "no gradient left in CLIP");
    }

    @Test
    void aFewStepsLowerTheContrastiveLossOnNoisedPairs() {
        try (NDManager s = m.newSubManager()) {
            NoisedClip c = tiny(s, 6);
            GaussianDiffusion d = GaussianDiffusion.cosine(1000, GaussianDiffusion.Variance.FIXED_SMALL);
            List<String> captions = List.of("a red circle", "a blue square", "a red square", "a blue circle");
            NDArray x0 = images(7, 4).tanh();
            NDArray t = m.create(new long[] {10, 200, 400, 100});
            NDArray xt = d.qSample(x0, t, images(8, 4));
            MetricsLog log = new MetricsLog();
            new Recipe(4, 1e-2f, 0f, 0, 1f).loop(c, 30, log).run(30, (mm, step, metrics) -> c.loss(mm, xt, t, captions), null);
            double first = log.column("loss")[0], last = log.tailMean("loss", 3);
            // ln 4 is chance for 4 pairs: the pairs are told apart despite the noise, not merely made uniform
            assertTrue(last < 0.5 * Math.log(4) && last < 0.5 * first, "loss " + first + " → " + last);
        }
    }
}
