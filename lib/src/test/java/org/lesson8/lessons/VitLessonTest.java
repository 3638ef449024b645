package org.lesson8.lessons;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class VitLessonTest {
    @Test
    void uniformAttentionDistanceIsTheMeanDistanceBetweenPatches() {
        // 2×2 grid, 1 px patches: from each patch the distances are 0, 1, 1, √2
        assertEquals((2 + Math.sqrt(2)) / 4, VitLesson.uniformAttentionDistance(2, 1), 1e-6);
        // scales with the patch size
        assertEquals(4 * VitLesson.uniformAttentionDistance(7, 1), VitLesson.uniformAttentionDistance(7, 4), 1e-5);
    }

    @Test
    void aHeadThatLooksOnlyAtItsOwnPatchHasDistanceZeroAndOneThatLooksAtTheNeighbourHasOnePatch() {
        int grid = 3, t = grid * grid + 1;
        float[] self = new float[t * t], right = new float[t * t];
        for (int q = 1; q < t; q++) {
            self[q * t + q] = 1;
            int r = (q - 1) / grid, c = (q - 1) % grid;
            int k = 1 + r * grid + (c + 1) % grid;   // the patch to the right, wrapping at the edge
            right[q * t + k] = 1;
        }
        assertEquals(0, VitLesson.meanAttentionDistance(self, 1, 1, grid, 4)[0], 1e-9);
        // 6 queries see their right neighbour (4 px), 3 wrap to the first column (8 px)
        assertEquals((6 * 4 + 3 * 8) / 9.0, VitLesson.meanAttentionDistance(right, 1, 1, grid, 4)[0], 1e-6);
    }
}
