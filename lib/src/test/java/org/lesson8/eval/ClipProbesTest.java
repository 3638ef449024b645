package org.lesson8.eval;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.SceneAttributes;
import org.lesson8.data.SceneCaptions;
import org.lesson8.data.Tokenizer;
import org.lesson8.course.Course;
import org.lesson8.models.Clip;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.CheckpointInfo;

import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ClipProbesTest extends NdTest {
    @Test
    void everySceneOfTheGrammarOnceWithDistinctCanonicalCaptions() {
        List<SceneAttributes> all = ClipProbes.everyScene();
        assertEquals(6 * 4 * 2 * 5 + 6 * 4 * 5 * 3 * 2, all.size());
        assertEquals(all.size(), new HashSet<>(all).size());
        assertEquals(all.size(), new HashSet<>(all.stream().map(SceneCaptions::canonical).toList()).size());
        for (SceneAttributes a : all) assertEquals(a, SceneCaptions.parse(SceneCaptions.canonical(a)));
    }

    @Test
    void probesOfAnUntrainedClipStayNearChanceAndCountTheirScenes() {
        try (NDManager sub = m.newSubManager()) {
            Tokenizer tok = Tokenizer.textToImage();
            Clip clip = new Clip(sub, new Clip.Config("probe", 28, 7, 3, 16, 1, 2, tok.size(), 20, 16, 1, 2, 8), tok, 0);
            List<CaptionedScenes.Scene> scenes = new CaptionedScenes(1).scenes(CaptionedScenes.Split.TEST, 60);
            ClipProbes.SceneRetrieval r = ClipProbes.scenes(clip, sub, scenes);
            assertEquals(60, r.scenes());
            assertEquals(960, r.captions());
            assertEquals(1.0 / 960, r.chance(), 1e-12);
            assertTrue(r.imageToText() < 0.2, "an untrained CLIP cannot retrieve exact captions: " + r.imageToText());
            ClipProbes.Binding b = ClipProbes.binding(clip, sub, scenes);
            long two = scenes.stream().filter(s -> s.attributes().objects() == 2).count();
            assertEquals(two, b.scenes());
            assertTrue(b.colours() >= 0 && b.colours() <= 1 && b.order() >= 0 && b.order() <= 1);
        }
    }

    @Test
    void bindingRefusesOneObjectScenesOnly() {
        try (NDManager sub = m.newSubManager()) {
            Tokenizer tok = Tokenizer.textToImage();
            Clip clip = new Clip(sub, new Clip.Config("probe", 28, 7, 3, 16, 1, 2, tok.size(), 20, 16, 1, 2, 8), tok, 0);
            List<CaptionedScenes.Scene> one = new CaptionedScenes(1).scenes(CaptionedScenes.Split.HELD_OUT_ONE, 5);
            var e = assertThrows(IllegalArgumentException.class, () -> ClipProbes.binding(clip, sub, one));
            assertTrue(e.getMessage().contains("two-object"), e.getMessage());
        }
    }

    @Test
    void theShippedSceneClipRetrievesAndBindsHeldOutScenesFarAboveChance() throws Exception {
        try (NDManager sub = m.newSubManager()) {
            Clip clip = new Clip(sub, Clip.textToImage(), Tokenizer.textToImage(), 0);
            Checkpoint.load(clip, Course.checkpoint("clip_scenes.safetensors"));
            var held = new CaptionedScenes(7).scenes(CaptionedScenes.Split.HELD_OUT, 200);
            ClipProbes.SceneRetrieval r = ClipProbes.scenes(clip, sub, held);
            assertTrue(r.imageToText() > 100 * r.chance(), "held-out retrieval " + r.imageToText() + " vs chance " + r.chance());
            ClipProbes.Binding b = ClipProbes.binding(clip, sub, held);
            assertTrue(b.colours() > 0.9 && b.order() > 0.9, "binding " + b);
            var info = CheckpointInfo.read(Course.checkpoint("clip_scenes.json"), CheckpointInfo.ClipScenes.class);
            assertEquals("./course train clipScenes " + info.steps(), info.command());
        }
    }
}
