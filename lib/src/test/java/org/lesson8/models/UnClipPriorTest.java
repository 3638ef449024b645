package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.diffusion.Denoiser;
import org.lesson8.diffusion.GaussianDiffusion;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.nn.Nd;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;
import static org.lesson8.models.GlideTest.TOK;
import static org.lesson8.models.GlideTest.maxDiff;

class UnClipPriorTest extends NdTest {
    /** Over the tiny CLIP's sizes: 8-d embeddings, 12 caption tokens of width 16. */
    static UnClipPrior.Config tiny() {
        return new UnClipPrior.Config("tiny prior", 8, 16, 12, 16, 2, 2, 2, 0.1);
    }

    static final GaussianDiffusion D = GaussianDiffusion.cosine(1000, GaussianDiffusion.Variance.FIXED_SMALL);
    static final List<String> TWO = List.of("a red circle", "a blue square on the left");

    static Clip clip() {
        return new Clip(m, Clip.tiny(TOK.size()), TOK, 1);
    }

    static NDArray gaussian(long seed, long... shape) {
        return NoiseSource.seeded(new Random(seed)).sample(m, new Shape(shape));
    }

    static NDArray units(long seed, int b) {
        return Clip.normalize(gaussian(seed, b, 8));
    }

    final NDArray t2 = m.create(new long[] {10, 700});

    @Test
    void parameterCountsFromTheConfig() {
        assertEquals(new UnClipPrior(m, tiny(), 1).parameterCount(), tiny().parameterCount());
        UnClipPrior course = new UnClipPrior(m, UnClipPrior.course(), 1);
        assertEquals(course.parameterCount(), UnClipPrior.course().parameterCount());
        assertTrue(course.parameterCount() * 4 < 8e6, "the course checkpoint must stay under 8 MB");
        assertEquals(1.22e9, UnClipPrior.paper().parameterCount(), 0.01e9, "Appendix C: width 2048, 24 blocks");
    }

    @Test
    void captionsAreClipsHiddenStatesWithPadsZeroedAndItsTextEmbedding() {
        Clip clip = clip();
        UnClipPrior.Caption c = UnClipPrior.Caption.encode(clip, m, TWO);
        assertEquals(new Shape(2, 12, 16), c.tokens().getShape());
        assertEquals(0f, maxDiff(c.textEmbed(), clip.embedTexts(m, TWO)), 1e-6f);
        NDArray hidden = clip.text.hidden(clip.tokenize(m, TWO, false).ids());
        assertEquals(0f, maxDiff(c.tokens().get(new NDIndex("0, :5")), hidden.get(new NDIndex("0, :5"))), "<start> a red circle <end>");
        assertEquals(0f, c.tokens().get(new NDIndex("0, 5:")).abs().max().getFloat(), "pads are zero");
        assertTrue(c.tokens().get(new NDIndex("1, 7")).abs().max().getFloat() > 0, "<end> of the longer caption is kept");
    }

    @Test
    void theLayoutIsCausalAndTheQueryReadsEverything() {
        UnClipPrior p = new UnClipPrior(m, tiny(), 2);
        UnClipPrior.Caption c = UnClipPrior.Caption.encode(clip(), m, TWO);
        NDArray xt = gaussian(1, 2, 8);
        NDArray base = p.hidden(xt, t2, c);
        assertEquals(new Shape(2, 12 + 4, 16), base.getShape(), "[12 caption tokens, text embedding, time, x_t, query]");
        // x_t sits at position 14: positions 0..13 cannot see it, 14 and the query (15) do
        NDArray other = p.hidden(gaussian(2, 2, 8), t2, c);
        assertEquals(0f, maxDiff(base.get(new NDIndex(":, :14")), other.get(new NDIndex(":, :14"))), 1e-6f);
        assertTrue(maxDiff(base.get(new NDIndex(":, 14:")), other.get(new NDIndex(":, 14:"))) > 1e-4);
        // the timestep sits at 13, the text embedding at 12
        other = p.hidden(xt, m.create(new long[] {11, 700}), c);
        assertEquals(0f, maxDiff(base.get(new NDIndex(":, :13")), other.get(new NDIndex(":, :13"))), 1e-6f);
        other = p.hidden(xt, t2, new UnClipPrior.Caption(c.tokens(), units(3, 2)));
        assertEquals(0f, maxDiff(base.get(new NDIndex(":, :12")), other.get(new NDIndex(":, :12"))), 1e-6f);

        NDArray query = p.forward(xt, t2, c);
        NDArray firstToken = c.tokens().duplicate();
        firstToken.set(new NDIndex(":, 0, :"), 0.5f);
        assertTrue(maxDiff(query, p.forward(xt, t2, new UnClipPrior.Caption(firstToken, c.textEmbed()))) > 1e-4, "the first caption token");
        assertTrue(maxDiff(query, p.forward(xt, t2, new UnClipPrior.Caption(c.tokens(), units(3, 2)))) > 1e-4, "the text embedding");
        assertTrue(maxDiff(query, p.forward(xt, m.create(new long[] {11, 700}), c)) > 1e-4, "the timestep");
        assertTrue(maxDiff(query, p.forward(gaussian(2, 2, 8), t2, c)) > 1e-4, "x_t");
        assertEquals(0f, maxDiff(query, p.out.forward(base.get(new NDIndex(":, 15, :")))), "x̂_0 is read at the final query");
    }

    @Test
    void theLossIsTheMeanSquaredErrorOfTheCleanEmbeddingComputedByHand() {
        UnClipPrior p = new UnClipPrior(m, tiny(), 3);
        UnClipPrior.Caption c = UnClipPrior.Caption.encode(clip(), m, TWO);
        NDArray e = units(4, 2), noise = gaussian(5, 2, 8);
        float[] z = e.toFloatArray(), n = noise.toFloatArray(), xt = new float[16];
        double[] abar = D.alphasCumprod();
        long[] ts = t2.toLongArray();
        for (int i = 0; i < 16; i++) {
            double a = abar[(int) ts[i / 8]];
            xt[i] = (float) (Math.sqrt(a) * Math.sqrt(8) * z[i] + Math.sqrt(1 - a) * n[i]);   // x_0 = √E · z_i
        }
        float[] pred = p.forward(m.create(xt, new Shape(2, 8)), t2, c).toFloatArray();
        float[] loss = p.loss(D, e, t2, c, noise).toFloatArray();
        for (int r = 0; r < 2; r++) {
            double sum = 0;
            for (int k = 0; k < 8; k++) sum += Math.pow(pred[r * 8 + k] - Math.sqrt(8) * z[r * 8 + k], 2);
            assertEquals(sum / 8, loss[r], 1e-4 * sum / 8, "row " + r);
        }
    }

    @Test
    void theEpsilonViewIsConsistentWithGaussianDiffusion() {
        UnClipPrior p = new UnClipPrior(m, tiny(), 4);
        UnClipPrior.Caption c = UnClipPrior.Caption.encode(clip(), m, TWO);
        NDArray xt = gaussian(6, 2, 8);
        NDArray x0 = p.forward(xt, t2, c);
        GaussianDiffusion.Prediction pred = D.pMeanVariance(p.epsilon(D), xt, t2, c, false);
        assertEquals(0f, maxDiff(pred.predX0(), x0), 1e-4f, "GaussianDiffusion's x̂_0 from our ε is the prior's x̂_0");
        // and ε is the noise that would have made x_t from x̂_0
        NDArray remade = D.qSample(x0, t2, pred.eps());
        assertEquals(0f, maxDiff(remade, xt), 1e-4f);
    }

    @Test
    void guidanceDropsTheTextAndSamplesAreUnitEmbeddings() {
        UnClipPrior p = new UnClipPrior(m, tiny(), 5);
        UnClipPrior.Caption c = UnClipPrior.Caption.encode(clip(), m, TWO);
        Denoiser<UnClipPrior.Caption> eps = p.epsilon(D);
        NDArray xt = gaussian(7, 2, 8);
        NDArray uncond = eps.apply(xt, t2, c.dropped());
        assertTrue(maxDiff(eps.apply(xt, t2, c), uncond) > 1e-4);
        assertEquals(0f, maxDiff(UnClipPrior.guidance(eps, 0).apply(xt, t2, c), uncond), 1e-4f, "s = 0: the text dropped");
        assertEquals(0f, maxDiff(UnClipPrior.guidance(eps, 1).apply(xt, t2, c), eps.apply(xt, t2, c)), 1e-4f, "s = 1");
        NDArray z = p.sample(D, 5, c, 3, NoiseSource.seeded(new Random(8)));
        assertEquals(new Shape(2, 8), z.getShape());
        for (float norm : z.norm(new int[] {1}).toFloatArray()) assertEquals(1f, norm, 1e-5f);
    }

    @Test
    void bestOfTwoKeepsTheSampleWithTheHigherDotProduct() {
        NDArray text = m.create(new float[] {1, 0, 0, 1}, new Shape(2, 2));
        NDArray first = m.create(new float[] {0.9f, 0.1f, 0.8f, 0.2f}, new Shape(2, 2));
        NDArray second = m.create(new float[] {0.2f, 0.8f, 0.1f, 0.9f}, new Shape(2, 2));
        assertArrayEquals(new float[] {0.9f, 0.1f, 0.1f, 0.9f}, UnClipPrior.keepCloser(first, second, text).toFloatArray());

        UnClipPrior p = new UnClipPrior(m, tiny(), 6);
        UnClipPrior.Caption c = UnClipPrior.Caption.encode(clip(), m, TWO);
        NDArray best = p.sampleBestOfTwo(D, 4, c, 2, NoiseSource.seeded(new Random(9)));
        NDArray both = p.sample(D, 4, c.concat(c), 2, NoiseSource.seeded(new Random(9)));   // the same two draws
        float[] dots = both.mul(c.textEmbed().concat(c.textEmbed(), 0)).sum(new int[] {1}).toFloatArray();
        for (int i = 0; i < 2; i++) {
            NDArray want = both.get(dots[i] >= dots[i + 2] ? i : i + 2);
            assertEquals(0f, maxDiff(best.get(i), want), 1e-6f, "caption " + i);
        }
        assertTrue(maxDiff(both.get(new NDIndex(":2")), both.get(new NDIndex("2:"))) > 1e-3, "the two draws differ");
    }

    @Test
    void theTextIsDroppedAtTheConfiguredRate() {
        UnClipPrior p = new UnClipPrior(m, tiny(), 7);
        int n = 4000;
        UnClipPrior.Caption c = new UnClipPrior.Caption(gaussian(10, n, 12, 16), units(11, n));
        UnClipPrior.Caption d = p.dropText(c, new Random(12));
        float[] tok = d.tokens().abs().sum(new int[] {1, 2}).toFloatArray();
        float[] emb = d.textEmbed().abs().sum(new int[] {1}).toFloatArray();
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(tok[i] == 0f, emb[i] == 0f, "tokens and text embedding are dropped together");
            if (tok[i] == 0f) dropped++;
            else assertEquals(0f, maxDiff(d.textEmbed().get(i), c.textEmbed().get(i)));
        }
        assertEquals(0.1, dropped / (double) n, 0.02);   // binomial(4000, 0.1): sd 0.005
    }

    @Test
    void mistakesGiveClearErrors() {
        UnClipPrior p = new UnClipPrior(m, tiny(), 8);
        UnClipPrior.Caption c = UnClipPrior.Caption.encode(clip(), m, TWO);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.forward(gaussian(1, 2, 64), t2, c));
        assertTrue(e.getMessage().contains("x_t of shape (batch, 8)"), e.getMessage());
        UnClipPrior.Caption wide = new UnClipPrior.Caption(gaussian(2, 2, 12, 64), units(3, 2));
        e = assertThrows(IllegalArgumentException.class, () -> p.forward(gaussian(1, 2, 8), t2, wide));
        assertTrue(e.getMessage().contains("caption tokens (2, 12, 16)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> p.loss(D, Nd.mul(units(4, 2), 2), t2, c, gaussian(5, 2, 8)));
        assertTrue(e.getMessage().contains("norm") && e.getMessage().contains("Clip.normalize"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> p.epsilon(D.respace(10)));
        assertTrue(e.getMessage().contains("not a respaced one"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> p.forward(gaussian(1, 2, 8), t2, null));
        assertTrue(e.getMessage().contains("Caption.encode"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new UnClipPrior.Caption(gaussian(2, 2, 16), units(3, 2)));
        assertTrue(e.getMessage().contains("(batch, context, width)"), e.getMessage());
    }

    @Test
    void checkpointRoundTrip() throws Exception {
        UnClipPrior a = new UnClipPrior(m, tiny(), 9);
        Path f = Files.createTempFile("unclip-prior", ".safetensors");
        try {
            Checkpoint.save(a, f);
            UnClipPrior b = new UnClipPrior(m, tiny(), 10);
            NDArray xt = gaussian(3, 2, 8);
            UnClipPrior.Caption c = UnClipPrior.Caption.encode(clip(), m, TWO);
            assertTrue(maxDiff(a.forward(xt, t2, c), b.forward(xt, t2, c)) > 1e-4, "another seed, another prior");
            Checkpoint.load(b, f);
            assertEquals(0f, maxDiff(a.forward(xt, t2, c), b.forward(xt, t2, c)));
        } finally {
            Files.delete(f);
        }
    }

    @Test
    void aFewRecipeStepsLowerTheLossOnAToyBatch() {
        try (NDManager s = m.newSubManager()) {
            UnClipPrior p = new UnClipPrior(s, tiny(), 11);
            UnClipPrior.Caption c = UnClipPrior.Caption.encode(clip(), m,
                    List.of("a red circle", "a blue square", "a blue circle", "a red square on the left"));
            NDArray e = units(12, 4), noise = gaussian(13, 4, 8);
            NDArray t = m.create(new long[] {50, 300, 600, 900});
            MetricsLog log = new MetricsLog();
            new Recipe(4, 1e-2f, 0f, 0, 1f).loop(p, 15, log).run(15, (mm, step, metrics) -> p.loss(D, e, t, c, noise).mean(), null);
            double first = log.column("loss")[0], last = log.tailMean("loss", 3);
            assertTrue(last < 0.5 * first, "loss " + first + " → " + last);
        }
    }
}
