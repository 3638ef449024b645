package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class UnitVectorsTest extends NdTest {
    static NDArray units(long seed, int b, int e) {
        Random rng = new Random(seed);
        float[] v = new float[b * e];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextGaussian();
        NDArray x = m.create(v, new Shape(b, e));
        return x.div(x.norm(new int[] {1}, true));
    }

    static float maxDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    @Test
    void endpointsAreAAndBAndEveryPointInBetweenHasUnitNorm() {
        NDArray a = units(1, 3, 64), b = units(2, 3, 64);
        assertEquals(0f, maxDiff(UnitVectors.slerp(a, b, 0), a), 1e-6f);
        assertEquals(0f, maxDiff(UnitVectors.slerp(a, b, 1), b), 1e-6f);
        for (double t : new double[] {0.1, 0.25, 0.5, 0.9}) {
            for (float n : UnitVectors.slerp(a, b, t).norm(new int[] {1}).toFloatArray()) assertEquals(1f, n, 1e-5f, "t = " + t);
        }
    }

    @Test
    void theAngleGrowsLinearlyAlongTheArc() {
        NDArray a = m.create(new float[] {1, 0, 0}, new Shape(1, 3));
        NDArray b = m.create(new float[] {0, 1, 0}, new Shape(1, 3));
        float h = (float) Math.sqrt(0.5);
        assertArrayEquals(new float[] {h, h, 0}, UnitVectors.slerp(a, b, 0.5).toFloatArray(), 1e-6f,
                "the midpoint of a quarter circle, where the straight line's midpoint has norm 0.71");
        float[] third = UnitVectors.slerp(a, b, 1 / 3.0).toFloatArray();
        assertEquals(Math.PI / 6, Math.acos(third[0]), 1e-5, "a third of 90°");
    }

    @Test
    void nearlyEqualRowsStayPutAndOppositeOrLongRowsAreErrors() {
        NDArray a = units(3, 2, 8);
        assertEquals(0f, maxDiff(UnitVectors.slerp(a, a, 0.3), a), 1e-6f);
        Exception e = assertThrows(IllegalArgumentException.class, () -> UnitVectors.slerp(a, a.neg(), 0.5));
        assertTrue(e.getMessage().contains("opposite directions"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> UnitVectors.slerp(a, Nd.mul(a, 2), 0.5));
        assertTrue(e.getMessage().contains("slerp: b: row 0 has norm 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> UnitVectors.slerp(a, units(4, 2, 4), 0.5));
        assertTrue(e.getMessage().contains("(batch, width)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> UnitVectors.slerp(a, a, 1.5));
        assertTrue(e.getMessage().contains("[0, 1]"), e.getMessage());
    }

    @Test
    void theNullConditionIsTheOnlyAcceptedNonUnitRowAndOnlyWhenAllowed() {
        NDArray x = units(5, 3, 8).concat(m.zeros(new Shape(1, 8)), 0);
        UnitVectors.requireUnit(x, "x", true);
        Exception e = assertThrows(IllegalArgumentException.class, () -> UnitVectors.requireUnit(x, "x", false));
        assertTrue(e.getMessage().contains("x: row 3 has norm 0.0"), e.getMessage());
    }
}
