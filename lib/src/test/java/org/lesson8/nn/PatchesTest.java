package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class PatchesTest extends NdTest {
    @Test
    void patchifyAndUnpatchifyAreInverse() {
        NDArray x = m.arange(2 * 3 * 8 * 8).toType(DataType.FLOAT32, false).reshape(2, 3, 8, 8);
        for (int p : new int[] {1, 2, 4}) {
            NDArray tokens = Patches.patchify(x, p);
            assertEquals(new Shape(2, 64 / (p * p), p * p * 3), tokens.getShape());
            assertArrayEquals(x.toFloatArray(), Patches.unpatchify(tokens, p, 3).toFloatArray(), 0f);
        }
        // token 1 of a 2×2-patch grid is the patch at row 0, columns 2..3; values ordered (row, column, channel)
        NDArray t = Patches.patchify(x, 2);
        float[] first = t.get("0, 1, :").toFloatArray();
        assertEquals(x.getFloat(0, 0, 0, 2), first[0]);
        assertEquals(x.getFloat(0, 1, 0, 2), first[1]);
        assertEquals(x.getFloat(0, 0, 0, 3), first[3]);
        assertEquals(x.getFloat(0, 0, 1, 2), first[6]);
    }

    @Test
    void aGreyPatchIsReadRowByRow() {
        float[] img = new float[16];
        for (int i = 0; i < 16; i++) img[i] = i;
        NDArray t = Patches.patchify(m.create(img, new Shape(1, 1, 4, 4)), 2);
        assertArrayEquals(new float[] {0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15}, t.toFloatArray(), 0f);
    }

    @Test
    void patchifyTimesKernelEqualsTheConvolution() {
        PatchEmbedding pe = new PatchEmbedding(m, new Random(10), 8, 4, 3, 5);
        NDArray x = m.randomUniform(0, 1, new Shape(2, 3, 8, 8));
        // the kernel (D, C, P, P) read in the patches' (row, column, channel) order
        NDArray w = pe.weight.transpose(0, 2, 3, 1).reshape(5, 48);
        NDArray viaPatches = Patches.patchify(x, 4).matMul(w.transpose()).add(pe.bias);
        assertTrue(viaPatches.allClose(pe.forward(x), 1e-4, 1e-4, false));
        assertEquals(new Shape(2, 4, 48), Patches.patchify(x, 4).getShape());
    }

    @Test
    void wrongShapesGiveClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Patches.patchify(m.zeros(new Shape(1, 1, 28, 28)), 5));
        assertTrue(e.getMessage().contains("divisible by 5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Patches.unpatchify(m.zeros(new Shape(1, 12, 4)), 2, 1));
        assertTrue(e.getMessage().contains("(batch, grid², 4)"), e.getMessage());
    }
}
