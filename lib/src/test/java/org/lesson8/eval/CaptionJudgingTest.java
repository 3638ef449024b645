package org.lesson8.eval;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.course.Course;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.SceneAttributes;
import org.lesson8.models.CaptionJudge;
import org.lesson8.train.CheckpointInfo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CaptionJudgingTest extends NdTest {
    private static final SceneAttributes RED_CIRCLE_LEFT_OF_BLUE_SQUARE = SceneAttributes.two(0, 0, SceneAttributes.HORIZONTAL, 2, 1);

    @Test
    void aCaptionIsCorrectWhenObjectsAndRelationAgreeInEitherPhrasing() {
        SceneAttributes seen = RED_CIRCLE_LEFT_OF_BLUE_SQUARE;
        assertTrue(CaptionJudging.captionCorrect(seen, "a red circle to the left of a blue square."));
        assertTrue(CaptionJudging.captionCorrect(seen, "there is a blue square to the right of a red circle."));
        assertFalse(CaptionJudging.captionCorrect(seen, "a blue circle to the left of a red square."), "colours swapped");
        assertFalse(CaptionJudging.captionCorrect(seen, "a red circle to the right of a blue square."), "relation reversed");
        assertFalse(CaptionJudging.captionCorrect(seen, "a red circle above a blue square."), "other axis");
        assertFalse(CaptionJudging.captionCorrect(seen, "a small red circle on the left."), "one object");
        SceneAttributes one = SceneAttributes.one(3, 2, 0, 4);
        assertTrue(CaptionJudging.captionCorrect(one, "a tiny yellow triangle in the middle."));
        assertFalse(CaptionJudging.captionCorrect(one, "a big yellow triangle in the middle."), "size");
        assertFalse(CaptionJudging.captionCorrect(one, "a tiny yellow triangle at the top."), "position");
        assertThrows(IllegalArgumentException.class, () -> CaptionJudging.captionCorrect(one, "a tiny yellow zebra in the middle."));
    }

    @Test
    void accuraciesCountOnlyTheAttributesThatApply() {
        SceneAttributes one = SceneAttributes.one(3, 2, 0, 4);
        List<SceneAttributes> truth = List.of(one, RED_CIRCLE_LEFT_OF_BLUE_SQUARE, RED_CIRCLE_LEFT_OF_BLUE_SQUARE, one);
        int[][] heads = {
                {0, 3, 2, 5, 3, 1, 0, 4},  // right (the inapplicable colour2, shape2, axis are ignored)
                {1, 0, 0, 2, 1, 0, 1, 1},  // right (size, position ignored)
                {1, 2, 0, 0, 1, 0, 0, 0},  // colours swapped: colour1 and colour2 wrong
                {0, 3, 2, 0, 0, 0, 1, 0}}; // size and position wrong
        List<String> captions = List.of("a small yellow triangle in the centre.", "a blue square to the right of a red circle.",
                "a red circle to the left of a blue square.", "a tiny yellow triangle in the middle.");
        CaptionJudging.Accuracy a = CaptionJudging.accuracy(truth, heads, captions);
        assertEquals(4, a.scenes());
        assertEquals(0.5, a.caption(), 1e-12);
        assertEquals(0.5, a.oneObjectCaption(), 1e-12);
        assertEquals(0.5, a.twoObjectCaption(), 1e-12);
        assertEquals(1.0, a.perAttribute().get("objects"), 1e-12);
        assertEquals(0.75, a.perAttribute().get("colour1"), 1e-12);
        assertEquals(1.0, a.perAttribute().get("shape1"), 1e-12);
        assertEquals(0.5, a.perAttribute().get("colour2"), 1e-12);
        assertEquals(1.0, a.perAttribute().get("axis"), 1e-12);
        assertEquals(0.5, a.perAttribute().get("size"), 1e-12);
        assertEquals(0.5, a.perAttribute().get("position"), 1e-12);
    }

    @Test
    void aJudgeWithOtherHeadsIsRefused() {
        try (NDManager sub = m.newSubManager()) {
            CaptionJudge other = new CaptionJudge(sub, new CaptionJudge.Config("two heads", 28, 3, 4, 8,
                    List.of(new CaptionJudge.Head("objects", 2), new CaptionJudge.Head("colour1", 6))), 0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CaptionJudging(other));
            assertTrue(e.getMessage().contains("CaptionJudge.scenes()"), e.getMessage());
        }
    }

    @Test
    void theShippedJudgeReadsHeldOutScenesCorrectly() throws Exception {
        Path file = Course.home().resolve("data").resolve("checkpoints").resolve(CaptionJudging.CHECKPOINT);
        assumeTrue(Files.isRegularFile(file), "no shipped judge yet: ./course train judge");
        try (NDManager sub = m.newSubManager()) {
            CaptionJudging judging = CaptionJudging.shipped(sub);
            CaptionedScenes scenes = new CaptionedScenes(7);
            CaptionJudging.Accuracy a = judging.measure(sub, scenes.scenes(CaptionedScenes.Split.HELD_OUT, 500));
            assertTrue(a.caption() >= 0.98, "held-out captions judged correct: " + a);
            List<CaptionedScenes.Scene> few = scenes.scenes(CaptionedScenes.Split.TEST, 20);
            boolean[] ok = judging.captionCorrect(sub, CaptionedScenes.images(sub, few), few.stream().map(CaptionedScenes.Scene::caption).toList());
            int right = 0;
            for (boolean b : ok) if (b) right++;
            assertTrue(right >= 19, right + " of 20 test scenes");
        }
        CheckpointInfo.CaptionJudge info = CheckpointInfo.read(file.resolveSibling("caption_judge.json"), CheckpointInfo.CaptionJudge.class);
        assertTrue(info.heldOut().captionCorrect() >= 0.98, "recorded held-out caption accuracy " + info.heldOut());
        assertEquals(2000, info.heldOut().scenes());
        assertEquals(SceneAttributes.NAMES, List.copyOf(info.heldOut().perAttribute().keySet()));
    }
}
