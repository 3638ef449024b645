package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CaptionJudgeTest extends NdTest {
    @Test
    void oneHeadPerAttributeAndAFeature() {
        try (NDManager sub = m.newSubManager()) {
            CaptionJudge j = new CaptionJudge(sub, CaptionJudge.scenes(), 1);
            assertEquals(j.config.parameterCount(), j.parameterCount());
            CaptionJudge.Output o = j.forward(sub.randomUniform(0, 1, new Shape(3, 3, 28, 28)));
            assertEquals(List.of(2, 6, 4, 6, 4, 2, 2, 5), o.logits().stream().map(l -> (int) l.getShape().get(1)).toList());
            for (NDArray l : o.logits()) assertEquals(3, l.getShape().get(0));
            assertEquals(new Shape(3, 128), o.feature().getShape());
            int[][] p = o.predictions();
            assertEquals(3, p.length);
            for (int h = 0; h < 8; h++) assertEquals(o.logits().get(h).get(1).argMax().getLong(), p[1][h]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> j.forward(sub.zeros(new Shape(2, 1, 28, 28))));
            assertTrue(e.getMessage().contains("(batch, 3, 28, 28)"), e.getMessage());
        }
    }

    @Test
    void theLossSumsTheCrossEntropiesOfTheHeadsThatApplyAndAveragesOverImages() {
        try (NDManager sub = m.newSubManager()) {
            CaptionJudge j = new CaptionJudge(sub, CaptionJudge.scenes(), 1);
            int[] classes = {2, 6, 4, 6, 4, 2, 2, 5};
            List<NDArray> logits = new ArrayList<>();
            for (int k : classes) logits.add(sub.zeros(new Shape(2, k)));
            // head "objects", image 0: logits (ln 3, 0) with label 0 -> p = 3/4
            logits.get(0).set(new ai.djl.ndarray.index.NDIndex("0, 0"), (float) Math.log(3));
            // head "colour2" of image 0 does not apply: a confident wrong logit must not count
            logits.get(3).set(new ai.djl.ndarray.index.NDIndex("0, 5"), 100f);
            CaptionJudge.Output out = new CaptionJudge.Output(logits, sub.zeros(new Shape(2, 128)));
            // image 0: one object (colour2, shape2, axis = -1); image 1: two objects (size, position = -1)
            NDArray labels = sub.create(new int[] {0, 1, 2, -1, -1, -1, 1, 4, 1, 0, 3, 2, 1, 1, -1, -1}, new Shape(2, 8));
            double image0 = Math.log(4 / 3.0) + Math.log(6) + Math.log(4) + Math.log(2) + Math.log(5);
            double image1 = Math.log(2) + Math.log(6) + Math.log(4) + Math.log(6) + Math.log(4) + Math.log(2);
            assertEquals((image0 + image1) / 2, j.loss(out, labels).getFloat(), 1e-5);
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> j.loss(out, sub.zeros(new Shape(2, 7))));
            assertTrue(shape.getMessage().contains("(batch, heads) = (2, 8)"), shape.getMessage());
            NDArray outside = sub.create(new int[] {0, 6, 2, -1, -1, -1, 1, 4, 1, 0, 3, 2, 1, 1, -1, -1}, new Shape(2, 8));
            IllegalArgumentException range = assertThrows(IllegalArgumentException.class, () -> j.loss(out, outside));
            assertTrue(range.getMessage().contains("label 6 of head colour1"), range.getMessage());
        }
    }

    @Test
    void anImageSizeThatCannotBePooledTwiceIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CaptionJudge.Config("odd", 30, 3, 8, 16, List.of(new CaptionJudge.Head("objects", 2))));
        assertTrue(e.getMessage().contains("multiple of 4"), e.getMessage());
    }
}
