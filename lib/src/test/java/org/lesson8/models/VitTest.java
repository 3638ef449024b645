package org.lesson8.models;

import org.lesson8.lessons.VitLesson;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.junit.jupiter.api.io.TempDir;
import org.lesson8.train.Checkpoint;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class VitTest extends NdTest {
    static Vit.Config small() {
        return new Vit.Config("test", 8, 2, 1, 16, 2, 2, 32, 3);
    }

    @Test
    void parameterCountFromConfigEqualsTheBuiltModel() {
        for (Vit.Config c : List.of(small(), Vit.fashionSmall(), Vit.fashionTiny())) {
            try (NDManager sub = m.newSubManager()) {
                assertEquals(c.parameterCount(), new Vit(sub, c, 0).parameterCount(), c.name());
            }
        }
    }

    @Test
    void viTBase16CountMatchesTheReferenceImplementation() {
        // google-research/vision_transformer with a 1000-class head at 224 px: 86,567,656
        assertEquals(86_567_656L, Vit.base16().parameterCount());
        try (NDManager sub = m.newSubManager()) {
            assertEquals(86_567_656L, new Vit(sub, Vit.base16(), 0).parameterCount());
        }
        // L/16 and H/14 are only computed from the config (H needs 2.5 GB): 304.33M and 632.05M
        assertEquals(304.33, Vit.large16().parameterCount() / 1e6, 0.005);
        assertEquals(632.05, Vit.huge14().parameterCount() / 1e6, 0.005);
    }

    @Test
    void outputShapesAndAttentions() {
        Vit v = new Vit(m, small(), 1);
        Vit.Output o = v.forward(m.randomUniform(0, 1, new Shape(5, 1, 8, 8)), true);
        assertEquals(new Shape(5, 3), o.logits().getShape());
        assertEquals(new Shape(5, 16), o.clsFeature().getShape());
        assertEquals(2, o.attentions().size());
        assertEquals(new Shape(5, 2, 17, 17), o.attentions().get(0).getShape());
        assertEquals(new Shape(5, 17, 16), v.embed(m.zeros(new Shape(5, 1, 8, 8))).getShape());
    }

    @Test
    void headReadsOnlyTheClsToken() {
        Vit v = new Vit(m, small(), 2);
        // give the head non-zero weights (it starts at zero as in the reference code)
        v.head.weight.set(m.randomNormal(new Shape(3, 16)).toFloatArray());
        NDArray x = m.randomUniform(0, 1, new Shape(2, 1, 8, 8));
        NDArray z = v.embed(x);
        for (var b : v.blocks) z = b.forward(z, false, false).out();
        NDArray expected = v.head.forward(v.norm.forward(z.get(":, 0, :")));
        assertTrue(expected.allClose(v.logits(x), 1e-5, 1e-5, false));
        // the CLS token is a learnable parameter and it changes the output
        v.clsToken.set(m.randomNormal(new Shape(1, 1, 16)).toFloatArray()); // (a constant shift would be removed by LayerNorm)
        assertFalse(expected.allClose(v.logits(x), 1e-4, 1e-4, false));
    }

    @Test
    void encoderIsNotCausal() {
        Vit v = new Vit(m, small(), 3);
        NDArray x = m.randomUniform(0, 1, new Shape(1, 1, 8, 8));
        Vit.Output o = v.forward(x, true);
        // the first query attends to the last patch with non-zero weight
        assertTrue(o.attentions().get(0).getFloat(0, 0, 1, 16) > 0);
        // changing only the last (bottom-right) patch changes the CLS feature
        NDArray x2 = x.duplicate();
        x2.set(new NDIndex(":, :, 6:, 6:"), m.ones(new Shape(1, 1, 2, 2)));
        assertFalse(o.clsFeature().allClose(v.forward(x2, false).clsFeature(), 1e-5, 1e-5, false));
    }

    @Test
    void positionSimilarityOnHandMadeEmbeddings() {
        // CLS + 2 patches, dim 2: CLS=(9,9) ignored, p1=(1,0), p2=(1,1)
        float[] pos = {9, 9, 1, 0, 1, 1};
        double[][] s = VitLesson.positionSimilarity(pos, 3, 2);
        assertEquals(2, s.length);
        assertEquals(1.0, s[0][0], 1e-9);
        assertEquals(Math.sqrt(0.5), s[0][1], 1e-6);
        assertEquals(s[0][1], s[1][0], 1e-12);
    }

    @Test
    void meanAttentionDistanceOnHandMadeAttention() {
        // grid 2×2, patch 4 px, 1 image, 2 heads; T = 5 (CLS + 4)
        int t = 5;
        float[] att = new float[2 * t * t];
        for (int q = 0; q < t; q++) {
            att[(0 * t + q) * t + q] = 1f;          // head 0: each token attends to itself → distance 0
            att[(1 * t + q) * t + 4] = 1f;          // head 1: everyone attends to patch (1,1)
        }
        double[] d = VitLesson.meanAttentionDistance(att, 1, 2, 2, 4);
        assertEquals(0.0, d[0], 1e-9);
        // queries (0,0),(0,1),(1,0),(1,1) → distances 4√2, 4, 4, 0 (CLS query excluded)
        assertEquals((4 * Math.sqrt(2) + 4 + 4 + 0) / 4, d[1], 1e-6);
    }

    @Test
    void rolloutRowsSumToOne() {
        Vit v = new Vit(m, small(), 4);
        Vit.Output o = v.forward(m.randomUniform(0, 1, new Shape(2, 1, 8, 8)), true);
        List<float[]> per = o.attentions().stream().map(a -> a.get(1).toFloatArray()).toList();
        double[][] r = VitLesson.rollout(per, 2, 17);
        for (double[] row : r) {
            double s = 0;
            for (double x : row) { s += x; assertTrue(x >= 0); }
            assertEquals(1.0, s, 1e-9);
        }
        assertEquals(4, VitLesson.rolloutMap(o.attentions(), 0, 4).length);
    }

    @Test
    void wrongImageSizeAndIndivisiblePatchGiveClearErrors() {
        Vit v = new Vit(m, small(), 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> v.logits(m.zeros(new Shape(1, 1, 28, 28))));
        assertTrue(e.getMessage().contains("(batch, 1, 8, 8)") && e.getMessage().contains("8×8"), e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> new Vit(m, new Vit.Config("bad", 28, 5, 1, 16, 1, 2, 32, 10), 0));
        assertTrue(e2.getMessage().contains("28 is not divisible by patch size 5"), e2.getMessage());
    }

    @Test
    void checkpointLoadsIntoTheSameConfigAndRefusesAnother(@TempDir Path dir) throws Exception {
        Vit a = new Vit(m, small(), 6);
        a.head.weight.set(m.randomNormal(new Shape(3, 16)).toFloatArray());
        Path f = dir.resolve("vit.safetensors");
        Checkpoint.save(a, f);
        Vit b = new Vit(m, small(), 7);
        Checkpoint.load(b, f);
        NDArray x = m.randomUniform(0, 1, new Shape(2, 1, 8, 8));
        assertTrue(a.logits(x).allClose(b.logits(x)));
        Vit other = new Vit(m, new Vit.Config("wider", 8, 2, 1, 16, 2, 2, 64, 3), 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(other, f));
        assertTrue(e.getMessage().contains("blocks.0.mlp.fc1.weight"), e.getMessage());
    }

    @Test
    void smallCnnShapes() {
        SmallCnn c = new SmallCnn(m, 0);
        assertEquals(new Shape(4, 10), c.logits(m.zeros(new Shape(4, 1, 28, 28))).getShape());
    }
}
